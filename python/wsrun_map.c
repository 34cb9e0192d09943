/*
 * wsrun_map.c - the caller's side of wsrun.map (wsrun_ext.h), the call
 * itself: takes the arguments, forks the template while the call has
 * started no thread, then runs the indices on a libwsrun pool
 * (wsrun_map_plugin.c) whose worker threads each drive one worker process
 * (wsrun_worker.c) over a socket (wsrun_map_link.c), with SIGINT read from
 * a signalfd; at the end turns the answers into Python objects.
 *
 * Must never call Python while the pool runs (the worker threads hold no
 * interpreter lock; results wait as bytes until the pool is done), never
 * count an index done unless its process answered it, and never leave the
 * template or a worker process running when it returns.
 */
#include "wsrun_ext.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wsrun_embed.h"

/* The run's results as Python objects: (results, failures), where results
 * holds the pickled bytes (None where none) and failures a list of
 * (index, kind, payload, wait status, timed out). */
static PyObject *collect(wspy_map_run *m)
{
    PyObject *res = PyList_New((Py_ssize_t)m->count);
    PyObject *fails = PyList_New(0);
    if (!res || !fails)
        goto fail;
    for (uint64_t i = 0; i < m->count; i++) {
        PyObject *b = Py_None;
        Py_INCREF(b);
        if (m->status[i] == WSPY_ST_OK) {
            Py_DECREF(b);
            b = PyBytes_FromStringAndSize(m->payload[i], m->payload_len[i]);
            if (!b)
                goto fail;
        } else if (m->status[i] != WSPY_ST_NONE) {
            PyObject *t = Py_BuildValue("(Kiy#ii)", (unsigned long long)i, m->status[i],
                                        m->payload[i] ? m->payload[i] : "",
                                        (Py_ssize_t)m->payload_len[i], m->wstatus[i],
                                        m->timed[i]);
            if (!t || PyList_Append(fails, t) != 0) {
                Py_XDECREF(t);
                Py_DECREF(b);
                goto fail;
            }
            Py_DECREF(t);
        }
        PyList_SET_ITEM(res, (Py_ssize_t)i, b);
    }
    PyObject *out = Py_BuildValue("(OO)", res, fails);
    Py_DECREF(res);
    Py_DECREF(fails);
    return out;
fail:
    Py_XDECREF(res);
    Py_XDECREF(fails);
    return NULL;
}

static void free_run(wspy_map_run *m)
{
    if (m->payload)
        for (uint64_t i = 0; i < m->count; i++)
            free(m->payload[i]);
    free(m->payload);
    free(m->payload_len);
    free(m->status);
    free(m->attempts);
    free(m->wstatus);
    free(m->timed);
    free(m->w);
    munmap(m->job->slots, m->jobs * sizeof(wspy_slot));
}

static uint64_t progress_done(void *arg)
{
    wspy_map_run *m = arg;
    /* relaxed: a count to show. */
    return atomic_load_explicit(&m->done, memory_order_relaxed);
}

static unsigned progress_busy(void *arg)
{
    wspy_map_run *m = arg;
    unsigned n = 0;
    for (unsigned w = 0; w < m->jobs; w++)
        /* relaxed: a count to show. */
        n += (unsigned)atomic_load_explicit(&m->w[w].busy, memory_order_relaxed);
    return n;
}

/* Run the pool with SIGINT blocked in every thread of it (the signal is
 * read from sig_fd instead); the interpreter lock is released. */
static int run_pool(wspy_map_run *m, char *err, size_t err_size)
{
    sigset_t intr, old;
    sigemptyset(&intr);
    sigaddset(&intr, SIGINT);
    pthread_sigmask(SIG_BLOCK, &intr, &old);
    m->sig_fd = sigismember(&old, SIGINT) ? -1 : signalfd(-1, &intr, SFD_CLOEXEC | SFD_NONBLOCK);
    int rc = WS_POOL_REFUSED;
    wspy_progress line;
    memset(&line, 0, sizeof line);
    if (m->progress)
        wspy_progress_start(&line, m->count,
                            (wspy_progress_source){progress_done, progress_busy, m});
    ws_pool *pool = ws_pool_create(m->jobs, m->job->seed);
    if (!pool) {
        snprintf(err, err_size, "cannot make the pool of %u worker threads: %s", m->jobs,
                 strerror(errno));
    } else {
        rc = wspy_map_run_pool(pool, m);
        if (rc != WS_POOL_OK)
            snprintf(err, err_size, "%s", ws_pool_error(pool));
        ws_pool_destroy(pool);
    }
    wspy_progress_end(&line);
    if (m->sig_fd >= 0)
        close(m->sig_fd);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

PyObject *wspy_map(PyObject *self, PyObject *args)
{
    (void)self;
    wspy_job job;
    memset(&job, 0, sizeof job);
    unsigned long long count, seed, timeout_ns;
    unsigned jobs, retries;
    int keep_going, progress;
    PyObject *items, *rng_ns;
    if (!PyArg_ParseTuple(args, "OOKIKpIKpOOOO", &job.func, &items, &count, &jobs, &seed,
                          &keep_going, &retries, &timeout_ns, &progress, &job.module, &rng_ns,
                          &job.failure, &job.dumps))
        return NULL;
    job.items = items == Py_None ? NULL : items;
    job.seed = seed;
    if (!PyDict_Check(rng_ns))
        return PyErr_Format(PyExc_TypeError, "rng namespace must be a dict");
    /* random's and numpy's state, found now: the children use their copy. */
    PyObject *random = PyImport_ImportModule("random");
    if (!random)
        return NULL;
    Py_DECREF(random);
    if (wstask_pyseed_setup(&job.seeder, rng_ns, NULL) != WS_OK)
        return PyErr_Format(PyExc_RuntimeError, "cannot set up random's state");

    job.slots = mmap(NULL, jobs * sizeof(wspy_slot), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (job.slots == MAP_FAILED) {
        wstask_pyseed_clear(&job.seeder);
        return PyErr_SetFromErrno(PyExc_OSError);
    }

    wspy_map_run m;
    memset(&m, 0, sizeof m);
    m.job = &job;
    m.count = count;
    m.jobs = jobs;
    m.keep_going = keep_going;
    m.progress = progress;
    m.retries = retries > 255 ? 255 : retries;
    m.timeout_ns = timeout_ns;
    m.cmd_fd = m.stop_fd = m.sig_fd = -1;
    m.payload = calloc(count, sizeof *m.payload);
    m.payload_len = calloc(count, sizeof *m.payload_len);
    m.status = calloc(count, 1);
    m.attempts = calloc(count, 1);
    m.wstatus = calloc(count, sizeof *m.wstatus);
    m.timed = calloc(count, 1);
    m.w = calloc(jobs, sizeof *m.w);
    if (!m.payload || !m.payload_len || !m.status || !m.attempts || !m.wstatus || !m.timed ||
        !m.w) {
        free_run(&m);
        wstask_pyseed_clear(&job.seeder);
        return PyErr_NoMemory();
    }
    for (unsigned w = 0; w < jobs; w++) {
        m.w[w].sock = -1;
        m.w[w].window = 1;
        m.w[w].slot = &job.slots[w];
    }

    int sv[2];
    m.stop_fd = eventfd(0, EFD_CLOEXEC);
    if (m.stop_fd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        if (m.stop_fd >= 0)
            close(m.stop_fd);
        free_run(&m);
        wstask_pyseed_clear(&job.seeder);
        return NULL;
    }
    /* Output buffered now would be written again by every process. */
    PyObject *r = PyObject_CallMethod(job.module, "_flush", NULL);
    Py_XDECREF(r);
    PyErr_Clear();
    fflush(NULL);
    PyOS_BeforeFork();
    pid_t tpl = fork();
    if (tpl == 0) {
        PyOS_AfterFork_Child();
        close(sv[0]);
        wspy_template_main(&job, sv[1], jobs);
    }
    PyOS_AfterFork_Parent();
    int fork_errno = errno;
    close(sv[1]);
    if (tpl < 0) {
        close(sv[0]);
        close(m.stop_fd);
        free_run(&m);
        wstask_pyseed_clear(&job.seeder);
        errno = fork_errno;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    m.cmd_fd = sv[0];

    char err[512] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = run_pool(&m, err, sizeof err);
    close(m.cmd_fd); /* the template ends the processes left, then itself */
    int st;
    while (waitpid(tpl, &st, 0) < 0 && errno == EINTR)
        ;
    Py_END_ALLOW_THREADS
    close(m.stop_fd);
    wstask_pyseed_clear(&job.seeder);

    PyObject *out = NULL;
    /* relaxed: the pool's threads are joined. */
    if (atomic_load_explicit(&m.stop, memory_order_relaxed) == WSPY_STOP_INTERRUPT) {
        /* Ctrl-C: the signal goes to Python's handler once, as if it had
         * come now (KeyboardInterrupt, or what the program set). */
        pthread_kill(pthread_self(), SIGINT);
        if (PyErr_CheckSignals() == 0 && !PyErr_Occurred())
            PyErr_SetNone(PyExc_KeyboardInterrupt);
    } else if (rc != WS_POOL_OK) {
        PyErr_Format(PyExc_RuntimeError, "wsrun.map: %s", err[0] ? err : "the pool failed");
    } else {
        out = collect(&m);
    }
    free_run(&m);
    return out;
}
