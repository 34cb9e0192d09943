/*
 * embed_isolate.c - an isolating ws_pool's part of a run (embed_isolate.h):
 * the checks of ws_pool_options' isolation fields, the refusal of a plugin
 * that did not opt in, and the start and end of runtime/isolate/'s worker
 * processes around the pool's run.  The process work itself (fork, wait,
 * kill, limits) is runtime/isolate/'s, shared with `wsrun --isolate`.
 *
 * Must never install a signal handler or wait for any process but the
 * template (isolate.h), and never let a run's shared memory outlive its
 * finish.
 */
#include "embed_isolate.h"

#include <errno.h>
#include <stdio.h>

#include "shared.h"
#include "wsrun.h"

/* As wsrun's --timeout (0.001 to 1e9 s) and --worker-memory (>= 1M). */
#define TIMEOUT_MS_MAX UINT64_C(1000000000000)
#define WORKER_MEMORY_MIN (UINT64_C(1) << 20)

int wsrt_embed_iso_check(uint32_t isolate, uint64_t timeout_ms, uint64_t worker_memory)
{
    if (isolate > 2 || timeout_ms > TIMEOUT_MS_MAX)
        return EINVAL;
    if (worker_memory && worker_memory < WORKER_MEMORY_MIN)
        return EINVAL;
    /* As wsrun refuses --timeout and --worker-memory without --isolate:
     * only a worker process can be killed or limited alone. */
    if (!isolate && (timeout_ms || worker_memory))
        return EINVAL;
    return 0;
}

int wsrt_embed_iso_prepare(const wsrt_embed_iso *o, const ws_run *run, char *err,
                           size_t err_size)
{
    if (!o->mode)
        return 0;
    const ws_plugin *d = &run->desc;
    if (o->mode == 1 && !(d->flags & (WS_PLUGIN_ISOLATABLE | WS_PLUGIN_ISOLATE_DEFAULT))) {
        snprintf(err, err_size, "isolate: plugin %s is not marked isolatable "
                 "(WS_PLUGIN_ISOLATABLE): what its run_one keeps in the program's memory "
                 "would be lost in a worker process; isolate=2 runs it anyway", d->name);
        return -1;
    }
    wsrt_shared_set_isolated(1); /* ws_shared_alloc in init: MAP_SHARED */
    return 0;
}

int wsrt_embed_iso_begin(const wsrt_embed_iso *o, wsrt_isolation **iso, ws_run *run,
                         char *err, size_t err_size)
{
    *iso = NULL;
    if (!o->mode)
        return 0;
    /* No child_thread_start or child_temp_mirror: libwsrun has no crash
     * handler; a worker process records its temporaries itself. */
    wsrt_isolate_opts io = {.timeout_ms = o->timeout_ms, .worker_memory = o->worker_memory,
                            .stack_bytes = o->stack_bytes, .what = "isolate", .embedded = 1};
    return wsrt_isolate_start(iso, run, &io, err, err_size);
}

int wsrt_embed_iso_end(wsrt_isolation *iso, ws_run *run, char *why, size_t why_size)
{
    return wsrt_isolate_end(iso, run, why, why_size);
}

void wsrt_embed_iso_after_finish(const wsrt_embed_iso *o)
{
    if (o->mode)
        wsrt_shared_end_isolated();
}
