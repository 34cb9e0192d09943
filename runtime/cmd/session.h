/*
 * session.h - internal: one wsrun session, from parsed arguments to exit
 * status (session.c): --version, --list-plugins, --help and --scaling are
 * answered here; otherwise the plugin is loaded, its -o options applied,
 * and init, the pool, finish, --stats and the report files follow in that
 * order.  Failures follow docs/design.md, "Errors: one convention": every
 * user error is one "wsrun: ..." line and an exit status of run.h.
 *
 * wsrun calls it with no job; wsrun-mpi hands it its MPI job as a
 * wsrt_job_hooks.  The session never reads a global of its own: all it
 * knows is in its arguments and its wsrt_session.  Never included by
 * plugins.
 */
#ifndef WSRT_SESSION_H
#define WSRT_SESSION_H

#include <stdint.h>

#include "args.h"
#include "pool.h"
#include "run.h"

typedef struct wsrt_session wsrt_session;

/* A larger job this process is one part of (wsrun-mpi: one MPI rank).  All
 * callbacks are set; `arg` is handed to each.  The order is fixed:
 * before_run, then (if it returned 0) after_pool, then always after_finish
 * - unless the session ends before before_run (bad option, plugin not
 * found, init failed, --help): then none is called, and the job must still
 * learn of it from the session's return. */
typedef struct wsrt_job_hooks {
    void *arg;
    const char *program;  /* the command's name in --help ("wsrun-mpi") */
    int no_progress;      /* never draw the progress line in this process */
    /* When set, --journal is refused with this reason (exit 2). */
    const char *journal_refused;
    /* When set, --trace and --stats-json files get it before their
     * extension: trace.json -> trace.<tag>.json (one file per rank). */
    const char *report_tag;
    /* The progress line's "done" count: the whole job's. */
    uint64_t (*progress_done)(void *arg);
    /* After init succeeded and the count (and --shard range) is known,
     * before the pool: may set run->hooks, and may keep `s` to call
     * wsrt_session_pool_progress / wsrt_session_request_stop from its own
     * threads until after_pool.  Returns 0 to run, or the exit status to
     * end with, without running (finish then sees a failed run). */
    int (*before_run)(void *arg, wsrt_session *s, ws_run *run);
    /* After the pool stopped (pool_rc: the pool's return; signo: the
     * interrupting signal or 0): returns the run status for finish. */
    int (*after_pool)(void *arg, ws_run *run, const wsrt_pool_result *result, int pool_rc,
                      int signo);
    /* After finish, with this process's exit status: returns the status
     * to exit with.  Replaces --stats' per-worker table. */
    int (*after_finish)(void *arg, ws_run *run, const wsrt_pool_result *result, int status);
} wsrt_job_hooks;

/* The whole session for parsed `args` (argv: the command line, for a
 * --scaling study's runs); job NULL for plain wsrun.  Returns the process
 * exit status (WSRT_EXIT_* of run.h, 128+N after signal N). */
int wsrt_session_main(const wsrt_args *args, char **argv, const wsrt_job_hooks *job);

/* For a job's threads while the pool runs (between before_run and
 * after_pool): indices this process finished so far, and a stop of this
 * process's pool (as a failed task would).  Any thread, any time. */
uint64_t wsrt_session_pool_progress(wsrt_session *s);
/* 1 while the session's pool runs and that run is stopping (a failure or
 * a stop request); any thread. */
int wsrt_session_pool_stopping(wsrt_session *s);
void wsrt_session_request_stop(wsrt_session *s);

#endif
