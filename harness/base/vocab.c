/* vocab.c — the words of vocab.h, from their tables. */
#include "vocab.h"

#include <string.h>

static const char *const mode_words[MODE__COUNT] = {
#define MODE(id, word, help) word,
#include "modes.def"
#undef MODE
};
static const char *const mode_helps[MODE__COUNT] = {
#define MODE(id, word, help) help,
#include "modes.def"
#undef MODE
};

const char *mode_name(run_mode m)
{
    return (unsigned)m < MODE__COUNT ? mode_words[m] : "?";
}

const char *mode_help(run_mode m)
{
    return (unsigned)m < MODE__COUNT ? mode_helps[m] : "?";
}

int mode_parse(const char *word, run_mode *out)
{
    for (int m = 0; word && m < MODE__COUNT; m++)
        if (strcmp(word, mode_words[m]) == 0) {
            *out = (run_mode)m;
            return 0;
        }
    return -1;
}

const char *mode_list(void)
{
    static const char list[] =
#define MODE(id, word, help) ", " word
#include "modes.def"
#undef MODE
        ;
    return list + 2;
}

static const char *const verdict_words[VERDICT__COUNT] = {
#define VERDICT_WORD_(id, word) word,
    VERDICTS(VERDICT_WORD_)
#undef VERDICT_WORD_
};

const char *verdict_name(verdict v)
{
    return (unsigned)v < VERDICT__COUNT ? verdict_words[v] : "?";
}

int verdict_parse(const char *word, verdict *out)
{
    for (int v = 0; word && v < VERDICT__COUNT; v++)
        if (strcmp(word, verdict_words[v]) == 0) {
            *out = (verdict)v;
            return 0;
        }
    return -1;
}

const char *build_variant(void)
{
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
    return "asan";
#elif __has_feature(thread_sanitizer)
    return "tsan";
#endif
#endif
#if defined(RS_COVERAGE)
    return "cov";
#elif defined(RS_DEBUG) && RS_DEBUG
    return "debug";
#elif defined(RS_USE_JEMALLOC) && RS_USE_JEMALLOC
    return "release";
#else
    return "unknown";
#endif
}
