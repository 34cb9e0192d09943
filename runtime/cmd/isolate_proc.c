/*
 * isolate_proc.c - the processes of --isolate (isolate.h): the template,
 * forked once right after init while wsrun is single-threaded, which forks
 * a child per worker on request and reaps them; and the child, which runs
 * the plugin's worker_init, the indices its slot hands it and worker_fini
 * on a one-worker pool of its own (so fork-join inside an index runs on
 * that one worker).
 *
 * Must never start a thread in the template (it forks), never let a child
 * outlive wsrun (PR_SET_PDEATHSIG on both, checked against the getppid
 * race), and never let a child touch the terminal's Ctrl-C (ignored: the
 * parent stops the children).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "crash.h"
#include "isolate_internal.h"
#include "pool.h"

/* ---------------------------------------------------------- the child */

/* The child's view (one worker, so plain statics: a child is a process). */
static wsrt_isolation *c_iso;
static wsrt_iso_slot *c_slot;
static unsigned c_worker;
static int c_started, c_init_failed;
static wsrt_pool *c_pool;

/* The plugin sees the parent's run (its jobs, options) and its worker id,
 * not the child's one-worker pool's: swapped in around each call. */
typedef struct saved_ctx {
    uint32_t worker_id;
    const ws_run *run;
} saved_ctx;

static saved_ctx swap_in(ws_ctx *ctx)
{
    saved_ctx s = {ctx->worker_id, ctx->run};
    ctx->worker_id = c_worker;
    ctx->run = c_iso->run;
    return s;
}

static void swap_out(ws_ctx *ctx, saved_ctx s)
{
    ctx->worker_id = s.worker_id;
    ctx->run = s.run;
}

static void copy_error(ws_ctx *ctx)
{
    snprintf(c_slot->err, sizeof c_slot->err, "%s", wsrt_ctx_error(ctx));
    wsrt_ctx_clear_error(ctx);
}

/* --worker-memory: RLIMIT_DATA counts the heap and private writable
 * mappings (reserved, not touched); the child's own stacks are mapped
 * already, so the limit is what it has now plus the size asked for. */
static void limit_memory(void)
{
    uint64_t extra = c_iso->opts.worker_memory;
    if (!extra)
        return;
    uint64_t have = 0;
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmData: %llu kB", (unsigned long long *)&have) == 1)
            break;
    if (f)
        fclose(f);
    struct rlimit rl = {(rlim_t)(have * 1024 + extra), (rlim_t)(have * 1024 + extra)};
    setrlimit(RLIMIT_DATA, &rl);
}

static int child_worker_init(void *state, ws_ctx *ctx)
{
    (void)state;
    limit_memory();
    int rc = WS_OK;
    if (c_iso->desc.worker_init) {
        saved_ctx s = swap_in(ctx);
        rc = c_iso->desc.worker_init(c_iso->state, ctx);
        swap_out(ctx, s);
    }
    if (rc != WS_OK) {
        copy_error(ctx);
        c_slot->init_failed = 1;
        c_init_failed = 1;
    }
    return WS_OK; /* the parent reports it; this pool must not */
}

static int c_run_over; /* the current run failed or was cut short: skip the rest */

static int child_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    if (c_run_over)
        return WS_OK;
    /* relaxed: read by the parent after the child ended (the template's
     * release of DEAD orders it), or only as a hint. */
    atomic_store_explicit(&c_slot->current, index, memory_order_relaxed);
    if (c_iso->opts.timeout_ms) /* relaxed: a clock reading for the parent's deadline */
        atomic_store_explicit(&c_slot->started_ns, wsrt_iso_now_ns(), memory_order_relaxed);
    saved_ctx s = swap_in(ctx);
    int rc = c_iso->desc.run_one(c_iso->state, index, ctx);
    swap_out(ctx, s);
    if (c_iso->opts.timeout_ms)
        atomic_store_explicit(&c_slot->started_ns, 0, memory_order_relaxed);
    if (rc != WS_OK) {
        c_slot->result = rc;
        copy_error(ctx);
        c_run_over = 1; /* the parent retries or reports it, then goes on */
        return WS_OK;
    }
    c_slot->next = index + 1;
    return WS_OK; /* counted by the parent's pool, not this one */
}

static void child_worker_fini(void *state, ws_ctx *ctx)
{
    (void)state;
    if (c_init_failed || !c_iso->desc.worker_fini)
        return;
    saved_ctx s = swap_in(ctx);
    c_iso->desc.worker_fini(c_iso->state, ctx);
    swap_out(ctx, s);
}

/* The child's pool asks for its next block: post the last index's result,
 * then wait for the parent's next index (a block of one) or QUIT. */
static int child_next_block(void *arg, uint64_t *begin, uint64_t *end)
{
    (void)arg;
    if (!c_started) {
        c_started = 1;
        if (c_init_failed)
            return 0;
    }
    /* release: result, err and temps before the parent sees IDLE. */
    atomic_store_explicit(&c_slot->state, SLOT_IDLE, memory_order_release);
    wsrt_iso_wake(&c_slot->state);
    for (;;) {
        /* acquire: pairs with the parent's release CAS (RUN: its index). */
        uint32_t s = atomic_load_explicit(&c_slot->state, memory_order_acquire);
        if (s == SLOT_RUN) {
            c_slot->result = WS_OK;
            c_slot->err[0] = '\0';
            c_run_over = 0;
            *begin = c_slot->begin;
            *end = c_slot->end;
            c_slot->next = *begin;
            return 1;
        }
        if (s != SLOT_IDLE)
            return 0; /* QUIT */
        wsrt_iso_wait(&c_slot->state, SLOT_IDLE, 0);
    }
}

/* SIGUSR1: the parent's run is stopping; so is this child's (ws_stopping).
 * Today wsrun sends it only for an interrupt, so the plugin's interrupt
 * function (ws_on_interrupt) is called too; a stop for another reason
 * must not call it. */
static void on_stop_request(int sig)
{
    (void)sig;
    wsrt_pool_request_stop(c_pool);
    wsrt_call_interrupt_hook();
}

/* Mirror of crash.c's temporary-file table in the slot: the parent removes
 * them if this child is killed (a SIGKILL runs no handler). */
static void mirror_temp(const char *path, int add)
{
    size_t len = strlen(path);
    for (int k = 0; k < SLOT_TEMPS; k++) {
        char *t = c_slot->temps[k];
        /* The first byte last and atomically: wsrun reads it first
         * (isolate.c, temp_name); relaxed, for wsrun reads the entry only
         * once this process is gone. */
        if (add && !t[0] && len < SLOT_TEMP_BYTES) {
            memcpy(t + 1, path + 1, len);
            __atomic_store_n(&t[0], path[0], __ATOMIC_RELAXED);
            return;
        }
        if (!add && t[0] && strcmp(t, path) == 0) {
            __atomic_store_n(&t[0], 0, __ATOMIC_RELAXED);
            return;
        }
    }
}

__attribute__((noreturn)) static void child_main(wsrt_isolation *iso, unsigned w,
                                                 pid_t template_pid)
{
    /* A child of the template dies with it (and the template with wsrun). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != template_pid)
        _exit(127);
    c_iso = iso;
    c_slot = &iso->slots[w];
    c_worker = w;
    wsrt_crash_set_temp_mirror(mirror_temp);
    signal(SIGINT, SIG_IGN);  /* Ctrl-C: the parent stops this child */
    signal(SIGTERM, SIG_IGN); /* likewise */
    signal(SIGCHLD, SIG_DFL);
    /* No SA_RESTART: a blocking call in run_one returns EINTR on the stop
     * request, as it does in wsrun's threads on SIGINT (crash.c). */
    struct sigaction stop_sa;
    memset(&stop_sa, 0, sizeof stop_sa);
    stop_sa.sa_handler = on_stop_request;
    sigemptyset(&stop_sa.sa_mask);
    sigaction(SIGUSR1, &stop_sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* After the handler: wsrun sends SIGUSR1 to a published pid, and its
     * default action would end this process. */
    atomic_store_explicit(&c_slot->pid, (int32_t)getpid(), memory_order_relaxed);

    ws_run run = *iso->run;
    run.desc = iso->desc;
    run.desc.worker_init = child_worker_init;
    run.desc.run_one = child_run_one;
    run.desc.worker_fini = child_worker_fini;
    run.state = NULL;
    run.jobs = 1;
    run.trace = 0;
    run.stats = 0;
    run.ranged = 0;
    memset(&run.hooks, 0, sizeof run.hooks);
    run.hooks.next_block = child_next_block;
    run.policy.keep_going = 1;
    run.policy.retries = 0;
    /* The command's per-thread crash set-up, as session.c's pool has. */
    wsrt_pool_options po = {.jobs = 1, .thread_start = wsrt_crash_thread_init};
    c_pool = wsrt_pool_create_with(&po);
    if (!c_pool) {
        snprintf(c_slot->err, sizeof c_slot->err, "cannot set up the worker process: %s",
                 strerror(errno));
        c_slot->init_failed = 1;
        _exit(0);
    }
    wsrt_pool_result result;
    memset(&result, 0, sizeof result);
    int rc = wsrt_pool_run(c_pool, &run, &result);
    if (rc != 0 && !c_started) {
        snprintf(c_slot->err, sizeof c_slot->err, "the worker process could not run its pool");
        c_slot->init_failed = 1;
    }
    /* A run cut short by the stop request: post how far it got (`next`;
     * the parent's loop then stops too). */
    if (atomic_load_explicit(&c_slot->state, memory_order_acquire) == SLOT_RUN) {
        atomic_store_explicit(&c_slot->state, SLOT_IDLE, memory_order_release);
        wsrt_iso_wake(&c_slot->state);
    }
    fflush(NULL);
    /* Join the pool's threads (a sanitizer build runs worker 0 on one,
     * and says so at exit if it was left unjoined). */
    wsrt_pool_destroy(c_pool);
    _exit(0);
}

/* -------------------------------------------------------- the template */

void wsrt_iso_template_main(wsrt_isolation *iso, int cmd_rd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != iso->parent_pid)
        _exit(127);
    pid_t self = getpid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    pid_t *pids = calloc(iso->jobs, sizeof *pids);
    if (sfd < 0 || !pids)
        _exit(127);
    int open_cmd = 1;
    unsigned alive = 0;
    while (open_cmd || alive > 0) {
        struct pollfd pf[2] = {{sfd, POLLIN, 0}, {open_cmd ? cmd_rd : -1, POLLIN, 0}};
        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            _exit(127);
        if (pf[0].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0)
                ;
            int st;
            pid_t pid;
            while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
                for (unsigned w = 0; w < iso->jobs; w++) {
                    if (pids[w] != pid)
                        continue;
                    pids[w] = 0;
                    alive--;
                    iso->slots[w].wstatus = st;
                    /* release: wstatus before the parent sees DEAD; an
                     * exchange, for the child can write nothing more. */
                    atomic_exchange_explicit(&iso->slots[w].state, SLOT_DEAD,
                                             memory_order_release);
                    wsrt_iso_wake(&iso->slots[w].state);
                }
            }
        }
        if (pf[1].revents) {
            uint32_t w;
            ssize_t n = read(cmd_rd, &w, sizeof w);
            if (n < 0 && errno == EINTR)
                continue;
            if (n != (ssize_t)sizeof w) {
                /* wsrun is done (or gone): end what is left. */
                open_cmd = 0;
                for (unsigned k = 0; k < iso->jobs; k++)
                    if (pids[k] > 0)
                        kill(pids[k], SIGKILL);
                continue;
            }
            if (w >= iso->jobs)
                continue;
            pid_t pid = fork();
            if (pid == 0) {
                close(cmd_rd);
                close(sfd);
                free(pids);
                child_main(iso, w, self);
            }
            if (pid < 0) {
                snprintf(iso->slots[w].err, sizeof iso->slots[w].err,
                         "cannot fork a worker process: %s", strerror(errno));
                iso->slots[w].wstatus = 0;
                atomic_exchange_explicit(&iso->slots[w].state, SLOT_DEAD, memory_order_release);
                wsrt_iso_wake(&iso->slots[w].state);
                continue;
            }
            pids[w] = pid;
            alive++;
        }
    }
    _exit(0);
}
