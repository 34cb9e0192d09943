/*
 * wsrun_ext.h - internal to the `wsrun` Python extension (python/wsrun_*.c, built
 * as build/python/wsrun/_wsrun*.so): the functions the module's table
 * lists, wsrun.map's protocol between the caller, the template process
 * and the worker processes (wsrun_map*.c, wsrun_worker.c), and the
 * caller's run state shared by the wsrun_map*.c files.
 *
 * Each function of the module lives in a file of its own and is declared
 * here; wsrun_module.c only lists them.  Must never hold Python objects
 * across processes other than through fork's copy of the caller's memory.
 */
#ifndef WSPY_EXT_H
#define WSPY_EXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "wsrun.h"
#include "wsrun_embed.h"
/* The python plugin's reseeding (static functions: each file uses some). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "python_seed.h"
#pragma GCC diagnostic pop

/* _wsrun.map(func, items, count, jobs, seed, keep_going, retries,
 * timeout_ns, progress, wsrun_module, rng_namespace, failure) (wsrun_map.c):
 * the engine of wsrun.map (python/wsrun/__init__.py words the rest). */
PyObject *wspy_map(PyObject *self, PyObject *args);

/* _wsrun.run(name_or_path, count_or_None, jobs, seed, stack_bytes,
 * quiet, options, main_thread) -> (status, message, stats, plugin_name)
 * (wsrun_run.c): one plugin run in-process (main_thread: the caller is
 * Python's main thread, so a Ctrl-C stops the run).  status is ws_pool_run_plugin's 0, 1 or 2, or -1
 * when the plugin could not be opened (message: ws_plugin_open's; stats
 * and plugin_name None). */
PyObject *wspy_run(PyObject *self, PyObject *args);

/* The progress line (wsrun_progress.c): what it shows comes from `src`,
 * called from its thread at any time. */
typedef struct wspy_progress_source {
    uint64_t (*done)(void *arg);
    unsigned (*busy)(void *arg);
    void *arg;
} wspy_progress_source;

typedef struct wspy_progress {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop; /* under lock */
    int started;
    uint64_t total, start_ns;
    wspy_progress_source src;
} wspy_progress;

/* 0, or -1 when no thread could start (then there is no line). */
int wspy_progress_start(wspy_progress *p, uint64_t total, wspy_progress_source src);
/* Stop the redraws, draw the final count and erase the line. */
void wspy_progress_end(wspy_progress *p);

/* Messages, each a header and `len` bytes, on the socket between one
 * worker thread of the caller and its worker process.  The caller sends
 * bare uint64_t indices the other way, in batches; the process answers in
 * batches too (all the indices it had read, or 64 KiB of answers), in
 * the order it got them. */
enum {
    WSPY_MSG_HELLO = 1, /* child: index = its pid; first message */
    WSPY_MSG_OK = 2,    /* child: index done, payload = pickled result */
    WSPY_MSG_EXC = 3,   /* child: index raised, payload = the failure (pickled) */
    WSPY_MSG_DEAD = 4,  /* template: the child ended, index = its wait status */
};

typedef struct wspy_msg {
    uint64_t index;
    uint32_t kind;
    uint32_t len;
} wspy_msg;

/* Per worker thread, in memory shared with the processes (MAP_SHARED,
 * mapped before the template is forked): what its process runs now.  The
 * process writes both words (relaxed: the caller reads `current` only
 * after the process has ended, which the template's DEAD message, sent
 * after waitpid, orders; `started_ns` is a clock reading for the timeout,
 * where a stale value only delays the kill by one wait). */
typedef struct wspy_slot {
    _Atomic uint64_t current;    /* the index it runs; UINT64_MAX: none */
    _Atomic uint64_t started_ns; /* CLOCK_MONOTONIC when `current` began; 0: between */
    char pad[48];                /* a cache line each */
} wspy_slot;

/* What a worker process needs, in the caller's memory before the template
 * is forked (the children read their copy). */
typedef struct wspy_job {
    PyObject *func;
    PyObject *items;   /* the sequence, or NULL: func(index) */
    PyObject *dumps;   /* pickle.dumps */
    PyObject *failure; /* wsrun._failure(exc, what) -> bytes */
    PyObject *module;  /* the wsrun package: its `seed` is set in each child */
    uint64_t seed;
    wstask_pyseed seeder;
    wspy_slot *slots; /* one per worker thread */
} wspy_job;

/* wsrun.map's caller side: the run, split by what each part does:
 * wsrun_map.c (the call: set-up, the template's fork, the pool, the
 * results), wsrun_map_plugin.c (the plugin the pool runs: what a worker
 * thread does with an index), wsrun_map_link.c (a worker thread's link to
 * its worker process: the window of queued indices, sending, answers, a
 * process's end). */
#define WSPY_QCAP 64 /* most indices queued in one process */

/* Per index: no answer yet, answered, raised, its process ended in it. */
enum { WSPY_ST_NONE = 0, WSPY_ST_OK = 1, WSPY_ST_EXC = 2, WSPY_ST_DIED = 3 };
/* wspy_map_run.stop: running, stopped by a failure, by Ctrl-C. */
enum { WSPY_STOP_NO = 0, WSPY_STOP_FAILED = 1, WSPY_STOP_INTERRUPT = 2 };

typedef struct wspy_map_worker {
    int sock;      /* to its process; -1: none */
    pid_t pid;     /* the process (its HELLO) */
    wspy_slot *slot;
    /* The indices handed to the process, oldest first: the first
     * len - unsent were sent, the last `unsent` wait for the next send. */
    uint64_t q[WSPY_QCAP];
    unsigned head, len, unsent, window;
    uint64_t began_ns; /* when the answers counted in `window` began */
    int timed_out;     /* this thread killed the process for the timeout */
    _Atomic int busy;  /* len > 0, for the progress line */
    unsigned ended;    /* processes of this worker that ended so far */
    char *rbuf;        /* answers read, from roff to rlen not yet taken */
    size_t roff, rlen, rcap;
} wspy_map_worker;

typedef struct wspy_map_run {
    wspy_job *job;
    uint64_t count;
    unsigned jobs;
    int keep_going;
    int progress;
    unsigned retries;
    uint64_t timeout_ns;
    int cmd_fd;   /* to the template */
    int stop_fd;  /* an eventfd: readable once the run stops */
    int sig_fd;   /* SIGINT, blocked in every thread of the run; -1: not ours */
    _Atomic int stop;
    _Atomic uint64_t done;
    /* Per index, written only by the thread whose process answered it. */
    char **payload;
    uint32_t *payload_len;
    uint8_t *status;
    uint8_t *attempts;
    int *wstatus; /* WSPY_ST_DIED: how the process ended; -1: the template is gone */
    uint8_t *timed;
    wspy_map_worker *w;
} wspy_map_run;

static inline int wspy_map_stopping(wspy_map_run *m)
{
    /* relaxed: the flag carries no data; the eventfd write (request_stop,
     * wsrun_map_link.c) wakes waiters. */
    return atomic_load_explicit(&m->stop, memory_order_relaxed) != WSPY_STOP_NO;
}

/* wsrun_map_link.c, each on worker w's own thread only.  Queue an index
 * for the worker's process (sent by the next wspy_map_flush). */
void wspy_map_push(wspy_map_worker *mw, uint64_t index);
/* Send the queued indices in one write, starting a process if there is
 * none; without a process, they fail. */
void wspy_map_flush(wspy_map_run *m, unsigned w);
/* Wait for answers (or the stop) and take all that came in one read;
 * with `steal` (run_one's ctx), answer thieves meanwhile. */
void wspy_map_pump(wspy_map_run *m, unsigned w, ws_ctx *steal);

/* wsrun_map_plugin.c: run m's indices on `pool` (ws_pool_run_plugin's
 * status). */
int wspy_map_run_pool(ws_pool *pool, wspy_map_run *m);

/* The template's life (wsrun_worker.c): forks one worker process per
 * request read from cmd_fd (a uint32_t worker number with the child's
 * socket attached), reports each child's end on that socket (DEAD), and
 * when cmd_fd ends kills the children left and exits.  Never returns. */
__attribute__((noreturn)) void wspy_template_main(wspy_job *job, int cmd_fd, unsigned jobs);

#endif
