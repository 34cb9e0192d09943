/*
 * standby.h - internal: worker threads started before the run that uses
 * them (runtime/sched/standby.c).  wsrt_pool_create starts them before the CLI
 * loads the plugin, so what starting a thread costs (docs/design.md,
 * "Costs measured on the project's VM") overlaps the loading and the
 * plugin's init instead of delaying the run; the pool then hands each
 * worker to a waiting thread.  Each pool has a set of its own (no state
 * here is process-wide).
 * Slot k (1 <= k < jobs) is worker k's thread; slot k's thread starts slots
 * 2k and 2k+1 before it waits, as worker threads start one another.
 * Must never run anything on a thread before it is handed a function, and
 * never leave a thread it started unjoined after wsrt_standby_release.
 */
#ifndef WSRT_STANDBY_H
#define WSRT_STANDBY_H

#include <pthread.h>
#include <stddef.h>

#include "placement.h"

struct standby_slot;

/* One set of waiting threads: embedded in its pool, which must not move
 * or be freed while any of its threads may run (wsrt_standby_release). */
typedef struct wsrt_standby {
    struct standby_slot *slots; /* [1, n_slots) used; NULL: no set */
    unsigned n_slots;
    wsrt_placement place;
    size_t stack_bytes;
    void (*thread_start)(void); /* the pool's (pool.h); NULL: none */
} wsrt_standby;

/* Start waiting threads for slots 1..jobs-1, with stacks of stack_bytes,
 * each placed as `pl` says; each calls thread_start (unless NULL) before
 * it waits, so what it sets up is done before a run needs the thread.
 * Threads that cannot start leave their slots (and those below them)
 * empty.  Ends any earlier set first.  `set` starts zeroed. */
void wsrt_standby_start(wsrt_standby *set, unsigned jobs, const wsrt_placement *pl, size_t stack_bytes,
                        void (*thread_start)(void));

/* Hand fn(arg) to slot k's waiting thread: 0 with *thread set (the caller
 * joins it), or -1 when there is none (start a thread instead).  Only the
 * thread that started slot k, or one it started since, may call this: for
 * slot 1 the caller of wsrt_standby_start (or a thread it started after),
 * for slot k > 1 slot k/2's thread (once handed its own function). */
int wsrt_standby_take(wsrt_standby *set, unsigned k, void *(*fn)(void *), void *arg, pthread_t *thread);

/* Slots k and above will not be taken: their threads end now. */
void wsrt_standby_drop_from(wsrt_standby *set, unsigned k);

/* End every thread not taken, join them, and forget the set.  The thread
 * that called wsrt_standby_start, once the threads it took have ended. */
void wsrt_standby_release(wsrt_standby *set);

#endif
