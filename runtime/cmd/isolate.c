/*
 * isolate.c - the parent's side of --isolate (isolate.h): the template is
 * forked here, and the pool's per-worker callbacks become proxies that
 * hand indices to the worker's child through its slot
 * (isolate_internal.h) and wait for the answer.  A child that dies fails
 * the index it was running; the next index gets a fresh child.
 *
 * Must never fork once a thread was started (the template forks the
 * children), never leave a child or the template running after
 * wsrt_isolate_end, and never count an index as done unless its child
 * said so.
 */
#include "isolate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "crash.h"
#include "isolate_internal.h"
#include "shared.h"

/* How often a waiting worker looks whether the template still lives: a
 * guard against a hang if someone kills it, not a timing. */
#define TEMPLATE_CHECK_NS 1000000000L

static _Atomic(wsrt_isolation *) current_iso; /* for the stop request */

unsigned wsrt_isolate_thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* The template ended (killed from outside): every wait would be for ever. */
static int template_alive(wsrt_isolation *iso)
{
    if (atomic_load(&iso->template_gone))
        return 0;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)iso->template_pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        si.si_pid == 0)
        return 1;
    atomic_store(&iso->template_gone, 1);
    return 0;
}

/* Wait while the slot's state is `from`; returns the state seen.  With
 * --timeout and `from` RUN, kills the child once the index it runs
 * (`current`, begun at `started_ns`) has run that long, and sets
 * *timed_out. */
static uint32_t wait_while(wsrt_isolation *iso, wsrt_iso_slot *slot, uint32_t from,
                           int *timed_out)
{
    uint64_t limit_ns = iso->opts.timeout_ms * 1000000u;
    for (;;) {
        /* acquire: pairs with the release store of the child (IDLE: its
         * result, next and err) or the template (DEAD: wstatus). */
        uint32_t s = atomic_load_explicit(&slot->state, memory_order_acquire);
        if (s != from)
            return s;
        long wait_ns = TEMPLATE_CHECK_NS;
        if (limit_ns && from == SLOT_RUN && !*timed_out) {
            /* relaxed: a clock reading; 0 between indices (no deadline). */
            uint64_t started = atomic_load_explicit(&slot->started_ns, memory_order_relaxed);
            uint64_t now = wsrt_iso_now_ns();
            if (started && now - started >= limit_ns) {
                /* relaxed: the child stored its pid before it left STARTING,
                 * which an acquire load of ours saw. */
                pid_t pid = atomic_load_explicit(&slot->pid, memory_order_relaxed);
                if (pid > 0)
                    kill(pid, SIGKILL);
                *timed_out = 1;
                continue;
            }
            uint64_t left = started ? limit_ns - (now - started) : limit_ns;
            if (left < (uint64_t)wait_ns)
                wait_ns = (long)left + 1;
        }
        wsrt_iso_wait(&slot->state, from, wait_ns);
        if (atomic_load_explicit(&slot->state, memory_order_acquire) == from &&
            !template_alive(iso))
            return SLOT_DEAD;
    }
}

/* The slot's temporary k, copied to `buf` (a signal handler may read the
 * table while a worker thread empties it: the first byte is the only one
 * either writes, so it is accessed atomically; the child that wrote the
 * rest has ended, or been killed).  0 when the entry is free. */
static int temp_name(wsrt_iso_slot *slot, int k, char *buf)
{
    /* relaxed: the entry's owner is gone; this only keeps the two readers
     * and the emptying worker thread from a torn byte. */
    if (!__atomic_load_n(&slot->temps[k][0], __ATOMIC_RELAXED))
        return 0;
    size_t i = 0;
    for (; i + 1 < SLOT_TEMP_BYTES; i++)
        if (!(buf[i] = __atomic_load_n(&slot->temps[k][i], __ATOMIC_RELAXED)))
            break;
    buf[i] = '\0';
    return buf[0] != '\0';
}

/* Remove the named temporaries the dead child had open (outfile.c). */
static void remove_child_temps(wsrt_iso_slot *slot)
{
    char name[SLOT_TEMP_BYTES];
    for (int k = 0; k < SLOT_TEMPS; k++) {
        if (temp_name(slot, k, name))
            unlink(name);
        __atomic_store_n(&slot->temps[k][0], 0, __ATOMIC_RELAXED);
    }
}

/* How the slot's child ended, for a message. */
static void describe_end(const wsrt_isolation *iso, wsrt_iso_slot *slot, int timed_out,
                         char *buf, size_t size)
{
    int st = slot->wstatus;
    pid_t pid = atomic_load_explicit(&slot->pid, memory_order_relaxed);
    if (atomic_load(&((wsrt_isolation *)iso)->template_gone))
        snprintf(buf, size, "the worker processes' template process ended (killed?)");
    else if (timed_out)
        snprintf(buf, size, "timed out after %g s: its worker process (pid %d) was killed",
                 (double)iso->opts.timeout_ms / 1000.0, (int)pid);
    else if (WIFSIGNALED(st)) {
        const char *name = wsrt_signal_name(WTERMSIG(st));
        snprintf(buf, size, "its worker process (pid %d) was killed by %s%s", (int)pid,
                 name ? name : "a signal", WTERMSIG(st) == SIGKILL
                                               ? " (from outside, or out of memory)"
                                               : "");
    } else if (WIFEXITED(st) && WEXITSTATUS(st) > 128 &&
               wsrt_signal_name(WEXITSTATUS(st) - 128)) {
        snprintf(buf, size, "its worker process (pid %d) crashed with %s (exit status %d; its "
                 "crash report is above)", (int)pid, wsrt_signal_name(WEXITSTATUS(st) - 128),
                 WEXITSTATUS(st));
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == WSRT_EXIT_PLUGIN_EXIT) {
        snprintf(buf, size, "its worker process (pid %d) ended with exit status %d (exit() or "
                 "_exit() called in plugin code)", (int)pid, WEXITSTATUS(st));
    } else if (WIFEXITED(st)) {
        snprintf(buf, size, "its worker process (pid %d) ended with exit status %d (_exit() "
                 "called in plugin code?)", (int)pid, WEXITSTATUS(st));
    } else {
        snprintf(buf, size, "its worker process (pid %d) ended (wait status 0x%x)", (int)pid,
                 (unsigned)st);
    }
}

/* The slot's child is gone: clean up after it and free the slot. */
static void slot_reset(wsrt_iso_slot *slot)
{
    remove_child_temps(slot);
    /* relaxed: only this worker's thread uses an EMPTY slot. */
    atomic_store_explicit(&slot->state, SLOT_EMPTY, memory_order_relaxed);
}

/* Ask the template for a child for worker w and wait until its
 * worker_init returned.  WS_OK, or ws_fail naming why. */
static int start_child(wsrt_isolation *iso, unsigned w, ws_ctx *ctx)
{
    wsrt_iso_slot *slot = &iso->slots[w];
    if (!template_alive(iso))
        return ws_fail(ctx, "no worker process: the worker processes' template ended");
    slot->init_failed = 0;
    slot->err[0] = '\0';
    slot->wstatus = 0;
    atomic_store_explicit(&slot->pid, 0, memory_order_relaxed);
    atomic_store_explicit(&slot->current, UINT64_MAX, memory_order_relaxed);
    atomic_store_explicit(&slot->started_ns, 0, memory_order_relaxed);
    /* release: the fields above before the template forks the child
     * (the pipe write orders them too; this keeps the argument local). */
    atomic_store_explicit(&slot->state, SLOT_STARTING, memory_order_release);
    uint32_t id = w;
    ssize_t n;
    do
        n = write(iso->cmd_fd, &id, sizeof id);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof id) {
        slot_reset(slot);
        return ws_fail(ctx, "cannot ask for a worker process: %s", strerror(errno));
    }
    int timed_out = 0;
    uint32_t s = wait_while(iso, slot, SLOT_STARTING, &timed_out);
    if (s == SLOT_IDLE)
        return WS_OK;
    char why[256];
    describe_end(iso, slot, 0, why, sizeof why);
    int init_failed = slot->init_failed;
    char msg[WSRT_ERRBUF];
    snprintf(msg, sizeof msg, "%s", slot->err);
    slot_reset(slot);
    if (init_failed)
        return ws_fail(ctx, "%s", msg[0] ? msg : WSRT_NO_MESSAGE);
    return ws_fail(ctx, "no worker process: %s%s%s", msg[0] ? msg : why,
                   msg[0] ? "" : " (during worker_init)", "");
}

static int proxy_worker_init(void *state, ws_ctx *ctx)
{
    wsrt_isolation *iso = state;
    return start_child(iso, ctx->worker_id, ctx);
}

/* Indices per round trip: grown while a round trip is short against the
 * time its indices took, so cheap indices stay cheap, and kept small for
 * slow ones, so a thief's request is answered soon (between runs). */
#define BLOCK_MAX ((uint64_t)1 << 20)
#define BLOCK_GROW_BELOW_NS 1000000u /* a run shorter than 1 ms: double */
#define BLOCK_SHRINK_ABOVE_NS 8000000u /* longer than 8 ms: halve */

/* Run [begin, end) of worker ctx->worker_id's indices in its child, to the
 * first failure: *next is the first index not finished ([begin, *next)
 * succeeded).  WS_OK, or index *next failed (message in ctx). */
static int run_span(wsrt_isolation *iso, ws_ctx *ctx, uint64_t begin, uint64_t end,
                    uint64_t *next)
{
    unsigned w = ctx->worker_id;
    wsrt_iso_slot *slot = &iso->slots[w];
    *next = begin;
    for (int attempt = 0;; attempt++) {
        /* relaxed: EMPTY is this thread's own store. */
        if (atomic_load_explicit(&slot->state, memory_order_relaxed) == SLOT_EMPTY) {
            char why[WSRT_ERRBUF];
            if (start_child(iso, w, ctx) != WS_OK) {
                snprintf(why, sizeof why, "%s", wsrt_ctx_error(ctx));
                wsrt_ctx_clear_error(ctx);
                return ws_fail(ctx, "not run: a fresh worker process could not start: %s", why);
            }
        }
        slot->begin = begin;
        slot->end = end;
        uint32_t expected = SLOT_IDLE;
        /* release: begin and end before the child sees RUN (its acquire). */
        if (atomic_compare_exchange_strong_explicit(&slot->state, &expected, SLOT_RUN,
                                                    memory_order_release, memory_order_acquire))
            break;
        /* The idle child died (killed from outside) before this run:
         * not this index's fault; start another child once. */
        if (expected == SLOT_DEAD && attempt == 0) {
            slot_reset(slot);
            continue;
        }
        char why[256];
        describe_end(iso, slot, 0, why, sizeof why);
        slot_reset(slot);
        return ws_fail(ctx, "not run: %s", why);
    }
    wsrt_iso_wake(&slot->state);
    int timed_out = 0;
    uint32_t s = wait_while(iso, slot, SLOT_RUN, &timed_out);
    if (s == SLOT_IDLE) {
        *next = slot->next;
        if (slot->result == WS_OK)
            return WS_OK;
        return ws_fail(ctx, "%s", slot->err[0] ? slot->err : WSRT_NO_MESSAGE);
    }
    /* DEAD (or the template gone): the child ended inside index `current`;
     * every index before it in the run succeeded (it stops at a failure). */
    /* relaxed: the child is gone; the template's release of DEAD, which
     * our acquire saw, came after the child's last store. */
    uint64_t at = atomic_load_explicit(&slot->current, memory_order_relaxed);
    *next = at >= begin && at < end ? at : begin;
    char why[512];
    describe_end(iso, slot, timed_out, why, sizeof why);
    slot_reset(slot);
    return ws_fail(ctx, "%s", why);
}

/* The pool's retries (and any caller of run_one): one index. */
static int proxy_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    uint64_t next;
    return run_span(state, ctx, index, index + 1, &next);
}

/* The pool's index loop (run->hooks.run_block): a run of indices. */
static int proxy_run_block(void *arg, ws_ctx *ctx, uint64_t begin, uint64_t end,
                           uint64_t *next)
{
    wsrt_isolation *iso = arg;
    uint64_t *block = &iso->block[ctx->worker_id];
    if (end - begin > *block)
        end = begin + *block;
    uint64_t t0 = wsrt_iso_now_ns();
    int rc = run_span(iso, ctx, begin, end, next);
    uint64_t took = wsrt_iso_now_ns() - t0;
    if (rc == WS_OK && *next == end && took < BLOCK_GROW_BELOW_NS && *block < BLOCK_MAX)
        *block *= 2;
    else if (took > BLOCK_SHRINK_ABOVE_NS && *block > 1)
        *block /= 2;
    return rc;
}

static void proxy_worker_fini(void *state, ws_ctx *ctx)
{
    wsrt_isolation *iso = state;
    unsigned w = ctx->worker_id;
    wsrt_iso_slot *slot = &iso->slots[w];
    uint32_t expected = SLOT_IDLE;
    /* release: nothing to publish but the state; pairs with the child's
     * acquire load for symmetry with RUN. */
    if (!atomic_compare_exchange_strong_explicit(&slot->state, &expected, SLOT_QUIT,
                                                 memory_order_release, memory_order_acquire)) {
        if (expected == SLOT_DEAD)
            slot_reset(slot);
        return; /* EMPTY: no child (it died; none was needed since) */
    }
    wsrt_iso_wake(&slot->state);
    int timed_out = 0;
    wait_while(iso, slot, SLOT_QUIT, &timed_out);
    if (slot->wstatus != 0 || atomic_load(&iso->template_gone)) {
        char why[512];
        describe_end(iso, slot, 0, why, sizeof why);
        wsrt_err("%s: worker %u's process failed at its end (worker_fini): %s", iso->desc.name,
                 w, why);
        atomic_store(&iso->fini_failed, 1);
    }
    slot_reset(slot);
}

/* The threads of this process once those just joined are gone: a joined
 * thread may still be listed for a moment after pthread_join returned (the
 * kernel wakes the joiner before it unlists the thread), so a count above
 * one is looked at again, up to about a second (a bound on a wait for an
 * event, not a timing: a thread init left running stays). */
static unsigned settled_thread_count(void)
{
    unsigned n = wsrt_isolate_thread_count();
    for (int k = 0; n > 1 && k < 1000; k++) {
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
        n = wsrt_isolate_thread_count();
    }
    return n;
}

int wsrt_isolate_start(wsrt_isolation **out, ws_run *run, const wsrt_isolate_opts *opts)
{
    *out = NULL;
    unsigned threads = settled_thread_count();
    if (threads != 1) {
        if (threads == 0)
            wsrt_err("--isolate: cannot count this process's threads (/proc/self/task): "
                     "isolation needs /proc");
        else
            wsrt_err("--isolate: plugin %s's init left %u thread%s running; worker processes "
                     "can only be forked from a single-threaded process (run it without "
                     "--isolate, or start the threads in worker_init)",
                     run->desc.name, threads - 1, threads == 2 ? "" : "s");
        return -1;
    }
    wsrt_isolation *iso = calloc(1, sizeof *iso);
    if (!iso) {
        wsrt_err("--isolate: out of memory");
        return -1;
    }
    iso->run = run;
    iso->desc = run->desc;
    iso->state = run->state;
    iso->jobs = run->jobs ? run->jobs : 1;
    iso->opts = *opts;
    iso->slots_bytes = iso->jobs * sizeof(wsrt_iso_slot);
    iso->block = malloc(iso->jobs * sizeof *iso->block);
    if (!iso->block) {
        free(iso);
        wsrt_err("--isolate: out of memory");
        return -1;
    }
    for (unsigned w = 0; w < iso->jobs; w++)
        iso->block[w] = 1;
    iso->slots = mmap(NULL, iso->slots_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                      -1, 0);
    int fds[2] = {-1, -1};
    if (iso->slots == MAP_FAILED || pipe2(fds, O_CLOEXEC) != 0) {
        wsrt_err("--isolate: cannot set up the worker processes: %s", strerror(errno));
        if (iso->slots != MAP_FAILED)
            munmap(iso->slots, iso->slots_bytes);
        free(iso->block);
        free(iso);
        return -1;
    }
    iso->parent_pid = getpid();
    wsrt_shared_seal();
    /* Buffered output would be written again by every child. */
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        wsrt_err("--isolate: cannot fork the worker processes' template: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        munmap(iso->slots, iso->slots_bytes);
        free(iso->block);
        free(iso);
        return -1;
    }
    if (pid == 0) {
        close(fds[1]);
        wsrt_iso_template_main(iso, fds[0]);
    }
    close(fds[0]);
    iso->cmd_fd = fds[1];
    iso->template_pid = pid;
    run->desc.worker_init = proxy_worker_init;
    run->desc.run_one = proxy_run_one;
    run->desc.worker_fini = proxy_worker_fini;
    run->state = iso;
    run->hooks.run_block = proxy_run_block;
    run->hooks.block_run_arg = iso;
    atomic_store(&current_iso, iso);
    *out = iso;
    return 0;
}

void wsrt_isolate_request_stop(wsrt_isolation *iso)
{
    if (!iso)
        iso = atomic_load(&current_iso);
    if (!iso)
        return;
    for (unsigned w = 0; w < iso->jobs; w++) {
        wsrt_iso_slot *slot = &iso->slots[w];
        /* relaxed: a hint; the child looks at it when it is told to. */
        atomic_store_explicit(&slot->stop, 1, memory_order_relaxed);
        pid_t pid = atomic_load_explicit(&slot->pid, memory_order_relaxed);
        /* STARTING too: a long worker_init (the python plugin's -o init)
         * is interrupted as an index is.  A child publishes its pid only
         * once its SIGUSR1 handler is in place (isolate_proc.c). */
        uint32_t st = atomic_load_explicit(&slot->state, memory_order_relaxed);
        if (pid > 0 && (st == SLOT_RUN || st == SLOT_STARTING))
            kill(pid, SIGUSR1);
    }
}

void wsrt_isolate_kill_from_signal(void)
{
    wsrt_isolation *iso = atomic_load(&current_iso);
    if (!iso)
        return;
    kill(iso->template_pid, SIGKILL);
    for (unsigned w = 0; w < iso->jobs; w++) {
        /* relaxed: whatever pid is there is a child of the template, or 0. */
        pid_t pid = atomic_load_explicit(&iso->slots[w].pid, memory_order_relaxed);
        if (pid > 0)
            kill(pid, SIGKILL);
    }
    /* A process killed in the middle of creating a temporary has not named
     * it in its slot yet: that window is the one this cannot close. */
    char name[SLOT_TEMP_BYTES];
    for (unsigned w = 0; w < iso->jobs; w++)
        for (int k = 0; k < SLOT_TEMPS; k++)
            if (temp_name(&iso->slots[w], k, name))
                unlink(name);
}

int wsrt_isolate_end(wsrt_isolation *iso, ws_run *run)
{
    if (!iso)
        return 0;
    atomic_store(&current_iso, NULL);
    close(iso->cmd_fd); /* the template ends every child left, then itself */
    int st;
    while (waitpid(iso->template_pid, &st, 0) < 0 && errno == EINTR)
        ;
    for (unsigned w = 0; w < iso->jobs; w++)
        remove_child_temps(&iso->slots[w]);
    run->desc = iso->desc;
    run->state = iso->state;
    run->hooks.run_block = NULL;
    run->hooks.block_run_arg = NULL;
    int failed = atomic_load(&iso->fini_failed);
    munmap(iso->slots, iso->slots_bytes);
    free(iso->block);
    free(iso);
    return failed;
}
