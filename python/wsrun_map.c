/*
 * wsrun_map.c - the caller's side of wsrun.map (wsrun_ext.h): forks the
 * template while the call has started no thread, then runs the indices on
 * a libwsrun pool whose worker threads each drive one worker process
 * (wsrun_worker.c) over a socket.  A thread hands its process the indices
 * the pool's work stealing gives it, keeping a window of them queued there
 * that grows while answers come back quickly (so cheap indices cost one
 * message each way and no wait) and shrinks for slow ones (so a thief
 * finds work left); the oldest queued index is the one the process runs,
 * so a process that dies is pinned to that index.
 *
 * Must never call Python while the pool runs (the worker threads hold no
 * interpreter lock; results wait as bytes until the pool is done), never
 * count an index done unless its process answered it, and never leave the
 * template or a worker process running when it returns.
 */
#include "wsrun_ext.h"

#include <errno.h>
#include <poll.h>
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
#include <time.h>
#include <unistd.h>

#include "wsrun_embed.h"

#define QCAP 64                        /* most indices queued in one process */
#define FAST_NS 1000000u               /* answers within 1 ms: a deeper window */
#define SLOW_NS 8000000u               /* over 8 ms: a shallower one */

enum { ST_NONE = 0, ST_OK = 1, ST_EXC = 2, ST_DIED = 3 };
enum { STOP_NO = 0, STOP_FAILED = 1, STOP_INTERRUPT = 2 };

typedef struct map_worker {
    int sock;      /* to its process; -1: none */
    pid_t pid;     /* the process (its HELLO) */
    wspy_slot *slot;
    /* The indices handed to the process, oldest first: the first
     * len - unsent were sent, the last `unsent` wait for the next send. */
    uint64_t q[QCAP];
    unsigned head, len, unsent, window;
    uint64_t began_ns; /* when the answers counted in `window` began */
    int timed_out;     /* this thread killed the process for the timeout */
    _Atomic int busy;  /* len > 0, for the progress line */
    unsigned ended;    /* processes of this worker that ended so far */
    char *rbuf;        /* answers read, from roff to rlen not yet taken */
    size_t roff, rlen, rcap;
} map_worker;

typedef struct map_run {
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
    int *wstatus; /* ST_DIED: how the process ended; -1: the template is gone */
    uint8_t *timed;
    map_worker *w;
} map_run;

static _Thread_local map_run *run_starting; /* for map_init, on this thread */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void request_stop(map_run *m, int why)
{
    int expected = STOP_NO;
    /* relaxed: the flag carries no data; the eventfd write wakes waiters. */
    if (atomic_compare_exchange_strong_explicit(&m->stop, &expected, why, memory_order_relaxed,
                                                memory_order_relaxed) ||
        why == STOP_INTERRUPT) {
        if (why == STOP_INTERRUPT)
            atomic_store_explicit(&m->stop, why, memory_order_relaxed);
        uint64_t one = 1;
        ssize_t n = write(m->stop_fd, &one, sizeof one);
        (void)n;
    }
}

static int stopping(map_run *m)
{
    /* relaxed: see request_stop. */
    return atomic_load_explicit(&m->stop, memory_order_relaxed) != STOP_NO;
}

static int read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* Ask the template for worker w's process.  0, or -1: none can start. */
static int start_process(map_run *m, unsigned w)
{
    map_worker *mw = &m->w[w];
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    /* relaxed: the process is not there yet; the template's fork orders it. */
    atomic_store_explicit(&mw->slot->current, UINT64_MAX, memory_order_relaxed);
    atomic_store_explicit(&mw->slot->started_ns, 0, memory_order_relaxed);
    uint32_t id = w;
    char ctl[CMSG_SPACE(sizeof(int))];
    memset(ctl, 0, sizeof ctl);
    struct iovec iov = {&id, sizeof id};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                        .msg_controllen = sizeof ctl};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
    ssize_t n;
    do
        n = sendmsg(m->cmd_fd, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    close(sv[1]);
    wspy_msg h;
    if (n != (ssize_t)sizeof id || read_full(sv[0], &h, sizeof h) != 0 ||
        h.kind != WSPY_MSG_HELLO) {
        close(sv[0]);
        return -1;
    }
    mw->sock = sv[0];
    mw->pid = (pid_t)h.index;
    mw->timed_out = 0;
    mw->roff = mw->rlen = 0;
    return 0;
}

static void record(map_run *m, uint64_t index, int status, char *payload, uint32_t len)
{
    free(m->payload[index]);
    m->payload[index] = payload;
    m->payload_len[index] = len;
    m->status[index] = (uint8_t)status;
    if (status == ST_OK) {
        /* relaxed: a count for the progress line only. */
        atomic_fetch_add_explicit(&m->done, 1, memory_order_relaxed);
    } else if (!m->keep_going) {
        request_stop(m, STOP_FAILED);
    }
}

/* Index i failed; 1 when it is to run again (retries). */
static int failed_again(map_run *m, uint64_t index)
{
    if (m->attempts[index] < m->retries && !stopping(m)) {
        m->attempts[index]++;
        return 1;
    }
    return 0;
}

static void push(map_worker *mw, uint64_t index)
{
    if (mw->len == 0)
        mw->began_ns = now_ns();
    mw->q[(mw->head + mw->len) % QCAP] = index;
    mw->len++;
    mw->unsent++;
    /* relaxed: read by the progress line only. */
    atomic_store_explicit(&mw->busy, 1, memory_order_relaxed);
}

static uint64_t pop(map_worker *mw)
{
    uint64_t i = mw->q[mw->head];
    mw->head = (mw->head + 1) % QCAP;
    mw->len--;
    if (mw->unsent > mw->len)
        mw->unsent = mw->len;
    /* relaxed: read by the progress line only. */
    atomic_store_explicit(&mw->busy, mw->len > 0, memory_order_relaxed);
    return i;
}

static void flush_indices(map_run *m, unsigned w);

/* The process is gone (wstatus; -1: the template is gone too).  The index
 * its slot names fails (or runs again with retries); every other queued
 * index goes to a fresh process: those after it never ran, those before
 * it ran but their answers, held back, died with the process. */
static void process_died(map_run *m, unsigned w, int wstatus)
{
    map_worker *mw = &m->w[w];
    close(mw->sock);
    mw->sock = -1;
    mw->pid = 0;
    mw->ended++;
    mw->roff = mw->rlen = 0;
    int timed_out = mw->timed_out;
    mw->timed_out = 0;
    /* relaxed: see wspy_slot (the DEAD message came after the end). */
    uint64_t at = atomic_load_explicit(&mw->slot->current, memory_order_relaxed);
    unsigned sent = mw->len - mw->unsent;
    uint64_t rest[QCAP];
    unsigned n_rest = 0;
    int blamed = 0;
    for (unsigned k = 0; mw->len; k++) {
        uint64_t index = pop(mw);
        if (k < sent && index == at && !blamed) {
            blamed = 1;
            m->wstatus[index] = wstatus;
            m->timed[index] = (uint8_t)timed_out;
            if (wstatus != -1 && failed_again(m, index))
                rest[n_rest++] = index;
            else
                record(m, index, ST_DIED, NULL, 0);
        } else {
            rest[n_rest++] = index;
        }
    }
    mw->window = 1;
    if (stopping(m))
        return;
    for (unsigned k = 0; k < n_rest; k++)
        push(mw, rest[k]);
    flush_indices(m, w);
}

/* A whole message at the start of what was read: its header in *h. */
static int have_message(map_worker *mw, wspy_msg *h)
{
    if (mw->rlen - mw->roff < sizeof *h)
        return 0;
    memcpy(h, mw->rbuf + mw->roff, sizeof *h);
    return mw->rlen - mw->roff >= sizeof *h + h->len;
}

/* One read of what the process sent.  0, or -1 at its end. */
static int fill(map_worker *mw)
{
    if (mw->roff) {
        memmove(mw->rbuf, mw->rbuf + mw->roff, mw->rlen - mw->roff);
        mw->rlen -= mw->roff;
        mw->roff = 0;
    }
    if (mw->rcap - mw->rlen < 65536) {
        size_t cap = mw->rcap ? mw->rcap * 2 : 131072;
        char *grown = realloc(mw->rbuf, cap);
        if (!grown)
            return -1;
        mw->rbuf = grown;
        mw->rcap = cap;
    }
    ssize_t n;
    do
        n = read(mw->sock, mw->rbuf + mw->rlen, mw->rcap - mw->rlen);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    mw->rlen += (size_t)n;
    return 0;
}

/* Take the next message of worker w's process, reading until it is whole
 * (it is coming: the process answers or ends, and then the template
 * writes).  1 for an answer, 0 otherwise. */
static int take_message(map_run *m, unsigned w)
{
    map_worker *mw = &m->w[w];
    wspy_msg h;
    while (!have_message(mw, &h))
        if (fill(mw) != 0) {
            process_died(m, w, -1); /* no DEAD: the template ended */
            return 0;
        }
    mw->roff += sizeof h;
    if (h.kind == WSPY_MSG_DEAD) {
        process_died(m, w, (int)h.index);
        return 0;
    }
    char *data = NULL;
    if (h.len && (data = malloc(h.len)))
        memcpy(data, mw->rbuf + mw->roff, h.len);
    mw->roff += h.len;
    if ((h.len && !data) || mw->len == mw->unsent || mw->q[mw->head] != h.index) {
        /* Out of memory, or a broken stream: end the process; its DEAD follows. */
        free(data);
        kill(mw->pid, SIGKILL);
        return 0;
    }
    pop(mw);
    if (h.kind == WSPY_MSG_OK) {
        record(m, h.index, ST_OK, data, h.len);
        return 1;
    }
    if (failed_again(m, h.index)) {
        free(data);
        push(mw, h.index);
        flush_indices(m, w);
        return 1;
    }
    record(m, h.index, ST_EXC, data, h.len);
    return 1;
}

/* Wait for answers of worker w's process (or the stop) and take all that
 * came in one read; the window follows their cost per index. */
static void pump(map_run *m, unsigned w)
{
    map_worker *mw = &m->w[w];
    wspy_msg h;
    if (!have_message(mw, &h)) {
        for (;;) {
            if (stopping(m))
                return;
            int wait_ms = -1;
            if (m->timeout_ns && !mw->timed_out) {
                /* relaxed: see wspy_slot. */
                uint64_t began = atomic_load_explicit(&mw->slot->started_ns,
                                                      memory_order_relaxed);
                uint64_t t = now_ns(), limit = began + m->timeout_ns;
                if (began && t >= limit) {
                    kill(mw->pid, SIGKILL);
                    mw->timed_out = 1;
                } else {
                    wait_ms = began ? (int)((limit - t) / 1000000u) + 1 : 100;
                }
            }
            struct pollfd p[3] = {{mw->sock, POLLIN, 0}, {m->stop_fd, POLLIN, 0},
                                  {m->sig_fd, POLLIN, 0}};
            int r = poll(p, m->sig_fd >= 0 ? 3 : 2, wait_ms);
            if (r < 0 && errno != EINTR)
                return;
            if (r <= 0)
                continue;
            if (m->sig_fd >= 0 && p[2].revents) {
                struct signalfd_siginfo si;
                if (read(m->sig_fd, &si, sizeof si) == (ssize_t)sizeof si)
                    request_stop(m, STOP_INTERRUPT);
                continue;
            }
            if (p[1].revents)
                return;
            if (p[0].revents)
                break;
        }
        if (fill(mw) != 0) {
            process_died(m, w, -1);
            return;
        }
    }
    unsigned answers = 0, ended = mw->ended;
    while (mw->ended == ended && have_message(mw, &h))
        answers += (unsigned)take_message(m, w);
    if (mw->ended != ended || !answers)
        return;
    uint64_t t = now_ns(), per_index = (t - mw->began_ns) / answers;
    mw->began_ns = t;
    if (per_index < FAST_NS && mw->window < QCAP)
        mw->window *= 2;
    else if (per_index > SLOW_NS && mw->window > 1)
        mw->window /= 2;
}

/* Send the indices waiting in worker w's queue, in one write, starting a
 * process if there is none.  Without a process, they fail. */
static void flush_indices(map_run *m, unsigned w)
{
    map_worker *mw = &m->w[w];
    for (int attempt = 0; mw->unsent && attempt < 3; attempt++) {
        if (mw->sock < 0 && start_process(m, w) != 0)
            break;
        uint64_t batch[QCAP];
        unsigned n = mw->unsent, first = mw->len - n;
        for (unsigned k = 0; k < n; k++)
            batch[k] = mw->q[(mw->head + first + k) % QCAP];
        const char *p = (const char *)batch;
        size_t left = n * sizeof batch[0];
        while (left) {
            ssize_t s = send(mw->sock, p, left, MSG_NOSIGNAL);
            if (s < 0 && errno == EINTR)
                continue;
            if (s <= 0)
                break;
            p += s;
            left -= (size_t)s;
        }
        if (!left) {
            mw->unsent = 0;
            return;
        }
        if (left != n * sizeof batch[0]) {
            /* Part of an index went: the stream is broken; end it. */
            kill(mw->pid, SIGKILL);
        }
        /* The process is gone: take its last answers and its end (which
         * sends the queue again, to a fresh process). */
        for (unsigned ended = mw->ended; mw->sock >= 0 && mw->ended == ended;)
            take_message(m, w);
        return;
    }
    while (mw->unsent && mw->len) {
        /* The unsent are the newest: take them from the back. */
        mw->len--;
        mw->unsent--;
        uint64_t index = mw->q[(mw->head + mw->len) % QCAP];
        m->wstatus[index] = -2; /* no process could start */
        record(m, index, ST_DIED, NULL, 0);
    }
    /* relaxed: read by the progress line only. */
    atomic_store_explicit(&mw->busy, mw->len > 0, memory_order_relaxed);
}

static int map_init(ws_ctx *ctx, void **state)
{
    (void)ctx;
    *state = run_starting;
    return WS_OK;
}

static int map_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    map_run *m = state;
    unsigned w = ctx->worker_id;
    map_worker *mw = &m->w[w];
    if (stopping(m))
        return WS_OK; /* the rest of the indices pass by unrun */
    push(mw, index);
    /* An idle process gets the index now; a busy one gets a batch once
     * the window is full (one write, and one batch of answers back). */
    if (mw->len - mw->unsent > 0 && mw->len < mw->window)
        return WS_OK;
    flush_indices(m, w);
    while (mw->len >= mw->window && !stopping(m))
        pump(m, w);
    return WS_OK;
}

/* The worker's last answers; then its process ends (or is ended). */
static void map_worker_fini(void *state, ws_ctx *ctx)
{
    map_run *m = state;
    unsigned w = ctx->worker_id;
    map_worker *mw = &m->w[w];
    if (!stopping(m))
        flush_indices(m, w);
    while (mw->len && mw->sock >= 0 && !stopping(m))
        pump(m, w);
    if (mw->sock >= 0) {
        if (stopping(m) && mw->pid > 0)
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


/* The run's results as Python objects: (results, failures), where results
 * holds the pickled bytes (None where none) and failures a list of
 * (index, kind, payload, wait status, timed out). */
static PyObject *collect(map_run *m)
{
    PyObject *res = PyList_New((Py_ssize_t)m->count);
    PyObject *fails = PyList_New(0);
    if (!res || !fails)
        goto fail;
    for (uint64_t i = 0; i < m->count; i++) {
        PyObject *b = Py_None;
        Py_INCREF(b);
        if (m->status[i] == ST_OK) {
            Py_DECREF(b);
            b = PyBytes_FromStringAndSize(m->payload[i], m->payload_len[i]);
            if (!b)
                goto fail;
        } else if (m->status[i] != ST_NONE) {
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

static void free_run(map_run *m)
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
    map_run *m = arg;
    /* relaxed: a count to show. */
    return atomic_load_explicit(&m->done, memory_order_relaxed);
}

static unsigned progress_busy(void *arg)
{
    map_run *m = arg;
    unsigned n = 0;
    for (unsigned w = 0; w < m->jobs; w++)
        /* relaxed: a count to show. */
        n += (unsigned)atomic_load_explicit(&m->w[w].busy, memory_order_relaxed);
    return n;
}

/* Run the pool with SIGINT blocked in every thread of it (the signal is
 * read from sig_fd instead); the interpreter lock is released. */
static int run_pool(map_run *m, char *err, size_t err_size)
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
        run_starting = m;
        rc = ws_pool_run_plugin(pool, &map_plugin, m->count, NULL, 0, NULL);
        run_starting = NULL;
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

    map_run m;
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
    if (atomic_load_explicit(&m.stop, memory_order_relaxed) == STOP_INTERRUPT) {
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
