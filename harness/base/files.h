/* files.h — whole-file reads and crash-safe writes, for everything the harness keeps on disk. */
#ifndef RS_BASE_FILES_H
#define RS_BASE_FILES_H

#include <stddef.h>

/* Read a whole file (at most max bytes) into a malloc'd NUL-terminated buffer; NULL on error
 * (errno set).  *len gets the length when len is not NULL. */
char *file_read_all(const char *path, size_t max, size_t *len);
/* Write data to dir/name atomically (temp file + fsync + rename + fsync of dir); -1 with
 * errno set on failure (the temp file is removed). */
int file_write_atomic(const char *dir, const char *name, const void *data, size_t len);
/* fsync a directory (after a rename into it); -1 with errno. */
int file_fsync_dir(const char *dir);
/* The folder temporary files go in: $TMPDIR if set and not empty, else /tmp. */
const char *file_tmpdir(void);
/* mkdir -p; -1 with errno on failure. */
int file_mkdir_p(const char *path);

#endif
