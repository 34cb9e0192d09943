/*
 * wsrun_map_link.c - one worker thread's link to its worker process
 * (wsrun_worker.c) in wsrun.map (wsrun_ext.h): starts the process through
 * the template, hands it the pool's indices over a socket, keeping a
 * window of them queued there of a few milliseconds of work (so cheap
 * indices cost one message each way and no wait, and a thief finds slow
 * ones left in the range); takes its answers, and on
 * its end blames the index it ran (the oldest queued) and sends the rest
 * to a fresh process.
 *
 * Must never call Python (the worker threads hold no interpreter lock;
 * results stay bytes), never count an index done unless its process
 * answered it, and never touch another worker's queue or socket.
 */
#include "wsrun_ext.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The window is sized by the work it holds (window x time per index):
 * deeper while that is under QUEUED_LOW_NS, shallower over
 * QUEUED_HIGH_NS.  Indices handed to a process are its for good (a thief
 * cannot take them back), so the work queued there is kept to a few
 * milliseconds: a count that suited cheap indices (64 of them) would
 * otherwise commit as many slow ones when the range turns slow (seen:
 * 40 indices of 5 ms queued in one process while another waited 0.3 s). */
#define QUEUED_LOW_NS 2000000u
#define QUEUED_HIGH_NS 8000000u
#define SLOW_NS 8000000u /* an index over 8 ms goes alone */
/* While its process runs, a worker thread looks this often whether a
 * thief asked it for work (nothing can wake its poll for that). */
#define STEAL_CHECK_MS 1

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void request_stop(wspy_map_run *m, int why)
{
    int expected = WSPY_STOP_NO;
    /* relaxed: the flag carries no data; the eventfd write wakes waiters. */
    if (atomic_compare_exchange_strong_explicit(&m->stop, &expected, why, memory_order_relaxed,
                                                memory_order_relaxed) ||
        why == WSPY_STOP_INTERRUPT) {
        if (why == WSPY_STOP_INTERRUPT)
            atomic_store_explicit(&m->stop, why, memory_order_relaxed);
        uint64_t one = 1;
        ssize_t n = write(m->stop_fd, &one, sizeof one);
        (void)n;
    }
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
static int start_process(wspy_map_run *m, unsigned w)
{
    wspy_map_worker *mw = &m->w[w];
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

static void record(wspy_map_run *m, uint64_t index, int status, char *payload, uint32_t len)
{
    free(m->payload[index]);
    m->payload[index] = payload;
    m->payload_len[index] = len;
    m->status[index] = (uint8_t)status;
    if (status == WSPY_ST_OK) {
        /* relaxed: a count for the progress line only. */
        atomic_fetch_add_explicit(&m->done, 1, memory_order_relaxed);
    } else if (!m->keep_going) {
        request_stop(m, WSPY_STOP_FAILED);
    }
}

/* Index i failed; 1 when it is to run again (retries). */
static int failed_again(wspy_map_run *m, uint64_t index)
{
    if (m->attempts[index] < m->retries && !wspy_map_stopping(m)) {
        m->attempts[index]++;
        return 1;
    }
    return 0;
}

void wspy_map_push(wspy_map_worker *mw, uint64_t index)
{
    if (mw->len == 0)
        mw->began_ns = now_ns();
    mw->q[(mw->head + mw->len) % WSPY_QCAP] = index;
    mw->len++;
    mw->unsent++;
    /* relaxed: read by the progress line only. */
    atomic_store_explicit(&mw->busy, 1, memory_order_relaxed);
}

static uint64_t pop(wspy_map_worker *mw)
{
    uint64_t i = mw->q[mw->head];
    mw->head = (mw->head + 1) % WSPY_QCAP;
    mw->len--;
    if (mw->unsent > mw->len)
        mw->unsent = mw->len;
    /* relaxed: read by the progress line only. */
    atomic_store_explicit(&mw->busy, mw->len > 0, memory_order_relaxed);
    return i;
}

/* The process is gone (wstatus; -1: the template is gone too).  The index
 * its slot names fails (or runs again with retries); every other queued
 * index goes to a fresh process: those after it never ran, those before
 * it ran but their answers, held back, died with the process. */
static void process_died(wspy_map_run *m, unsigned w, int wstatus)
{
    wspy_map_worker *mw = &m->w[w];
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
    uint64_t rest[WSPY_QCAP];
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
                record(m, index, WSPY_ST_DIED, NULL, 0);
        } else {
            rest[n_rest++] = index;
        }
    }
    mw->window = 1;
    if (wspy_map_stopping(m))
        return;
    for (unsigned k = 0; k < n_rest; k++)
        wspy_map_push(mw, rest[k]);
    wspy_map_flush(m, w);
}

/* A whole message at the start of what was read: its header in *h. */
static int have_message(wspy_map_worker *mw, wspy_msg *h)
{
    if (mw->rlen - mw->roff < sizeof *h)
        return 0;
    memcpy(h, mw->rbuf + mw->roff, sizeof *h);
    return mw->rlen - mw->roff >= sizeof *h + h->len;
}

/* One read of what the process sent.  0, or -1 at its end. */
static int fill(wspy_map_worker *mw)
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
static int take_message(wspy_map_run *m, unsigned w)
{
    wspy_map_worker *mw = &m->w[w];
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
        record(m, h.index, WSPY_ST_OK, data, h.len);
        return 1;
    }
    if (failed_again(m, h.index)) {
        free(data);
        wspy_map_push(mw, h.index);
        wspy_map_flush(m, w);
        return 1;
    }
    record(m, h.index, WSPY_ST_EXC, data, h.len);
    return 1;
}

/* Wait for answers of worker w's process (or the stop) and take all that
 * came in one read; the window follows their cost per index.  With
 * `steal` (the ctx of run_one, with more than one worker), a thief's
 * request while the process runs is answered from the range not yet
 * handed out (ws_poll: the indices after the one run_one was called for),
 * so a slow index does not keep the other workers waiting for work. */
void wspy_map_pump(wspy_map_run *m, unsigned w, ws_ctx *steal)
{
    wspy_map_worker *mw = &m->w[w];
    wspy_msg h;
    if (m->jobs < 2)
        steal = NULL;
    if (!have_message(mw, &h)) {
        for (;;) {
            if (wspy_map_stopping(m))
                return;
            if (steal)
                ws_poll(steal);
            int wait_ms = steal ? STEAL_CHECK_MS : -1;
            if (m->timeout_ns && !mw->timed_out) {
                /* relaxed: see wspy_slot. */
                uint64_t began = atomic_load_explicit(&mw->slot->started_ns,
                                                      memory_order_relaxed);
                uint64_t t = now_ns(), limit = began + m->timeout_ns;
                if (began && t >= limit) {
                    kill(mw->pid, SIGKILL);
                    mw->timed_out = 1;
                } else {
                    int left_ms = began ? (int)((limit - t) / 1000000u) + 1 : 100;
                    if (wait_ms < 0 || left_ms < wait_ms)
                        wait_ms = left_ms;
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
                    request_stop(m, WSPY_STOP_INTERRUPT);
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
    /* At least 2 up to SLOW: the next index waits in the process while
     * one runs, so it never waits a round trip for work (~100 us an index
     * on the loaded 2-core VM); only indices slower than SLOW, where a
     * round trip is lost in their time, go one at a time, so no slow
     * index is held back from a thief behind another. */
    uint64_t queued = per_index * mw->window;
    if (queued < QUEUED_LOW_NS && mw->window < WSPY_QCAP)
        mw->window *= 2;
    else if (queued > QUEUED_HIGH_NS && mw->window > 1)
        mw->window /= 2;
    if (per_index <= SLOW_NS && mw->window < 2)
        mw->window = 2;
}

/* Send the indices waiting in worker w's queue, in one write, starting a
 * process if there is none.  Without a process, they fail. */
void wspy_map_flush(wspy_map_run *m, unsigned w)
{
    wspy_map_worker *mw = &m->w[w];
    for (int attempt = 0; mw->unsent && attempt < 3; attempt++) {
        if (mw->sock < 0 && start_process(m, w) != 0)
            break;
        uint64_t batch[WSPY_QCAP];
        unsigned n = mw->unsent, first = mw->len - n;
        for (unsigned k = 0; k < n; k++)
            batch[k] = mw->q[(mw->head + first + k) % WSPY_QCAP];
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
        uint64_t index = mw->q[(mw->head + mw->len) % WSPY_QCAP];
        m->wstatus[index] = -2; /* no process could start */
        record(m, index, WSPY_ST_DIED, NULL, 0);
    }
    /* relaxed: read by the progress line only. */
    atomic_store_explicit(&mw->busy, mw->len > 0, memory_order_relaxed);
}
