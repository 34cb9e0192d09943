/*
 * deque.h - internal: the Chase-Lev work-stealing deque (growable circular
 * array), with the C11 memory orders of Le, Pop, Cohen and Zappa Nardelli,
 * "Correct and Efficient Work-Stealing for Weak Memory Models" (PPoPP 2013).
 *
 * One owner thread calls push and take; any thread may call steal.  Items
 * are non-zero machine words (the scheduler stores ws_frame pointers).
 * Must never be called by two owners, and never frees an array a thief may
 * still read before wsrt_deque_destroy.
 */
#ifndef WSRT_DEQUE_H
#define WSRT_DEQUE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wsrt_deque_array {
    int64_t capacity; /* a power of two */
    struct wsrt_deque_array *retired_next; /* owner-only list of replaced arrays */
    _Atomic uintptr_t slot[];
} wsrt_deque_array;

typedef struct wsrt_deque {
    /* top and bottom live on separate cache lines: thieves hammer top, the
     * owner writes bottom on every push. */
    _Alignas(64) _Atomic int64_t top;
    _Alignas(64) _Atomic int64_t bottom;
    _Atomic(wsrt_deque_array *) array;
    wsrt_deque_array *retired; /* freed by wsrt_deque_destroy */
    /* The owner thread (the first to push or take), for the owner-only
     * checks of the test and sanitizer builds (wsrt_assert.h); NULL until
     * then, and never used by a release build.  There in every build, so
     * the layout never depends on the flags. */
    _Atomic(const void *) owner;
} wsrt_deque;

enum { WSRT_DEQUE_EMPTY = 0, WSRT_DEQUE_GOT = 1, WSRT_DEQUE_LOST_RACE = 2 };

/* capacity_log2: the initial array holds 1 << capacity_log2 items. */
int wsrt_deque_init(wsrt_deque *q, unsigned capacity_log2);
void wsrt_deque_destroy(wsrt_deque *q);

/* Owner only.  Returns 0, or -1 if growing the array failed (out of memory). */
int wsrt_deque_push(wsrt_deque *q, uintptr_t item);
/* Owner only: the most recently pushed item (LIFO).  WSRT_DEQUE_GOT or
 * WSRT_DEQUE_EMPTY. */
int wsrt_deque_take(wsrt_deque *q, uintptr_t *item);
/* Any thread: the oldest item (FIFO).  WSRT_DEQUE_GOT, WSRT_DEQUE_EMPTY, or
 * WSRT_DEQUE_LOST_RACE when another thief or the owner took it first. */
int wsrt_deque_steal(wsrt_deque *q, uintptr_t *item);

/* As wsrt_deque_steal, but gives up (WSRT_DEQUE_EMPTY) when *done_flag reads 1
 * (WS_FRAME_DONE) after the item was read and before it is claimed: a
 * worker waiting for a frame steals only while that frame runs. */
int wsrt_deque_steal_unless(wsrt_deque *q, uintptr_t *item, _Atomic uint32_t *done_flag);

/* A racy size estimate for heuristics (never for correctness). */
static inline int64_t wsrt_deque_size_hint(wsrt_deque *q)
{
    /* relaxed: only a hint; a stale answer costs one wasted steal try. */
    int64_t b = atomic_load_explicit(&q->bottom, memory_order_relaxed);
    int64_t t = atomic_load_explicit(&q->top, memory_order_relaxed);
    return b - t;
}

#endif
