/*
 * isolate.h - internal: running a plugin's per-worker calls in worker
 * processes (issue 24): `wsrun --isolate` and libwsrun's isolating pools
 * (ws_pool_options.isolate) both use it.  The plugin's per-worker calls
 * (worker_init, run_one, worker_fini) run in one child process per
 * worker, so a crash, exit, endless loop or runaway allocation in one
 * index fails that index only; the scheduler stays in the caller's
 * threads.  isolate.c holds these entry points, isolate_proxy.c the
 * callbacks the pool calls instead of the plugin's, isolate_slot.c the
 * parent's waits and clean-up, isolate_template.c the template process
 * and isolate_child.c the worker processes.
 *
 * Never starts a thread, never forks a process that has more than one
 * thread (the template is forked right after init while the process is
 * single-threaded, and every child is forked by the template), never
 * installs a signal handler in the calling process nor waits for any
 * process but the template it forked (by its pid), and prints nothing but
 * a worker process's failure at its end (a "wsrun: " line, as the pool
 * prints failed indices): what a caller must say comes back in buffers.  What differs
 * between the command and the library comes in wsrt_isolate_opts.
 */
#ifndef WSRT_ISOLATE_H
#define WSRT_ISOLATE_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"

typedef struct wsrt_isolation wsrt_isolation;

typedef struct wsrt_isolate_opts {
    uint64_t timeout_ms;    /* --timeout: kill an index running longer; 0 none */
    uint64_t worker_memory; /* --worker-memory: bytes per child; 0 none */
    size_t stack_bytes;     /* --stack: each child's worker stack; 0 the default */
    /* The caller's words for its own switch in messages ("--isolate",
     * "isolate"), and 1 for a library's caller, whose other threads may be
     * the program's own (the refusal's hint says so). */
    const char *what;
    int embedded;
    /* The command's per-process set-up handed down (NULL: none, as in
     * libwsrun): child_thread_start is each worker process's pool's
     * thread_start (wsrun's alternate signal stack); child_temp_mirror
     * makes the child's temporary-file table report each name to `mirror`
     * (wsrun's crash.c table).  Without it the child registers `mirror`
     * with ws_outfile_* itself (outfile.h), so a killed child's named
     * temporaries are still removed. */
    void (*child_thread_start)(void);
    void (*child_temp_mirror)(void (*mirror)(const char *path, int add));
} wsrt_isolate_opts;

/* The threads of this process (/proc/self/task), or 0 if unknown. */
unsigned wsrt_isolate_thread_count(void);

/* Right after init, before any thread starts: fork the template and make
 * run's per-worker callbacks proxies that drive the children (run->desc
 * and run->state change until wsrt_isolate_end).  0, or -1 with one line
 * (no "wsrun: ", no newline) in err: more than one thread (nothing
 * forked), no /proc, no memory, no fork. */
int wsrt_isolate_start(wsrt_isolation **out, ws_run *run, const wsrt_isolate_opts *opts,
                       char *err, size_t err_size);

/* After the pool's run (every child asked to end by worker_fini's proxy):
 * end the template, wait for it (waitpid on its pid only), remove what a
 * killed child left, restore run->desc and run->state, free.  Returns 1
 * if a child failed outside an index (worker_fini crashed: printed as a
 * "wsrun: " line, and the first one's words in why, which may be NULL),
 * else 0.  NULL ok. */
int wsrt_isolate_end(wsrt_isolation *iso, ws_run *run, char *why, size_t why_size);

/* Ask every running child to stop (a failure without --keep-going, a
 * worker_init failure: the pool's stop_raised hook calls it; Ctrl-C):
 * ws_stopping becomes true in its index, worker_init or worker_fini, and a
 * child handed a run after this runs none of it.  With `interrupt` (wsrun's
 * first SIGINT or SIGTERM only), the child also calls the plugin's
 * ws_on_interrupt function and a call blocked there returns EINTR; a
 * failure stop does neither.  Any thread; async-signal-safe.  NULL: the
 * isolation of the current run, if any. */
void wsrt_isolate_request_stop(wsrt_isolation *iso, int interrupt);

/* wsrun must end at once (a crash in wsrun, a second Ctrl-C, exit() in
 * init or finish): kill the template and every worker process, then
 * remove the named temporaries they had open.  Async-signal-safe. */
void wsrt_isolate_kill_from_signal(void);

#endif
