"""The campaign's durable state: an append-only journal of JSON lines, fsync'd per record.

Record types (one JSON object per line, key "type"):
  campaign  the first line: the matrix (scenarios, corpus, modes, variants, seeds, cell size,
            budget, shard) and the commit; a resume takes the matrix from here, never from flags
  cell      a finished cell: its index, trials run, errors, worker seconds, the findings with
            their signatures, and the campaign's active time when it finished
  bucket    a bucket's reproducer: the shrunk program, its replay command and reproduction rate
  history   the campaign's history row was appended (so a resume never appends it twice)
A cell that was running when the campaign died has no record: a resume runs it again from
nothing (its folder is swept first), so nothing is lost and nothing is counted twice.
A torn last line (the process died inside a write) is ignored; any other bad line is an error.
"""
import json
import os
import shutil
import tempfile

JOURNAL = "journal.jsonl"


class JournalError(Exception):
    pass


def atomic_write(path, data):
    """Write data (text or bytes) to path through a temporary file in the same folder (a
    .tmp-* name, which sweep() removes if we die), fsync'd, given the umask's permissions
    (mkstemp makes it 0600) and renamed."""
    folder = os.path.dirname(os.path.abspath(path))
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".tmp-" + os.path.basename(path) + "-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def sweep(out):
    """Remove what interrupted writes left: .tmp-* files and folders anywhere under out."""
    removed = 0
    for dirpath, dirnames, filenames in os.walk(out):
        for name in list(dirnames):
            if name.startswith(".tmp-"):
                shutil.rmtree(os.path.join(dirpath, name), ignore_errors=True)
                dirnames.remove(name)
                removed += 1
        for name in filenames:
            if name.startswith(".tmp-"):
                os.unlink(os.path.join(dirpath, name))
                removed += 1
    return removed


class Journal:
    def __init__(self, out):
        self.path = os.path.join(out, JOURNAL)
        self.f = None

    def exists(self):
        return os.path.exists(self.path)

    def read(self):
        """All complete records, in order."""
        records = []
        with open(self.path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        # the text after the last newline is a torn write (or empty)
        for number, line in enumerate(lines[:-1], 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as e:
                raise JournalError("%s:%d: not a JSON record: %s" % (self.path, number, e))
        if not records or records[0].get("type") != "campaign":
            raise JournalError("%s:1: the first record is not the campaign's matrix" % self.path)
        return records

    def open(self):
        # cut a torn last line off so that the next record starts on a line of its own
        if os.path.exists(self.path):
            with open(self.path, "rb") as f:
                data = f.read()
            keep = data[: data.rfind(b"\n") + 1]
            if len(keep) != len(data):
                with open(self.path, "r+b") as f:
                    f.truncate(len(keep))
                    os.fsync(f.fileno())
        self.f = open(self.path, "a", encoding="utf-8")

    def append(self, record):
        self.f.write(json.dumps(record, sort_keys=True) + "\n")
        self.f.flush()
        os.fsync(self.f.fileno())

    def close(self):
        if self.f:
            self.f.close()
            self.f = None
