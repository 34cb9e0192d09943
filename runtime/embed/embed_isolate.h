/*
 * embed_isolate.h - internal to libwsrun: what an isolating ws_pool
 * (ws_pool_options.isolate, include/wsrun_embed.h) adds to a run, on top
 * of runtime/isolate/: the options checked, the plugin refused or
 * accepted, and the worker processes started after init and ended after
 * the pool's run.  embed.c calls these; it keeps the pool object.
 *
 * Must never start a thread or fork outside wsrt_embed_iso_begin, never
 * wait for a process the library did not fork, and never print what the
 * caller reads from ws_pool_error.
 */
#ifndef WSRT_EMBED_ISOLATE_H
#define WSRT_EMBED_ISOLATE_H

#include <stddef.h>
#include <stdint.h>

#include "isolate.h"
#include "run.h"

/* An isolating pool's settings (ws_pool_options). */
typedef struct wsrt_embed_iso {
    int mode;               /* 0 off, 1 on, 2 force */
    uint64_t timeout_ms;    /* 0: none */
    uint64_t worker_memory; /* bytes; 0: none */
    size_t stack_bytes;     /* each worker process's stack; 0: the default */
} wsrt_embed_iso;

/* ws_pool_options' isolation fields: 0 or EINVAL. */
int wsrt_embed_iso_check(uint32_t isolate, uint64_t timeout_ms, uint64_t worker_memory);

/* Before init: mode 1 refuses a plugin that does not say its run_one
 * survives in a worker process (-1, the command's words in err).  Under
 * isolation ws_shared_alloc's memory is then shared with the children. */
int wsrt_embed_iso_prepare(const wsrt_embed_iso *o, const ws_run *run, char *err,
                           size_t err_size);

/* After init, before any worker thread: fork the template, install the
 * proxies (isolate.h).  0, or -1 with the reason in err (other threads). */
int wsrt_embed_iso_begin(const wsrt_embed_iso *o, wsrt_isolation **iso, ws_run *run,
                         char *err, size_t err_size);

/* After the run's threads are joined: end the worker processes and the
 * template (reaped by pid) and restore run; 1 with why set when a worker
 * process failed at its end.  NULL iso: 0. */
int wsrt_embed_iso_end(wsrt_isolation *iso, ws_run *run, char *why, size_t why_size);

/* After finish: ws_shared_alloc's shared mappings freed (made while the
 * run was isolated; plain blocks of other pools' runs stay), and later
 * calls plain again.  A non-isolating run on another thread that calls
 * ws_shared_alloc between this run's prepare and its end gets a shared
 * mapping freed here: one more reason isolation wants no other thread. */
void wsrt_embed_iso_after_finish(const wsrt_embed_iso *o);

#endif
