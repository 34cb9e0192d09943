/*
 * wsrun_worker.c - the processes of wsrun.map: the template, forked by the
 * caller before any thread of the call starts, and the worker processes it
 * forks on request, one per worker thread of the caller (wsrun_ext.h).  A
 * worker process runs the indices its thread sends, in order, reseeding
 * random and numpy.random before each as the python plugin does, and
 * answers each with the pickled result or the failure.
 *
 * Must never return into the caller's Python code (both end with _exit:
 * no atexit handler, no finalizer of the caller's objects runs twice),
 * never react to SIGINT (the caller owns Ctrl-C), and never leave a child
 * behind when the caller's side ends.
 */
#include "wsrun_ext.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUT_FLUSH_BYTES (64 * 1024) /* answers held back at most */
/* An index that ran this long is answered at once, not with the rest of
 * what was read: its thread sends the next index on that answer, so the
 * process keeps work queued (one send against a slow index). */
#define ANSWER_NOW_NS 1000000u

/* The answers not yet sent (a process's own: one thread). */
static char *out_buf;
static size_t out_len, out_cap;

/* All of `len` bytes, or _exit: the caller is gone (EPIPE) or broken. */
static void send_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0);
        data += n;
        len -= (size_t)n;
    }
}

static void flush_answers(int fd)
{
    send_all(fd, out_buf, out_len);
    out_len = 0;
}

/* Queue one message; sent by flush_answers (or at once when it is big). */
static void send_msg(int fd, uint64_t index, uint32_t kind, const void *data, uint32_t len)
{
    wspy_msg h = {index, kind, len};
    if (out_len + sizeof h + len > out_cap) {
        size_t cap = out_cap ? out_cap : OUT_FLUSH_BYTES;
        while (cap < out_len + sizeof h + len)
            cap *= 2;
        char *grown = realloc(out_buf, cap);
        if (!grown) {
            flush_answers(fd);
            send_all(fd, (const char *)&h, sizeof h);
            send_all(fd, data, len);
            return;
        }
        out_buf = grown;
        out_cap = cap;
    }
    memcpy(out_buf + out_len, &h, sizeof h);
    if (len)
        memcpy(out_buf + out_len + sizeof h, data, len);
    out_len += sizeof h + len;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* BLAS and OpenMP libraries already loaded get one thread each (the
 * environment covers those loaded later): jobs workers are the machine's
 * parallelism, as in the python plugin. */
static void one_thread_libraries(void)
{
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    setenv("OMP_NUM_THREADS", "1", 1);
    setenv("MKL_NUM_THREADS", "1", 1);
    static const char *const setters[] = {"openblas_set_num_threads", "omp_set_num_threads",
                                          "MKL_Set_Num_Threads"};
    for (size_t k = 0; k < sizeof setters / sizeof setters[0]; k++) {
        void (*set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, setters[k]);
        if (set)
            set(1);
    }
}

static void flush_std_streams(void)
{
    static const char *const names[] = {"stdout", "stderr"};
    for (int k = 0; k < 2; k++) {
        PyObject *f = PySys_GetObject(names[k]); /* borrowed */
        PyObject *r = f && f != Py_None ? PyObject_CallMethod(f, "flush", NULL) : NULL;
        Py_XDECREF(r);
    }
    PyErr_Clear();
}

/* The pending exception as the failure's bytes (wsrun._failure). */
static PyObject *failure_bytes(wspy_job *job, const char *what)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && tb)
        PyException_SetTraceback(value, tb);
    PyObject *b = PyObject_CallFunction(job->failure, "Os", value ? value : Py_None, what);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    if (!b || !PyBytes_Check(b)) {
        Py_XDECREF(b);
        PyErr_Clear();
        return NULL;
    }
    return b;
}

/* One index: the message sent back. */
static void run_index(wspy_job *job, int fd, uint64_t index)
{
    PyObject *out = NULL;
    const char *what = NULL;
    if (wstask_pyseed_apply(&job->seeder, job->seed, index) != 0) {
        what = "reseeding random and numpy.random";
    } else {
        PyObject *arg = job->items ? PySequence_GetItem(job->items, (Py_ssize_t)index)
                                   : PyLong_FromUnsignedLongLong(index);
        PyObject *r = arg ? PyObject_CallOneArg(job->func, arg) : NULL;
        Py_XDECREF(arg);
        if (!r) {
            what = "";
        } else {
            out = PyObject_CallOneArg(job->dumps, r);
            Py_DECREF(r);
            if (!out)
                what = "the result cannot be pickled";
        }
    }
    if (out && PyBytes_Check(out) && (uint64_t)PyBytes_GET_SIZE(out) > UINT32_MAX) {
        /* A message says its length in 32 bits. */
        PyErr_Format(PyExc_OverflowError, "%zd bytes pickled, at most %u", PyBytes_GET_SIZE(out),
                     UINT32_MAX);
        Py_CLEAR(out);
        what = "the result is too large to send back";
    }
    if (out && PyBytes_Check(out)) {
        send_msg(fd, index, WSPY_MSG_OK, PyBytes_AS_STRING(out), (uint32_t)PyBytes_GET_SIZE(out));
        Py_DECREF(out);
        return;
    }
    Py_XDECREF(out);
    PyObject *b = failure_bytes(job, what ? what : "");
    if (b) {
        send_msg(fd, index, WSPY_MSG_EXC, PyBytes_AS_STRING(b), (uint32_t)PyBytes_GET_SIZE(b));
        Py_DECREF(b);
    } else {
        send_msg(fd, index, WSPY_MSG_EXC, NULL, 0);
    }
}

/* A worker process: indices from fd until it ends; its answers go back
 * when it has run every index it had read (or has 64 KiB of them, or
 * after an index of ANSWER_NOW_NS or more), and
 * its slot says which index runs, so a death is pinned all the same. */
__attribute__((noreturn)) static void child_main(wspy_job *job, int fd, wspy_slot *slot)
{
    one_thread_libraries();
    PyObject *seed = PyLong_FromUnsignedLongLong(job->seed);
    if (!seed || PyObject_SetAttrString(job->module, "seed", seed) != 0)
        PyErr_Clear();
    Py_XDECREF(seed);
    PyObject *r = PyObject_CallMethod(job->module, "_child_start", NULL);
    Py_XDECREF(r);
    PyErr_Clear();
    send_msg(fd, (uint64_t)getpid(), WSPY_MSG_HELLO, NULL, 0);
    flush_answers(fd);
    uint64_t buf[512];
    size_t have = 0, used = 0;
    for (;;) {
        if (used == have) {
            /* Nothing queued: the answers go, and what tasks printed
             * reaches its file. */
            flush_std_streams();
            flush_answers(fd);
            ssize_t n;
            do
                n = read(fd, buf, sizeof buf);
            while (n < 0 && errno == EINTR);
            if (n <= 0)
                _exit(0);
            /* Indices are 8 bytes each; a partial one is completed. */
            size_t got = (size_t)n;
            while (got % sizeof buf[0]) {
                ssize_t m = read(fd, (char *)buf + got, sizeof buf[0] - got % sizeof buf[0]);
                if (m < 0 && errno == EINTR)
                    continue;
                if (m <= 0)
                    _exit(0);
                got += (size_t)m;
            }
            have = got / sizeof buf[0];
            used = 0;
        }
        uint64_t index = buf[used++];
        /* relaxed: see wspy_slot. */
        atomic_store_explicit(&slot->current, index, memory_order_relaxed);
        uint64_t began = mono_ns();
        atomic_store_explicit(&slot->started_ns, began, memory_order_relaxed);
        run_index(job, fd, index);
        /* Between indices: a death here is no index's fault. */
        atomic_store_explicit(&slot->started_ns, 0, memory_order_relaxed);
        atomic_store_explicit(&slot->current, UINT64_MAX, memory_order_relaxed);
        if (out_len >= OUT_FLUSH_BYTES || mono_ns() - began >= ANSWER_NOW_NS)
            flush_answers(fd);
    }
}

/* The request: a worker number with a socket attached; 0 at the end. */
static int read_request(int cmd_fd, uint32_t *w, int *fd)
{
    char ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {w, sizeof *w};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                        .msg_controllen = sizeof ctl};
    ssize_t n;
    do
        n = recvmsg(cmd_fd, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof *w)
        return 0;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (!c || c->cmsg_type != SCM_RIGHTS)
        return 0;
    memcpy(fd, CMSG_DATA(c), sizeof *fd);
    return 1;
}

void wspy_template_main(wspy_job *job, int cmd_fd, unsigned jobs)
{
    signal(SIGINT, SIG_IGN);
    /* The program's SIGCHLD disposition is inherited: ignored (a Python
     * program may say signal(SIGCHLD, SIG_IGN)), the workers would be
     * reaped unseen, and a killed one never reported: the call would wait
     * for ever, as Pool does. */
    signal(SIGCHLD, SIG_DFL);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    pid_t *pid = calloc(jobs, sizeof *pid);
    int *fds = malloc(jobs * sizeof *fds);
    if (sfd < 0 || !pid || !fds)
        _exit(1);
    for (unsigned w = 0; w < jobs; w++)
        fds[w] = -1;
    for (;;) {
        struct pollfd p[2] = {{cmd_fd, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0)
                ;
            int st;
            pid_t gone;
            while ((gone = waitpid(-1, &st, WNOHANG)) > 0)
                for (unsigned w = 0; w < jobs; w++)
                    if (pid[w] == gone) {
                        /* The child wrote nothing more: its end comes last. */
                        wspy_msg h = {(uint64_t)(uint32_t)st, WSPY_MSG_DEAD, 0};
                        ssize_t n = send(fds[w], &h, sizeof h, MSG_NOSIGNAL);
                        (void)n;
                        close(fds[w]);
                        fds[w] = -1;
                        pid[w] = 0;
                    }
        }
        if (!p[0].revents)
            continue;
        uint32_t w;
        int fd;
        if (!read_request(cmd_fd, &w, &fd))
            break;
        if (w >= jobs || pid[w]) {
            close(fd);
            continue;
        }
        PyOS_BeforeFork();
        pid_t c = fork();
        if (c == 0) {
            PyOS_AfterFork_Child();
            sigprocmask(SIG_UNBLOCK, &chld, NULL);
            close(cmd_fd);
            close(sfd);
            for (unsigned k = 0; k < jobs; k++)
                if (fds[k] >= 0)
                    close(fds[k]);
            child_main(job, fd, &job->slots[w]);
        }
        PyOS_AfterFork_Parent();
        if (c < 0) {
            wspy_msg h = {(uint64_t)(uint32_t)W_EXITCODE(127, 0), WSPY_MSG_DEAD, 0};
            ssize_t n = send(fd, &h, sizeof h, MSG_NOSIGNAL);
            (void)n;
            close(fd);
            continue;
        }
        pid[w] = c;
        fds[w] = fd;
    }
    /* The caller's side ended: no child outlives the call. */
    for (unsigned w = 0; w < jobs; w++)
        if (pid[w] > 0)
            kill(pid[w], SIGKILL);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    _exit(0);
}
