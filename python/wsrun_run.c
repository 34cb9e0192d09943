/*
 * wsrun_run.c - the engine of wsrun.run (wsrun_ext.h): opens a plugin by
 * name or path with libwsrun's search and checks (ws_plugin_open, which
 * also makes libwsrun's symbols global: Python loaded this extension and
 * libwsrun RTLD_LOCAL), runs it on a pool of its own with the interpreter
 * lock released, and returns what happened for python/wsrun/__init__.py
 * to word (the exception types are chosen there).
 *
 * Must never call Python while the pool runs (the lock is released and
 * the plugin's threads hold none), never run the python plugin (its own
 * interpreter in this one crashes), and never leave the pool or the plugin
 * open when it returns.  A Ctrl-C during the run stops it: on the main
 * thread, while the pool runs, SIGINT's handler is one of ours that only
 * calls ws_pool_stop (async-signal-safe) and notes the signal; Python's
 * handler is put back before the lock is taken again, and the noted
 * SIGINT handed to it then, so KeyboardInterrupt is raised once, in the
 * caller, after finish (docs/python.md).  Never keep our handler after
 * the call, nor install it over SIG_IGN or SIG_DFL.
 */
#include "wsrun_ext.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsrun_embed.h"

static PyObject *stats_dict(const ws_pool_stats *st)
{
    return Py_BuildValue("{s:I,s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "jobs", (unsigned)st->jobs,
                         "count", (unsigned long long)st->count, "done",
                         (unsigned long long)st->done, "failed", (unsigned long long)st->failed,
                         "wall_ns", (unsigned long long)st->wall_ns, "tasks",
                         (unsigned long long)st->tasks, "steals", (unsigned long long)st->steals,
                         "steal_tries", (unsigned long long)st->steal_tries);
}

/* The options list as C strings; they borrow from `opts` (a list of str
 * the caller keeps alive during the call).  NULL with an exception set. */
static const char **option_texts(PyObject *opts, Py_ssize_t *n)
{
    *n = PyList_Size(opts);
    if (*n < 0)
        return NULL;
    const char **texts = PyMem_Calloc((size_t)*n + 1, sizeof *texts);
    if (!texts) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t k = 0; k < *n; k++) {
        Py_ssize_t len;
        texts[k] = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(opts, k), &len);
        if (!texts[k]) {
            PyMem_Free(texts);
            return NULL;
        }
        if ((size_t)len != strlen(texts[k])) {
            PyMem_Free(texts);
            PyErr_Format(PyExc_ValueError, "option %zd has a NUL character", k);
            return NULL;
        }
    }
    return texts;
}

/* The pool our SIGINT handler stops: set before the handler is installed
 * and cleared after it is removed, on the main thread only (one run at a
 * time there: the lock is held around both). */
static ws_pool *_Atomic sigint_pool;
static atomic_int sigint_handlers; /* handlers running now (any thread) */
static volatile sig_atomic_t sigint_seen;

static void on_sigint(int sig)
{
    (void)sig;
    sigint_seen = 1;
    /* seq_cst (this increment and load, run_stoppable's store of NULL and
     * load of the count): Dekker.  Either we find NULL (ws_pool_stop
     * ignores it), or run_stoppable sees us counted and waits before the
     * pool is destroyed: a handler on another thread may still be here
     * after our handler was removed. */
    atomic_fetch_add(&sigint_handlers, 1);
    ws_pool_stop(atomic_load(&sigint_pool));
    atomic_fetch_sub(&sigint_handlers, 1);
}

/* ws_pool_run_plugin with the lock released; on the main thread with
 * Python's SIGINT handler in place, a Ctrl-C stops the run (ws_pool_stop)
 * and is handed back to Python after it (PyErr_SetInterruptEx). */
static int run_stoppable(ws_pool *pool, const ws_plugin *plugin, uint64_t count,
                         const char **texts, size_t n_opts, ws_pool_stats *st, int main_thread)
{
    struct sigaction ours, python;
    int hooked = 0;
    /* Python's handler is in place unless signal.SIG_IGN or SIG_DFL is
     * (then Ctrl-C is ignored, or ends the process, as asked). */
    if (main_thread && sigaction(SIGINT, NULL, &python) == 0 &&
        ((python.sa_flags & SA_SIGINFO) ||
         (python.sa_handler != SIG_IGN && python.sa_handler != SIG_DFL))) {
        memset(&ours, 0, sizeof ours);
        ours.sa_handler = on_sigint;
        sigfillset(&ours.sa_mask);
        /* SA_RESTART: a plugin's read or open goes on instead of failing
         * its index with EINTR; the stop reaches it through ws_stopping. */
        ours.sa_flags = SA_RESTART | SA_ONSTACK;
        sigint_seen = 0;
        atomic_store(&sigint_pool, pool); /* before the handler can run */
        hooked = sigaction(SIGINT, &ours, NULL) == 0;
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = ws_pool_run_plugin(pool, plugin, count, texts, n_opts, st);
    Py_END_ALLOW_THREADS
    if (hooked) {
        sigaction(SIGINT, &python, NULL);
        /* After the restore: a SIGINT now goes to Python's handler.  Wait
         * for ours still running elsewhere (see on_sigint; brief). */
        atomic_store(&sigint_pool, NULL);
        while (atomic_load(&sigint_handlers) != 0)
            sched_yield();
        if (sigint_seen)
            PyErr_SetInterruptEx(SIGINT); /* raised by PyErr_CheckSignals below */
    }
    return rc;
}

PyObject *wspy_run(PyObject *self, PyObject *args)
{
    (void)self;
    const char *name;
    PyObject *count_obj, *opts;
    unsigned jobs;
    unsigned long long seed, stack_bytes;
    int quiet, main_thread;
    if (!PyArg_ParseTuple(args, "sOIKKpO!p", &name, &count_obj, &jobs, &seed, &stack_bytes,
                          &quiet, &PyList_Type, &opts, &main_thread))
        return NULL;
    uint64_t count = WS_COUNT_UNSET;
    if (count_obj != Py_None) {
        count = PyLong_AsUnsignedLongLong(count_obj);
        if (count == (uint64_t)-1 && PyErr_Occurred())
            return NULL;
    }
    Py_ssize_t n_opts;
    const char **texts = option_texts(opts, &n_opts);
    if (!texts)
        return NULL;

    char err[2048];
    ws_plugin_file *file;
    Py_BEGIN_ALLOW_THREADS
    file = ws_plugin_open(name, err, sizeof err);
    Py_END_ALLOW_THREADS
    /* The python plugin starts an interpreter of its own (libpython,
     * a second copy beside the one running us): it would crash. */
    if (file && strcmp(ws_plugin_file_plugin(file)->name, "python") == 0) {
        ws_plugin_close(file);
        file = NULL;
        snprintf(err, sizeof err, "plugin %s: the python plugin cannot run inside Python (it "
                 "embeds an interpreter of its own): call wsrun.map instead", name);
    }
    if (!file) {
        PyMem_Free(texts);
        return Py_BuildValue("(isOO)", -1, err, Py_None, Py_None);
    }
    ws_pool_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.jobs = jobs;
    o.seed = seed;
    o.stack_bytes = stack_bytes;
    o.quiet = quiet ? 1 : 0;
    ws_pool *pool = ws_pool_create_with(&o);
    if (!pool) {
        int e = errno;
        ws_plugin_close(file);
        PyMem_Free(texts);
        if (e == ENOMEM)
            return PyErr_NoMemory();
        PyErr_Format(PyExc_ValueError, "cannot make a pool of %u jobs with a stack of %llu "
                     "bytes: %s", jobs, stack_bytes, strerror(e));
        return NULL;
    }
    const ws_plugin *plugin = ws_plugin_file_plugin(file);
    ws_pool_stats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    int rc = run_stoppable(pool, plugin, count, texts, (size_t)n_opts, &st, main_thread);
    PyObject *stats = stats_dict(&st);
    PyObject *result = stats ? Py_BuildValue("(isNs)", rc, ws_pool_error(pool), stats,
                                             plugin->name)
                             : NULL;
    ws_pool_destroy(pool);
    ws_plugin_close(file);
    PyMem_Free(texts);
    /* A Ctrl-C during the run (ours, handed over above, or one Python's
     * handler noted before or after ours was in place): raise it now, the
     * run being over (nothing is left running). */
    if (result && PyErr_CheckSignals() < 0) {
        Py_DECREF(result);
        return NULL;
    }
    return result;
}
