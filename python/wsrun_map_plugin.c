/*
 * wsrun_map_plugin.c - the plugin wsrun.map runs on its libwsrun pool
 * (wsrun_ext.h): each index the pool's work stealing gives a worker thread
 * goes to that thread's worker process (wsrun_map_link.c); at the end a
 * thread takes its process's last answers and lets it end.
 *
 * Must never call Python (the pool's threads hold no interpreter lock),
 * never hand an index on after the run stopped, and never leave
 * worker_fini with its process's socket open (closing it ends the
 * process).
 */
#include "wsrun_ext.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static _Thread_local wspy_map_run *run_starting; /* for map_init, on this thread */

static int map_init(ws_ctx *ctx, void **state)
{
    (void)ctx;
    *state = run_starting;
    return WS_OK;
}

static int map_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    wspy_map_run *m = state;
    unsigned w = ctx->worker_id;
    wspy_map_worker *mw = &m->w[w];
    if (wspy_map_stopping(m))
        return WS_OK; /* the rest of the indices pass by unrun */
    wspy_map_push(mw, index);
    /* An idle process gets the index now; a busy one gets a batch once
     * the window is full (one write, and one batch of answers back). */
    if (mw->len - mw->unsent > 0 && mw->len < mw->window)
        return WS_OK;
    wspy_map_flush(m, w);
    while (mw->len >= mw->window && !wspy_map_stopping(m))
        wspy_map_pump(m, w, ctx);
    return WS_OK;
}

/* The worker's last answers; then its process ends (or is ended). */
static void map_worker_fini(void *state, ws_ctx *ctx)
{
    wspy_map_run *m = state;
    unsigned w = ctx->worker_id;
    wspy_map_worker *mw = &m->w[w];
    if (!wspy_map_stopping(m))
        wspy_map_flush(m, w);
    while (mw->len && mw->sock >= 0 && !wspy_map_stopping(m))
        wspy_map_pump(m, w, NULL); /* no range left to give */
    if (mw->sock >= 0) {
        if (wspy_map_stopping(m) && mw->pid > 0)
            kill(mw->pid, SIGKILL);
        close(mw->sock); /* the process reads the end and exits */
        mw->sock = -1;
    }
    free(mw->rbuf);
    mw->rbuf = NULL;
}

static const ws_plugin map_plugin = {
    WS_PLUGIN_HEADER,
    .name = "wsrun.map",
    .version = "1.0",
    .description = "wsrun.map of the Python module",
    .init = map_init,
    .run_one = map_run_one,
    .worker_fini = map_worker_fini,
};

int wspy_map_run_pool(ws_pool *pool, wspy_map_run *m)
{
    run_starting = m;
    int rc = ws_pool_run_plugin(pool, &map_plugin, m->count, NULL, 0, NULL);
    run_starting = NULL;
    return rc;
}
