/*
 * isolate.c - isolation's entry points (isolate.h; wsrun --isolate,
 * libwsrun's isolating pools): the template is forked
 * here, right after init, and the pool's per-worker callbacks become the
 * proxies of isolate_proxy.c; the stop request, the kill from a signal
 * handler and the end, which waits for the template and restores the run.
 * The slot helpers are in isolate_slot.c, the processes in
 * isolate_template.c and isolate_child.c.
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

#include "isolate_internal.h"
#include "log.h"
#include "shared.h"

static _Atomic(wsrt_isolation *) current_iso; /* for the stop request */

static void stop_raised(void *arg);

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

/* The refusal when the process is not single-threaded after init. */
static void too_many_threads(const ws_run *run, const wsrt_isolate_opts *opts, unsigned threads,
                             char *err, size_t err_size)
{
    const char *what = opts->what ? opts->what : "--isolate";
    if (threads == 0)
        snprintf(err, err_size, "%s: cannot count this process's threads (/proc/self/task): "
                 "isolation needs /proc", what);
    else if (opts->embedded)
        snprintf(err, err_size, "%s: plugin %s: this process has %u other thread%s after init "
                 "(the program's own, or ones init left running); worker processes can only "
                 "be forked from a single-threaded process (end them before the run, or start "
                 "the plugin's threads in worker_init)",
                 what, run->desc.name, threads - 1, threads == 2 ? "" : "s");
    else
        snprintf(err, err_size, "%s: plugin %s's init left %u thread%s running; worker "
                 "processes can only be forked from a single-threaded process (run it without "
                 "--isolate, or start the threads in worker_init)",
                 what, run->desc.name, threads - 1, threads == 2 ? "" : "s");
}

int wsrt_isolate_start(wsrt_isolation **out, ws_run *run, const wsrt_isolate_opts *opts,
                       char *err, size_t err_size)
{
    *out = NULL;
    const char *what = opts->what ? opts->what : "--isolate";
    unsigned threads = settled_thread_count();
    if (threads != 1) {
        too_many_threads(run, opts, threads, err, err_size);
        return -1;
    }
    wsrt_isolation *iso = calloc(1, sizeof *iso);
    if (!iso) {
        snprintf(err, err_size, "%s: out of memory", what);
        return -1;
    }
    pthread_mutex_init(&iso->fini_lock, NULL);
    iso->run = run;
    iso->desc = run->desc;
    iso->state = run->state;
    iso->jobs = run->jobs ? run->jobs : 1;
    iso->opts = *opts;
    iso->slots_bytes = iso->jobs * sizeof(wsrt_iso_slot);
    iso->block = malloc(iso->jobs * sizeof *iso->block);
    if (!iso->block) {
        free(iso);
        snprintf(err, err_size, "%s: out of memory", what);
        return -1;
    }
    for (unsigned w = 0; w < iso->jobs; w++)
        iso->block[w] = 1;
    iso->slots = mmap(NULL, iso->slots_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                      -1, 0);
    int fds[2] = {-1, -1};
    if (iso->slots == MAP_FAILED || pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, err_size, "%s: cannot set up the worker processes: %s", what,
                 strerror(errno));
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
        snprintf(err, err_size, "%s: cannot fork the worker processes' template: %s", what,
                 strerror(errno));
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
    wsrt_iso_proxies_install(iso, run);
    run->hooks.stop_raised = stop_raised;
    run->hooks.stop_arg = iso;
    atomic_store(&current_iso, iso);
    *out = iso;
    return 0;
}

void wsrt_isolate_request_stop(wsrt_isolation *iso, int interrupt)
{
    /* The kind goes in the slot (for a child that learns of the stop
     * without a signal) and in the signal (isolate_internal.h): the stop
     * signal only stops the child's run (ws_stopping); the interrupt's
     * also calls ws_on_interrupt's function there and, installed without
     * SA_RESTART, makes a blocked call return EINTR.  A failure stop must
     * do neither: the python plugin would raise KeyboardInterrupt in the
     * other running indices. */
    uint32_t bits = interrupt ? WSRT_ISO_STOP | WSRT_ISO_INTERRUPT : WSRT_ISO_STOP;
    int sig = interrupt ? WSRT_ISO_SIG_INTERRUPT : WSRT_ISO_SIG_STOP;
    if (!iso)
        iso = atomic_load(&current_iso);
    if (!iso)
        return;
    for (unsigned w = 0; w < iso->jobs; w++) {
        wsrt_iso_slot *slot = &iso->slots[w];
        /* seq_cst (this read-modify-write and the load of state): the
         * Dekker pair with the worker thread's STARTING store and RUN CAS
         * (see start_child): a child this does not signal reads the bits.
         * An OR, so a failure stop after an interrupt keeps its bit. */
        atomic_fetch_or(&slot->stop, bits);
        uint32_t state = atomic_load(&slot->state);
        /* seq_cst: with the child's seq_cst store of its pid before it
         * reads `stop` (isolate_child.c): either this sees the pid, or the
         * child sees the bits.  STARTING too: a long worker_init (the
         * python plugin's -o init) is stopped, or interrupted, as an index
         * is.  The child publishes its pid only once its handlers are in
         * place (a signal's default action would end it). */
        pid_t pid = atomic_load(&slot->pid);
        if (pid > 0 && (state == SLOT_RUN || state == SLOT_STARTING))
            kill(pid, sig);
    }
}

/* The pool's stop_raised hook (run.h): a failure, a worker_init failure or
 * an interrupt stopped the parent's run; the children's runs stop too.
 * Once wsrun was interrupted, as an interrupt: crash.c's handler notes it
 * before it stops the pools (this runs inside that call, on its thread),
 * and a plain stop signal sent then could reach a child first and restart
 * the call its index is blocked in (isolate_internal.h). */
static void stop_raised(void *arg)
{
    wsrt_isolate_request_stop(arg, wsrt_interrupt_noted());
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
            if (wsrt_iso_temp_name(&iso->slots[w], k, name))
                unlink(name);
}

int wsrt_isolate_end(wsrt_isolation *iso, ws_run *run, char *why, size_t why_size)
{
    if (!iso)
        return 0;
    atomic_store(&current_iso, NULL);
    close(iso->cmd_fd); /* the template ends every child left, then itself */
    int st;
    while (waitpid(iso->template_pid, &st, 0) < 0 && errno == EINTR)
        ;
    for (unsigned w = 0; w < iso->jobs; w++)
        wsrt_iso_remove_temps(&iso->slots[w]);
    run->desc = iso->desc;
    run->state = iso->state;
    run->hooks.run_block = NULL;
    run->hooks.block_run_arg = NULL;
    run->hooks.request_raised = NULL;
    run->hooks.stop_raised = NULL;
    run->hooks.stop_arg = NULL;
    int failed = atomic_load(&iso->fini_failed);
    if (failed && why && why_size)
        snprintf(why, why_size, "%s", iso->fini_msg);
    munmap(iso->slots, iso->slots_bytes);
    pthread_mutex_destroy(&iso->fini_lock);
    free(iso->block);
    free(iso);
    return failed;
}

