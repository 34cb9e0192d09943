/*
 * isolate_slot.c - the parent's view of a worker process's slot under
 * isolation (isolate_internal.h): waiting for the child's answer (with
 * --timeout's deadline and a check that the template still lives), the
 * words that say how a child ended, and the clean-up after one is gone
 * (its named temporaries removed, the slot freed).
 *
 * Must never write a slot word the parent does not own (the table in
 * isolate_internal.h), never wait without a bound while the template may
 * be gone, and never remove a temporary of a child still running.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "isolate_internal.h"
#include "pool.h"
#include "signal_name.h"

/* How often a waiting worker looks whether the template still lives: a
 * guard against a hang if someone kills it, not a timing. */
#define TEMPLATE_CHECK_NS 1000000000L

/* The template ended (killed from outside): every wait would be for ever. */
int wsrt_iso_template_alive(wsrt_isolation *iso)
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
 * --timeout, kills the child once the plugin call it is in (an index, or
 * worker_init / worker_fini: STARTING, RUN, QUIT), begun at `started_ns`,
 * has run that long, and sets *timed_out. */
static uint32_t wait_while(wsrt_isolation *iso, wsrt_iso_slot *slot, uint32_t from,
                           int *timed_out, ws_ctx *steal)
{
    uint64_t limit_ns = iso->opts.timeout_ms * 1000000u;
    for (;;) {
        /* With `steal`, the wait is on wake_seq (wsrt_iso_bump): loaded
         * before the state and the request are looked at.  acquire: pairs
         * with the bump's release, so a change bumped at or before the
         * value read is seen below; one bumped after it changes the word
         * before FUTEX_WAIT compares it, or wakes that wait. */
        uint32_t seq = steal ? atomic_load_explicit(&slot->wake_seq, memory_order_acquire) : 0;
        /* acquire: pairs with the release store of the child (IDLE: its
         * result, next and err) or the template (DEAD: wstatus). */
        uint32_t s = atomic_load_explicit(&slot->state, memory_order_acquire);
        if (s != from)
            return s;
        if (steal && wsrt_block_steal_requested(steal))
            return from;
        long wait_ns = TEMPLATE_CHECK_NS;
        if (limit_ns && !*timed_out) {
            /* relaxed: a clock reading; 0 outside the plugin's calls (no
             * deadline). */
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
        if (steal)
            wsrt_iso_wait(&slot->wake_seq, seq, wait_ns);
        else
            wsrt_iso_wait(&slot->state, from, wait_ns);
        /* The template check is a syscall: after every wait, which ends
         * on a change, a bump or TEMPLATE_CHECK_NS (or the deadline). */
        if (atomic_load_explicit(&slot->state, memory_order_acquire) == from &&
            !wsrt_iso_template_alive(iso))
            return SLOT_DEAD;
    }
}

uint32_t wsrt_iso_wait_while(wsrt_isolation *iso, wsrt_iso_slot *slot, uint32_t from,
                             int *timed_out)
{
    return wait_while(iso, slot, from, timed_out, NULL);
}

uint32_t wsrt_iso_wait_run(wsrt_isolation *iso, wsrt_iso_slot *slot, int *timed_out,
                           ws_ctx *steal)
{
    return wait_while(iso, slot, SLOT_RUN, timed_out, steal);
}

/* The slot's temporary k, copied to `buf` (a signal handler may read the
 * table while a worker thread empties it: the first byte is the only one
 * either writes, so it is accessed atomically; the child that wrote the
 * rest has ended, or been killed).  0 when the entry is free. */
int wsrt_iso_temp_name(wsrt_iso_slot *slot, int k, char *buf)
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
void wsrt_iso_remove_temps(wsrt_iso_slot *slot)
{
    char name[SLOT_TEMP_BYTES];
    for (int k = 0; k < SLOT_TEMPS; k++) {
        if (wsrt_iso_temp_name(slot, k, name))
            unlink(name);
        __atomic_store_n(&slot->temps[k][0], 0, __ATOMIC_RELAXED);
    }
}

/* How the slot's child ended, for a message. */
void wsrt_iso_describe_end(const wsrt_isolation *iso, wsrt_iso_slot *slot, int timed_out,
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
        snprintf(buf, size, "its worker process (pid %d) crashed with %s (exit status %d%s)",
                 (int)pid, wsrt_signal_name(WEXITSTATUS(st) - 128), WEXITSTATUS(st),
                 iso->opts.embedded ? "" : "; its crash report is above");
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
void wsrt_iso_slot_reset(wsrt_iso_slot *slot)
{
    wsrt_iso_remove_temps(slot);
    /* relaxed: only this worker's thread uses an EMPTY slot. */
    atomic_store_explicit(&slot->state, SLOT_EMPTY, memory_order_relaxed);
}
