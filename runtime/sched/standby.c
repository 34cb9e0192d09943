/*
 * standby.c - threads started ahead of a run, each waiting to be handed
 * its worker (see standby.h).  A waiting thread spins, yielding its CPU to
 * anyone who wants it, for STANDBY_SPIN_NS (long enough for the CLI to
 * load a plugin and run its init), then sleeps on a futex until handed a
 * function or told to end.
 *
 * Must never let a slot be both handed out and cancelled (one CAS decides),
 * never free the slots while a thread may still read its own, and never
 * wait for a thread whose starter never ran.
 */
#include "quiet_thread.h"
#include "standby.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "clock.h"
#include "futex.h"

/* How long a waiting thread spins before it sleeps: longer than loading a
 * small plugin and running its init takes (docs/design.md, "Costs
 * measured on the project's VM"); a plugin whose init takes longer finds
 * its threads asleep and pays one wake-up per thread. */
#define STANDBY_SPIN_NS 3000000u

enum { SLOT_EMPTY, SLOT_WAITING, SLOT_GIVEN, SLOT_CANCELLED };

typedef struct standby_slot {
    _Atomic uint32_t state;  /* futex word: SLOT_* */
    _Atomic uint32_t parked; /* the thread sleeps, or is about to, on state */
    _Atomic int started;     /* 0 not yet, 1 thread running, -1 never will */
    pthread_t thread;        /* written by its starter before `started` */
    void *(*fn)(void *);     /* written before state becomes SLOT_GIVEN */
    void *arg;
    unsigned id;
    /* The set: its fields are written by wsrt_standby_start before the
     * first thread starts and the slots freed by wsrt_standby_release
     * after the last has ended, so the threads read them without
     * synchronisation of their own. */
    wsrt_standby *set;
} standby_slot;

/* Until the slot is handed a function or cancelled; returns which.  Only
 * as many threads as there are CPUs to run them spin (slot k starts on the
 * k-th CPU after the caller's, so slots 1..n-1 each have one of their own);
 * the rest, which could not run at once anyway, sleep from the start. */
static uint32_t wait_for_hand(standby_slot *s)
{
    uint64_t t0 = wsrt_now_ns();
    uint64_t spin_ns = s->set->place.spread && s->id < s->set->place.n_cpus ? STANDBY_SPIN_NS : 0;
    for (;;) {
        /* acquire: pairs with the CAS in hand(), so fn and arg written
         * before it are visible. */
        uint32_t state = atomic_load_explicit(&s->state, memory_order_acquire);
        if (state != SLOT_WAITING)
            return state;
        if (wsrt_now_ns() - t0 < spin_ns) {
            sched_yield();
            continue;
        }
        /* seq_cst (store and load): Dekker with hand(), which changes
         * state and then reads parked: either we see its state here, or
         * it sees parked and wakes us.  The futex itself returns at once
         * if the state changed after our load.  (check-seqcst: on x86 a
         * release store here would be a plain mov, free to pass the load.) */
        atomic_store(&s->parked, 1);
        if (atomic_load(&s->state) == SLOT_WAITING)
            wsrt_futex_wait(&s->state, SLOT_WAITING, 0);
        atomic_store_explicit(&s->parked, 0, memory_order_relaxed); /* only hand() reads it */
    }
}

/* Move a waiting slot to `to` (given or cancelled) and wake its thread:
 * 0, or -1 if it was not waiting. */
static int hand(standby_slot *s, uint32_t to)
{
    uint32_t waiting = SLOT_WAITING;
    /* seq_cst: see wait_for_hand; also releases fn and arg (check-seqcst). */
    if (!atomic_compare_exchange_strong(&s->state, &waiting, to))
        return -1;
    if (atomic_load(&s->parked)) /* seq_cst: see wait_for_hand (check-seqcst) */
        wsrt_futex_wake(&s->state, 1);
    return 0;
}

static void *standby_main(void *arg);

static void start_slot(wsrt_standby *set, unsigned k)
{
    standby_slot *s = &set->slots[k];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, set->stack_bytes);
    wsrt_placement_start_on(&set->place, k, &attr);
    /* relaxed: pthread_create publishes it to the new thread. */
    atomic_store_explicit(&s->state, SLOT_WAITING, memory_order_relaxed);
    int e = wsrt_quiet_thread_create(&s->thread, &attr, standby_main, s);
    pthread_attr_destroy(&attr);
    /* release: the handle is visible to wsrt_standby_release, which
     * acquires `started`. */
    atomic_store_explicit(&s->started, e == 0 ? 1 : -1, memory_order_release);
}

static void *standby_main(void *arg)
{
    standby_slot *s = arg;
    wsrt_standby *set = s->set;
    wsrt_placement_let_go(&set->place);
    for (unsigned child = 2 * s->id; child <= 2 * s->id + 1 && child < set->n_slots; child++)
        start_slot(set, child);
    /* The pool's per-thread set-up (wsrun: crash reporting's alternate
     * signal stack) is done now, not when the run is waiting for it. */
    if (set->thread_start)
        set->thread_start();
    if (wait_for_hand(s) != SLOT_GIVEN)
        return NULL;
    /* The slot is not read again: it may be freed once fn has finished
     * its part of the run. */
    void *(*fn)(void *) = s->fn;
    return fn(s->arg);
}

void wsrt_standby_start(wsrt_standby *set, unsigned jobs, const wsrt_placement *pl, size_t bytes,
                        void (*thread_start)(void))
{
    wsrt_standby_release(set);
    standby_slot *slots;
    if (jobs < 2 || !(slots = calloc(jobs, sizeof *slots)))
        return;
    set->slots = slots;
    set->n_slots = jobs;
    set->place = *pl;
    set->stack_bytes = bytes;
    set->thread_start = thread_start;
    for (unsigned k = 0; k < jobs; k++) {
        atomic_init(&slots[k].state, SLOT_EMPTY);
        atomic_init(&slots[k].parked, 0);
        atomic_init(&slots[k].started, 0);
        slots[k].id = k;
        slots[k].set = set;
    }
    start_slot(set, 1);
}

int wsrt_standby_take(wsrt_standby *set, unsigned k, void *(*fn)(void *), void *arg,
                      pthread_t *thread)
{
    if (k == 0 || k >= set->n_slots)
        return -1;
    standby_slot *s = &set->slots[k];
    /* relaxed: the caller started this slot itself (standby.h). */
    if (atomic_load_explicit(&s->started, memory_order_relaxed) != 1)
        return -1;
    s->fn = fn;
    s->arg = arg;
    if (hand(s, SLOT_GIVEN) != 0)
        return -1;
    *thread = s->thread;
    return 0;
}

void wsrt_standby_drop_from(wsrt_standby *set, unsigned k)
{
    standby_slot *slots = set->slots;
    for (unsigned i = k > 1 ? k : 1; i < set->n_slots; i++)
        /* acquire: as in wsrt_standby_release.  A slot whose thread has not
         * started yet is cancelled by wsrt_standby_release instead. */
        if (atomic_load_explicit(&slots[i].started, memory_order_acquire) == 1)
            (void)hand(&slots[i], SLOT_CANCELLED);
}

void wsrt_standby_release(wsrt_standby *set)
{
    standby_slot *slots = set->slots;
    if (!slots)
        return;
    /* In order, so a slot's starter (slot k/2, or this thread for slot 1)
     * is settled before the slot: a slot whose starter never ran never
     * starts; one whose starter runs starts (or fails) soon, as that is
     * the first thing its starter does. */
    for (unsigned k = 1; k < set->n_slots; k++) {
        standby_slot *s = &slots[k];
        if (k > 1 && atomic_load_explicit(&slots[k / 2].started, memory_order_relaxed) != 1) {
            /* relaxed: no thread can start this slot; read only here. */
            atomic_store_explicit(&s->started, -1, memory_order_relaxed);
            continue;
        }
        int started;
        /* acquire: pairs with start_slot's release store (the handle). */
        while ((started = atomic_load_explicit(&s->started, memory_order_acquire)) == 0)
            sched_yield();
        if (started != 1)
            continue;
        (void)hand(s, SLOT_CANCELLED); /* unless given, or cancelled already */
        /* relaxed: only this thread and hand() change it, and neither
         * changes it from given or cancelled. */
        if (atomic_load_explicit(&s->state, memory_order_relaxed) == SLOT_CANCELLED)
            pthread_join(s->thread, NULL);
        /* else given: whoever took it joins it */
    }
    free(slots);
    set->slots = NULL;
    set->n_slots = 0;
}
