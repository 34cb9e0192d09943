/*
 * pool_registry.c - the commands' registry of the pool they run (see
 * pool_registry.h for the protocol): an atomic pointer and a count of the
 * readers inside, for crash.c's handlers, the progress line and the MPI
 * monitor.
 *
 * Must never block or allocate on a reader's path (signal handlers read
 * it), and never let unregistering return while a reader may still use
 * the pool it held.
 */
#include "pool_registry.h"

#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>

static wsrt_pool *_Atomic registered;
static _Atomic int readers;

/* The registered pool, counted as in use until registry_leave; NULL
 * (nothing to leave) if none. */
static wsrt_pool *registry_enter(void)
{
    /* seq_cst (both): Dekker-style with wsrt_registry_unregister, which
     * swaps in NULL and then reads the count: either it sees our count and
     * waits for us, or we see the NULL it stored first. */
    atomic_fetch_add(&readers, 1);
    wsrt_pool *p = atomic_load(&registered);
    if (!p)
        atomic_fetch_sub(&readers, 1);
    return p;
}

static void registry_leave(void)
{
    atomic_fetch_sub(&readers, 1); /* seq_cst: see registry_enter */
}

int wsrt_registry_register(wsrt_pool *pool)
{
    wsrt_pool *none = NULL;
    /* seq_cst: publishes the pool (created before) to the readers, which
     * load the pointer seq_cst. */
    return pool && atomic_compare_exchange_strong(&registered, &none, pool) ? 0 : -1;
}

wsrt_pool *wsrt_registry_unregister(void)
{
    /* seq_cst: see registry_enter.  Readers are brief (a loop over a
     * run's counters, or a signal handler), so waiting is a spin.  A
     * handler that interrupts this thread finishes before the loop goes
     * on, so it cannot keep the count up forever. */
    wsrt_pool *was = atomic_exchange(&registered, NULL);
    while (atomic_load(&readers) != 0)
        sched_yield();
    return was;
}

void wsrt_registry_request_stop(void)
{
    wsrt_pool *p = registry_enter();
    if (!p)
        return;
    wsrt_pool_request_stop(p);
    registry_leave();
}

uint64_t wsrt_registry_progress(void)
{
    wsrt_pool *p = registry_enter();
    if (!p)
        return 0;
    uint64_t done = wsrt_pool_progress(p);
    registry_leave();
    return done;
}

unsigned wsrt_registry_busy_workers(void)
{
    wsrt_pool *p = registry_enter();
    if (!p)
        return 0;
    unsigned busy = wsrt_pool_busy_workers(p);
    registry_leave();
    return busy;
}
