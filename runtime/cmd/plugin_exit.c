/*
 * plugin_exit.c - the commands' answer to a plugin that calls exit() from
 * a callback (plugin_exit.h): a plugin that ends the process that way
 * skips finish and the reports, and its status (often 0) would say the run
 * succeeded.  So wsrun names the plugin, the callback and the index, cleans
 * up as after a crash and exits WSRT_EXIT_PLUGIN_EXIT.
 *
 * Must never change an exit made while no plugin callback runs on the
 * exiting thread (the commands returning from main, exit in a library),
 * and never be installed by the pool: the command layer owns this policy.
 */
#include "plugin_exit.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "crash.h"
#include "pool.h"
#include "run.h"

static _Atomic int installed;

static void on_plugin_exit(int status, void *arg)
{
    (void)arg;
    unsigned worker;
    uint64_t index;
    const char *plugin = wsrt_crash_plugin();
    const char *name = plugin ? plugin : "the plugin";
    if (wsrt_pool_where(&worker, &index)) {
        const char *callback = wsrt_pool_worker_callback();
        wsrt_pool_request_stop(wsrt_pool_of_caller()); /* this worker's own run */
        if (index != UINT64_MAX)
            wsrt_err("%s: called exit(%d) in run_one at index %llu (worker %u): exiting with "
                   "status %d (a plugin returns from its callbacks; ws_fail reports a failure)",
                   name, status, (unsigned long long)index, worker, WSRT_EXIT_PLUGIN_EXIT);
        else
            wsrt_err("%s: called exit(%d) in %s (worker %u): exiting with status %d (a plugin "
                   "returns from its callbacks; ws_fail reports a failure)",
                   name, status, callback ? callback : "a task of run_one", worker,
                   WSRT_EXIT_PLUGIN_EXIT);
    } else {
        const char *phase = wsrt_crash_phase();
        if (!phase)
            return; /* not inside a plugin callback: an ordinary exit */
        wsrt_err("%s: called exit(%d) in %s: exiting with status %d (a plugin returns from its "
               "callbacks; ws_fail reports a failure)",
               name, status, phase, WSRT_EXIT_PLUGIN_EXIT);
    }
    wsrt_crash_clean_up();
    _exit(WSRT_EXIT_PLUGIN_EXIT);
}

void wsrt_plugin_exit_guard_install(void)
{
    if (atomic_exchange(&installed, 1))
        return;
    /* on_exit, not atexit: the line says which status the plugin gave. */
    (void)on_exit(on_plugin_exit, NULL);
}
