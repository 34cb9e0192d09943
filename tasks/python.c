/*
 * python.c - the built-in "python" plugin: calls a function of a Python
 * script for every index, in Debian's CPython 3.11 embedded here
 * (docs/python.md).  The script is imported once, in init; a worker forked
 * from that process (--isolate) repairs the interpreter with
 * PyOS_AfterFork_Child before its first index.  Before each index Python's
 * `random` and numpy's global RandomState get the index's own state
 * (python_seed.h), so results never depend on -j or on which worker ran
 * an index.  The Python half (python/wsrun_boot.py) loads the script and
 * words the errors.
 *
 * Ctrl-C: wsrun's interrupt (ws_on_interrupt) trips Python's SIGINT
 * flag (PyErr_SetInterruptEx), so the running index gets KeyboardInterrupt
 * as a script would; it ends as "interrupted", without a traceback.
 *
 * Must never run two indices at once in one process (one interpreter
 * lock, one global random state: a `serial` mutex is held across each
 * index), never let Python keep a signal handler of its own (wsrun owns
 * SIGINT: Python's table gets default_int_handler, the OS handler stays
 * wsrun's), and never finalize the interpreter (numpy cannot be unloaded).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wsrun.h"
#include "python_seed.h"
#include "xxh64.h"

static const char python_boot_src[] =
#include "python_boot.h"
    ;

static const ws_option python_options[] = {
    {"script", WS_OPT_STRING, NULL, "the Python file to import (its __main__ block does not run)",
     NULL, 0, 0},
    {"function", WS_OPT_STRING, NULL,
     "callable attribute of the script, called as NAME(index); its return value is ignored",
     NULL, 0, 0},
    {"args", WS_OPT_STRING, NULL, "sys.argv[1:], split like a shell", NULL, 0, 0},
    {"init", WS_OPT_STRING, NULL, "callable attribute called once per worker before its first index",
     NULL, 0, 0},
    {"reseed", WS_OPT_BOOL, "on",
     "seed random and numpy.random from (--seed, index) before each index", NULL, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

typedef struct python_state {
    PyObject *boot;    /* the namespace python_boot.h ran in */
    PyObject *fn;      /* the script's NAME */
    PyObject *init_fn; /* -o init, or NULL */
    wstask_pyseed seeder;
    /* Held across every Python call of a worker: indices one at a time. */
    pthread_mutex_t serial;
    PyThreadState *main_ts; /* init's thread state, released at init's end */
    pid_t pid;              /* the process init ran in; another: forked */
    int forked_repaired;    /* this process ran PyOS_AfterFork_Child */
    uint64_t seed;
    /* This process runs indices (set under `serial` before the first):
     * an interrupt here raises KeyboardInterrupt in them.  `interrupted`:
     * the interrupt function ran (perhaps before, or in the process this
     * one was forked from).  Atomic, not volatile: the handler may run on
     * another thread (python_interrupt). */
    atomic_int runs_indices;
    atomic_int interrupted;
    /* One full traceback per process: exchange 0 -> 1 under `serial`. */
    atomic_int traceback_shown;
    char script[4096];
} python_state;

typedef struct python_worker {
    PyThreadState *ts;
    PyGILState_STATE gil;
} python_worker;

/* Debian's numpy extension expects the Py* symbols process-wide, and
 * wsrun opens plugins RTLD_LOCAL: promote the libpython this plugin links
 * to RTLD_GLOBAL.  The handle is kept for ever: libpython stays loaded. */
static int python_global_symbols(ws_ctx *ctx)
{
    if (dlopen("libpython3.11.so.1.0", RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL))
        return WS_OK;
    return ws_fail(ctx, "cannot make libpython3.11's symbols global: %s", dlerror());
}

/* Children of a forked run use one core each: BLAS or OpenMP threads in
 * every worker would oversubscribe the machine.  Before numpy loads. */
static void python_one_thread_blas(void)
{
    setenv("OPENBLAS_NUM_THREADS", "1", 0);
    setenv("OMP_NUM_THREADS", "1", 0);
}

/* The interpreter: Debian's /usr/bin/python3, or the virtualenv's when
 * VIRTUAL_ENV names one made from it (its pyvenv.cfg sets sys.prefix). */
static int python_start(ws_ctx *ctx)
{
    if (Py_IsInitialized())
        return WS_OK;
    char program[4200] = "/usr/bin/python3";
    const char *venv = getenv("VIRTUAL_ENV");
    if (venv && *venv) {
        snprintf(program, sizeof program, "%s/bin/python3", venv);
        if (access(program, X_OK) != 0)
            return ws_fail(ctx, "VIRTUAL_ENV=%s: no %s", venv, program);
    }
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, program);
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st))
        return ws_fail(ctx, "cannot start Python (%s): %s", program,
                       st.err_msg ? st.err_msg : "unknown error");
    return WS_OK;
}

/* Python's SIGINT entry becomes default_int_handler (a tripped SIGINT then
 * raises KeyboardInterrupt), while the OS handler stays wsrun's: Python's
 * signal.signal sets both, so wsrun's is put back, with SIGINT blocked
 * meanwhile.  Main thread (signal.signal refuses others), interpreter lock
 * held. */
static int python_arm_interrupt(ws_ctx *ctx)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    struct sigaction keep;
    sigaction(SIGINT, NULL, &keep);
    int bad = PyRun_SimpleString("import signal as _s\n"
                                 "_s.signal(_s.SIGINT, _s.default_int_handler)\n"
                                 "del _s\n");
    sigaction(SIGINT, &keep, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return bad ? ws_fail(ctx, "cannot set up Python's KeyboardInterrupt") : WS_OK;
}

/* ws_on_interrupt's function: in a signal handler.  PyErr_SetInterruptEx
 * is async-signal-safe; the running index sees KeyboardInterrupt at its
 * next bytecode or when its blocked call returns EINTR. */
static void python_interrupt(void *arg)
{
    python_state *s = arg;
    /* seq_cst, both (lock-free, so signal-safe): the Dekker pair with
     * python_runs_indices, so that one of the two trips the flag. */
    atomic_store(&s->interrupted, 1);
    if (atomic_load(&s->runs_indices))
        PyErr_SetInterruptEx(SIGINT);
}

/* This process runs indices from here on, the interpreter repaired after
 * a fork (PyOS_AfterFork_Child clears Python's tripped signals): an
 * interrupt that came before (a worker process forked, or still in
 * worker_init, when wsrun was interrupted) raises now, in -o init or the
 * first index, as one that comes later does. */
static void python_runs_indices(python_state *s)
{
    atomic_store(&s->runs_indices, 1); /* seq_cst: see python_interrupt */
    if (atomic_load(&s->interrupted))
        PyErr_SetInterruptEx(SIGINT);
}

/* The pending exception is KeyboardInterrupt raised by wsrun's interrupt. */
static int python_interrupted(void)
{
    return PyErr_ExceptionMatches(PyExc_KeyboardInterrupt);
}

/* The pending exception, taken: its traceback attached, the error cleared. */
static PyObject *python_take_exception(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && tb)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}

/* boot.describe(exc, script) into buf; a fixed text if that fails too. */
static void python_describe(python_state *s, PyObject *exc, char *buf, size_t size)
{
    snprintf(buf, size, "an exception that cannot be described");
    PyObject *fn = PyDict_GetItemString(s->boot, "describe"); /* borrowed */
    PyObject *text = fn && exc ? PyObject_CallFunction(fn, "Os", exc, s->script) : NULL;
    const char *utf8 = text ? PyUnicode_AsUTF8(text) : NULL;
    if (utf8)
        snprintf(buf, size, "%s", utf8);
    Py_XDECREF(text);
    PyErr_Clear();
}

static void python_show(python_state *s, PyObject *exc)
{
    PyObject *fn = PyDict_GetItemString(s->boot, "show");
    PyObject *r = fn && exc ? PyObject_CallFunction(fn, "Os", exc, s->script) : NULL;
    Py_XDECREF(r);
    PyErr_Clear();
}

/* The pending exception becomes ctx's one-line message; the first in this
 * process also prints its traceback. */
static int python_fail(python_state *s, ws_ctx *ctx, int show_traceback)
{
    if (python_interrupted()) { /* Ctrl-C: wsrun says so, once */
        PyErr_Clear();
        return ws_fail(ctx, "interrupted (KeyboardInterrupt)");
    }
    PyObject *exc = python_take_exception();
    char line[2048];
    python_describe(s, exc, line, sizeof line);
    int first = 0;
    /* relaxed suffices: every access happens under `serial`. */
    if (show_traceback && atomic_compare_exchange_strong_explicit(
                              &s->traceback_shown, &first, 1, memory_order_relaxed,
                              memory_order_relaxed))
        python_show(s, exc);
    Py_XDECREF(exc);
    return ws_fail(ctx, "%s", line);
}

static int python_load(python_state *s, ws_ctx *ctx)
{
    PyObject *main = PyImport_AddModule("__main__"); /* borrowed */
    s->boot = PyDict_New();
    if (!main || !s->boot ||
        PyDict_SetItemString(s->boot, "__builtins__", PyEval_GetBuiltins()) != 0) {
        PyErr_Print();
        return ws_fail(ctx, "cannot set up the interpreter");
    }
    PyObject *r = PyRun_String(python_boot_src, Py_file_input, s->boot, s->boot);
    if (!r) {
        PyErr_Print();
        return ws_fail(ctx, "the plugin's own Python code failed (wsrun_boot.py)");
    }
    Py_DECREF(r);
    const char *init = ws_opt_str(ctx, "init");
    PyObject *load = PyDict_GetItemString(s->boot, "load");
    PyObject *got = PyObject_CallFunction(load, "sszzK", s->script, ws_opt_str(ctx, "args"),
                                          ws_opt_str(ctx, "function"), init,
                                          (unsigned long long)s->seed);
    if (!got) {
        PyObject *exc = python_take_exception();
        /* Exceptions the script raised while running show their traceback;
         * a file that does not parse or import says enough in one line. */
        if (exc && !PyErr_GivenExceptionMatches(exc, PyExc_SyntaxError) &&
            !PyErr_GivenExceptionMatches(exc, PyExc_ImportError) &&
            !PyErr_GivenExceptionMatches(exc, PyExc_FileNotFoundError))
            python_show(s, exc);
        char line[2048];
        python_describe(s, exc, line, sizeof line);
        Py_XDECREF(exc);
        return ws_fail(ctx, "%s", line);
    }
    if (PyUnicode_Check(got)) {
        int rc = ws_fail(ctx, "%s", PyUnicode_AsUTF8(got));
        Py_DECREF(got);
        return rc;
    }
    s->fn = PyTuple_GetItem(got, 0);
    s->init_fn = PyTuple_GetItem(got, 1);
    Py_INCREF(s->fn);
    if (s->init_fn == Py_None)
        s->init_fn = NULL;
    else
        Py_INCREF(s->init_fn);
    Py_DECREF(got);
    return WS_OK;
}

/* The script's contents are part of the run's identity: --resume refuses a
 * journal written by another version of the script.  (Modules it imports
 * are not: docs/python.md says so.) */
static int python_key_script(ws_ctx *ctx, const char *script)
{
    FILE *f = fopen(script, "rb");
    if (!f)
        return ws_fail(ctx, "cannot read script %s: %s", script, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (buf && len == cap) {
            unsigned char *grown = realloc(buf, cap *= 2);
            if (!grown)
                free(buf);
            buf = grown;
        }
        if (!buf)
            break;
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return ws_fail(ctx, "cannot read script %s", script);
    }
    char key[64];
    snprintf(key, sizeof key, "script-xxh64=%016" PRIx64, wstask_xxh64(buf, len, 0));
    free(buf);
    return ws_set_run_key(ctx, key);
}

static int python_init(ws_ctx *ctx, void **state)
{
    const char *script = ws_opt_str(ctx, "script");
    if (!script || !*script)
        return ws_fail(ctx, "-o script=FILE.py is required");
    if (!ws_opt_str(ctx, "function"))
        return ws_fail(ctx, "-o function=NAME is required");
    if (strlen(script) >= sizeof ((python_state *)0)->script)
        return ws_fail(ctx, "-o script: path too long");
    if (python_key_script(ctx, script) != WS_OK)
        return WS_ERR;
    python_state *s = calloc(1, sizeof *s);
    if (!s)
        return ws_fail(ctx, "out of memory");
    snprintf(s->script, sizeof s->script, "%s", script);
    s->seed = ws_run_seed(ctx);
    s->pid = getpid();
    pthread_mutex_init(&s->serial, NULL);
    python_one_thread_blas();
    if (python_global_symbols(ctx) != WS_OK || python_start(ctx) != WS_OK) {
        free(s);
        return WS_ERR;
    }
    /* From here the interpreter's lock is held by this thread. */
    int rc = python_arm_interrupt(ctx);
    if (rc == WS_OK)
        rc = python_load(s, ctx);
    if (rc == WS_OK && ws_opt_bool(ctx, "reseed"))
        rc = wstask_pyseed_setup(&s->seeder, s->boot, ctx);
    s->main_ts = PyEval_SaveThread();
    if (rc != WS_OK) {
        /* The interpreter stays (it cannot be unloaded); its objects go. */
        PyEval_RestoreThread(s->main_ts);
        Py_CLEAR(s->fn);
        Py_CLEAR(s->init_fn);
        Py_CLEAR(s->boot);
        wstask_pyseed_clear(&s->seeder);
        PyEval_SaveThread();
        pthread_mutex_destroy(&s->serial);
        free(s);
        return WS_ERR;
    }
    ws_on_interrupt(ctx, python_interrupt, s);
    *state = s;
    return WS_OK;
}

/* Enter Python on this thread; in a process forked after init, first
 * repair the interpreter (its lock, its threads, os.register_at_fork). */
static void python_enter(python_state *s, python_worker *w)
{
    if (!s->forked_repaired && getpid() != s->pid) {
        /* The fork happened while no thread held the interpreter lock
         * (init released it), so this process may take it; the thread
         * state it runs on is init's. */
        PyEval_RestoreThread(s->main_ts);
        PyOS_AfterFork_Child();
        s->forked_repaired = 1;
        s->pid = getpid();
        w->ts = s->main_ts;
        w->gil = PyGILState_UNLOCKED;
    } else if (w->ts) {
        PyEval_RestoreThread(w->ts);
    } else {
        w->gil = PyGILState_Ensure();
        w->ts = PyThreadState_Get();
    }
    python_runs_indices(s);
}

static int python_worker_init(void *state, ws_ctx *ctx)
{
    python_state *s = state;
    python_worker *w = calloc(1, sizeof *w);
    if (!w)
        return ws_fail(ctx, "out of memory");
    ctx->worker_data = w;
    pthread_mutex_lock(&s->serial);
    python_enter(s, w);
    int rc = WS_OK;
    if (s->init_fn) {
        PyObject *r = PyObject_CallNoArgs(s->init_fn);
        if (r)
            Py_DECREF(r);
        else
            rc = python_fail(s, ctx, 1);
    }
    PyEval_SaveThread();
    pthread_mutex_unlock(&s->serial);
    return rc;
}

static int python_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    python_state *s = state;
    python_worker *w = ctx->worker_data;
    pthread_mutex_lock(&s->serial);
    if (!w->ts)
        python_enter(s, w); /* a fork between worker_init and here */
    else if (!s->forked_repaired && getpid() != s->pid)
        python_enter(s, w);
    else
        PyEval_RestoreThread(w->ts);
    int rc = WS_OK;
    if (wstask_pyseed_apply(&s->seeder, s->seed, index) != 0) {
        rc = python_fail(s, ctx, 0);
    } else {
        PyObject *arg = PyLong_FromUnsignedLongLong(index);
        PyObject *r = arg ? PyObject_CallOneArg(s->fn, arg) : NULL;
        Py_XDECREF(arg);
        if (r)
            Py_DECREF(r);
        else
            rc = python_fail(s, ctx, 1);
    }
    PyEval_SaveThread();
    pthread_mutex_unlock(&s->serial);
    return rc;
}

/* Flush what print() left in the buffers, for a worker process that is
 * about to exit as much as for the last lines of a run. */
static void python_flush(python_state *s)
{
    /* An interrupt that came between indices would raise in flush(). */
    if (PyErr_CheckSignals() != 0)
        PyErr_Clear();
    PyObject *r = PyObject_CallNoArgs(PyDict_GetItemString(s->boot, "flush"));
    Py_XDECREF(r);
    PyErr_Clear();
}

static void python_worker_fini(void *state, ws_ctx *ctx)
{
    python_state *s = state;
    python_worker *w = ctx->worker_data;
    if (!w)
        return;
    pthread_mutex_lock(&s->serial);
    if (w->ts) {
        PyEval_RestoreThread(w->ts);
        python_flush(s);
        if (w->ts == s->main_ts && s->forked_repaired)
            PyEval_SaveThread();
        else
            PyGILState_Release(w->gil);
    }
    pthread_mutex_unlock(&s->serial);
    free(w);
    ctx->worker_data = NULL;
}

static int python_finish(void *state, int run_status, ws_ctx *ctx)
{
    (void)run_status;
    python_state *s = state;
    if (!s)
        return WS_OK;
    ws_on_interrupt(ctx, NULL, NULL); /* before s goes */
    PyGILState_STATE g = PyGILState_Ensure();
    python_flush(s);
    Py_CLEAR(s->fn);
    Py_CLEAR(s->init_fn);
    Py_CLEAR(s->boot);
    wstask_pyseed_clear(&s->seeder);
    PyGILState_Release(g);
    pthread_mutex_destroy(&s->serial);
    free(s);
    return WS_OK;
}

static const ws_plugin python_plugin = {
    WS_PLUGIN_HEADER_FLAGS(WS_PLUGIN_RESUMABLE | WS_PLUGIN_ISOLATABLE | WS_PLUGIN_ISOLATE_DEFAULT),
    .name = "python",
    .version = "1.0",
    .description = "call a Python function for every index (-o script=FILE.py -o function=NAME)",
    .options = python_options,
    .init = python_init,
    .run_one = python_run_one,
    .finish = python_finish,
    .worker_init = python_worker_init,
    .worker_fini = python_worker_fini,
};

WS_PLUGIN_DEFINE(python_plugin)
