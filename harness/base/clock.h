/* clock.h — the harness's one clock: CLOCK_MONOTONIC, for elapsed times, progress lines and
 * watchdogs.  Verdicts never depend on it (budgets that decide pass/fail count trials). */
#ifndef RS_BASE_CLOCK_H
#define RS_BASE_CLOCK_H

#include <stdint.h>

int64_t mono_now_ns(void);  /* nanoseconds since an arbitrary fixed point */
double mono_now_s(void);    /* the same, in seconds */

#endif
