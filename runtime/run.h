/*
 * run.h - internal: the state of one wsrun run, shared by the CLI, the
 * option parser, the loader and the scheduler.  Never included by plugins;
 * nothing here is part of the ABI.
 */
#ifndef WSRUN_RUN_H
#define WSRUN_RUN_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "wsrun.h"

/* Exit codes, documented in the README and wsrun(1). */
enum {
    WS_EXIT_OK = 0,
    WS_EXIT_TASK_FAILED = 1, /* a task, or the plugin's finish, failed */
    WS_EXIT_USAGE = 2,       /* bad command line, plugin load or init failure */
};

/* One parsed plugin option value. */
typedef struct ws_optval {
    const ws_option *decl;
    int given; /* set with -o */
    int has_value; /* given, or the declaration has a default */
    int64_t i;
    double d;
    const char *s; /* text as given (or the default) */
    int b;
    int e;
} ws_optval;

/* Per-index failure policy. */
typedef struct ws_policy {
    int keep_going; /* run everything, report all failures at the end */
    unsigned retries; /* extra attempts before an index counts as failed */
} ws_policy;

struct ws_run {
    const ws_plugin *plugin; /* the descriptor, copied to a full v1 struct */
    ws_plugin desc;          /* fields beyond the plugin's struct_size are 0 */
    const char *plugin_path;
    void *dl_handle;

    ws_optval *opts; /* one per declared option, in table order */
    size_t n_opts;

    uint64_t count; /* WS_COUNT_UNSET until known */
    int count_given;
    uint64_t seed;
    unsigned jobs;
    int quiet;
    int stats;
    ws_policy policy;

    void *state; /* the plugin's, from init */
};

/* Message helpers (log.c). */
void ws_err(const char *fmt, ...) WS_PRINTF(1, 2);       /* "wsrun: ..." to stderr */
void ws_ctx_clear_error(ws_ctx *ctx);
const char *ws_ctx_error(const ws_ctx *ctx); /* last ws_fail text, or "" */

/* Every ws_ctx the runtime hands out is the first member of this, so
 * ws_fail can find the buffer for its message.  Workers extend it. */
#define WS_ERRBUF 1024
typedef struct ws_ctx_base {
    ws_ctx ctx;
    char errbuf[WS_ERRBUF];
} ws_ctx_base;

/* A context for the main thread's callbacks (init, finish). */
void ws_ctx_base_init(ws_ctx_base *b, const ws_run *run, uint32_t worker_id);

#endif
