/*
 * run.h - internal: the state of one wsrun run, shared by the CLI, the
 * option parser, the loader and the scheduler.  Never included by plugins;
 * nothing here is part of the ABI.
 */
#ifndef WSRT_RUN_H
#define WSRT_RUN_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "wsrun.h"

/* Exit codes, documented in the README and wsrun(1). */
enum {
    WSRT_EXIT_OK = 0,
    WSRT_EXIT_TASK_FAILED = 1, /* a task, or the plugin's finish, failed */
    WSRT_EXIT_USAGE = 2,       /* bad command line, plugin load or init failure */
    WSRT_EXIT_PLUGIN_EXIT = 3, /* the plugin called exit() in a callback (plugin_exit.h) */
};

/* What a failure without a message says instead, with how to give one. */
#define WSRT_NO_MESSAGE "(the plugin gave no message: return ws_fail(ctx, \"...\") gives one)"

/* One parsed plugin option value. */
typedef struct wsrt_optval {
    const ws_option *decl;
    int given; /* set with -o */
    int has_value; /* given, or the declaration has a default */
    int64_t i;
    double d;
    const char *s; /* text as given (or the default) */
    int b;
    int e;
} wsrt_optval;

/* Per-index failure policy. */
typedef struct wsrt_policy {
    int keep_going; /* run everything, report all failures at the end */
    unsigned retries; /* extra attempts before an index counts as failed */
} wsrt_policy;

/* Hooks for journal/resume and for distributed runs; all optional.  They
 * cost nothing when unset: the pool then uses its plain index loop. */
typedef struct wsrt_run_hooks {
    /* Blocks of indices handed out dynamically (MPI): when set, the pool
     * runs [begin, end) blocks from next_block until it returns 0, instead
     * of [range_begin, range_end).  Called on worker 0 only, serially. */
    int (*next_block)(void *arg, uint64_t *begin, uint64_t *end);
    void *block_arg;
    /* Resume: indices whose bit is set (bit i of word i / 64) are skipped
     * and not counted as run. */
    const uint64_t *skip_bits;
    /* Journal: called on the worker after index i succeeded. */
    void (*index_done)(void *arg, unsigned worker, uint64_t index);
    void *done_arg;
    /* --isolate (issue 24, runtime/isolate/isolate.h): when set, the index
     * loop hands runs of indices to run_block instead of calling run_one
     * for each, and splits for thieves between runs.  It runs indices
     * from `begin` in order, at most to `end`, stopping where it likes;
     * *next is the first index it did not finish: [begin, *next)
     * succeeded.  WS_OK, or a failure of index *next (message in ctx).
     * Retries still call run_one. */
    int (*run_block)(void *arg, ws_ctx *ctx, uint64_t begin, uint64_t end, uint64_t *next);
    void *block_run_arg;
    /* --isolate: called by wsrt_pool_request_stop once it has raised the
     * stop on the run's workers (a failure without --keep-going, a
     * worker_init failure, Ctrl-C), so the stop reaches code the pool
     * does not run itself (the worker processes' ws_stopping).  Any
     * thread, also a signal handler: it must be async-signal-safe. */
    void (*stop_raised)(void *arg);
    void *stop_arg;
    /* --isolate: called by a thief right after it raised a request for
     * work on worker `victim` (the request bit's rise only), so a victim
     * waiting for its worker process in run_block wakes and splits at
     * once instead of looking on a timer.  block_run_arg is its arg.  Any
     * worker thread, during a run. */
    void (*request_raised)(void *arg, uint32_t victim);
} wsrt_run_hooks;

struct ws_run {
    const ws_plugin *plugin; /* the descriptor, copied to a full v1 struct */
    ws_plugin desc;          /* fields beyond the plugin's struct_size are 0 */
    const char *plugin_path;
    void *dl_handle;

    wsrt_optval *opts; /* one per declared option, in table order */
    size_t n_opts;

    uint64_t count; /* WS_COUNT_UNSET until known */
    /* The indices this process runs, when `ranged`: [range_begin,
     * range_end), a subset of [0, count) (--shard).  Otherwise all. */
    int ranged;
    uint64_t range_begin, range_end;
    wsrt_run_hooks hooks;
    int trace; /* record wsrt_trace_event logs (--trace) */
    int count_given;
    uint64_t seed;
    unsigned jobs;
    int quiet;
    int stats;
    wsrt_policy policy;

    void *state; /* the plugin's, from init */
    /* ws_set_run_key's text (ABI 1.4): part of the journal's key; "" if none. */
    char run_key[WS_RUN_KEY_MAX + 1];
};

/* wsrt_err, wsrt_errf, wsrt_ctx_base and the rest of log.c: in log.h, included
 * here because nearly every user of the run state reports through them. */
#endif
