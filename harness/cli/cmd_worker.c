/* cmd_worker.c — `refstorm worker`, the hidden command the supervisor starts: the command
 * line as the supervisor wrote it becomes worker_args (supervise/worker.h). */
#include "commands.h"

#include "worker.h"

/* `refstorm worker`: the command line, as the supervisor wrote it, for worker_main */
int cmd_worker(const cli_opts *o)
{
    worker_args a = {
        .file = o->target, .result_fd = (int)o->result_fd, .first_trial = o->first_trial,
        .trials = o->trials, .seed = o->seed, .mode = o->mode, .depth = (int)o->depth,
        .bugs = o->bugs, .trace = o->trace, .time_s = o->time_s,
        .selftest_crash = o->selftest_crash, .selftest_hang = o->selftest_hang,
    };
    return worker_main(&a);
}
