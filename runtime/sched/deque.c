/*
 * deque.c - the Chase-Lev work-stealing deque (see deque.h).  Orders follow
 * Le et al., PPoPP 2013, Figure 1, with two deliberate strengthenings that
 * cost nothing on x86 and let ThreadSanitizer see the synchronisation:
 * the release fence + relaxed store of bottom in push is a release store,
 * and the array pointer is read with acquire instead of consume; and take's
 * stores of bottom are release (see wsrt_deque_take).
 * Its invariants are checked with WSRT_ASSERT in the test and sanitizer
 * builds: only the owner pushes and takes, items are non-zero, the owner
 * never sees top beyond bottom + 1 (Chase-Lev: top only grows, and only
 * past an item that bottom covered), and the array never holds more items
 * than slots.
 * Must never block, allocate on take/steal, or free a live array.
 */
#include "deque.h"

#include <stdlib.h>

#include "test_hooks.h"
#include "wsrt_assert.h"

/* Its address names the calling thread (owner checks only). */
static _Thread_local char this_thread;

/* 1 when the calling thread owns q: the first thread to push or take
 * becomes its owner.  Called only inside WSRT_ASSERT, so a release build
 * never runs it.  relaxed (load and CAS): identities only, nothing is
 * published through owner, and the check must add no synchronisation
 * that could hide a race from ThreadSanitizer. */
static inline int owned_by_caller(wsrt_deque *q)
{
    const void *me = &this_thread;
    const void *owner = atomic_load_explicit(&q->owner, memory_order_relaxed);
    if (owner == NULL &&
        atomic_compare_exchange_strong_explicit(&q->owner, &owner, me, memory_order_relaxed,
                                                memory_order_relaxed))
        return 1;
    return owner == me;
}

static wsrt_deque_array *array_new(int64_t capacity)
{
    wsrt_deque_array *a = malloc(sizeof *a + (size_t)capacity * sizeof(_Atomic uintptr_t));
    if (!a)
        return NULL;
    a->capacity = capacity;
    a->retired_next = NULL;
    for (int64_t i = 0; i < capacity; i++)
        atomic_init(&a->slot[i], 0);
    return a;
}

int wsrt_deque_init(wsrt_deque *q, unsigned capacity_log2)
{
    wsrt_deque_array *a = array_new((int64_t)1 << capacity_log2);
    if (!a)
        return -1;
    atomic_init(&q->top, 0);
    atomic_init(&q->bottom, 0);
    atomic_init(&q->array, a);
    atomic_init(&q->owner, NULL);
    q->retired = NULL;
    return 0;
}

void wsrt_deque_destroy(wsrt_deque *q)
{
    free(atomic_load_explicit(&q->array, memory_order_relaxed));
    while (q->retired) {
        wsrt_deque_array *next = q->retired->retired_next;
        free(q->retired);
        q->retired = next;
    }
}

/* Owner only: copy the live items [t, b) into an array twice as large.  The
 * old array stays allocated (on the retired list) because a thief that read
 * the old pointer may still load a slot from it; the slot values it can
 * observe there are the same ones the copy holds. */
static wsrt_deque_array *grow(wsrt_deque *q, wsrt_deque_array *old, int64_t t, int64_t b)
{
    WSRT_ASSERT(b - t <= old->capacity); /* full at most: push grows before it overflows */
    wsrt_deque_array *a = array_new(old->capacity * 2);
    if (!a)
        return NULL;
    for (int64_t i = t; i < b; i++) {
        /* relaxed: the owner wrote these slots itself. */
        uintptr_t v = atomic_load_explicit(&old->slot[i & (old->capacity - 1)], memory_order_relaxed);
        atomic_store_explicit(&a->slot[i & (a->capacity - 1)], v, memory_order_relaxed);
    }
    old->retired_next = q->retired;
    q->retired = old;
    /* release: a thief that acquires the new pointer sees the copied slots. */
    atomic_store_explicit(&q->array, a, memory_order_release);
    return a;
}

int wsrt_deque_push(wsrt_deque *q, uintptr_t item)
{
    WSRT_ASSERT(owned_by_caller(q));
    WSRT_ASSERT(item != 0); /* 0 is an empty slot's value */
    /* relaxed: only the owner writes bottom. */
    int64_t b = atomic_load_explicit(&q->bottom, memory_order_relaxed);
    /* acquire: pairs with the thieves' CAS on top, so a slot is not reused
     * before the thief that took its previous item has read it. */
    int64_t t = atomic_load_explicit(&q->top, memory_order_acquire);
    /* relaxed: only the owner writes the array pointer. */
    wsrt_deque_array *a = atomic_load_explicit(&q->array, memory_order_relaxed);
    /* No take is under way (the owner is here), so top <= bottom; a stale
     * top is only smaller. */
    WSRT_ASSERT(t <= b);
    if (b - t > a->capacity - 1) {
        a = grow(q, a, t, b);
        if (!a)
            return -1;
    }
    WSRT_ASSERT(b - t < a->capacity); /* slot b is free */
    /* relaxed: the slot is published by the release store of bottom below;
     * it is atomic because a slow thief may read the same slot after a
     * wrap-around (its CAS on top then fails). */
    atomic_store_explicit(&a->slot[b & (a->capacity - 1)], item, memory_order_relaxed);
    WSRT_HOOK("push.before_publish");
    /* release: everything written before the push (the item and what it
     * points to) is visible to a thief that acquires this bottom. */
    atomic_store_explicit(&q->bottom, b + 1, memory_order_release);
    return 0;
}

int wsrt_deque_take(wsrt_deque *q, uintptr_t *item)
{
    WSRT_ASSERT(owned_by_caller(q));
    /* relaxed: only the owner writes bottom and the array pointer. */
    int64_t b = atomic_load_explicit(&q->bottom, memory_order_relaxed) - 1;
    wsrt_deque_array *a = atomic_load_explicit(&q->array, memory_order_relaxed);
    /* release (here and in the two restores below): push's release store
     * of bottom is acquired by a thief that may read a bottom written
     * later by take.  C11 (5.1.2.4) lets later relaxed stores by the same
     * thread continue push's release sequence; C++20 (P0982) and RC11/LLVM
     * dropped that rule, so with relaxed stores here a thief that reads
     * take's bottom would no longer synchronise with the push of the item
     * it steals.  Release on every store of bottom keeps that synchronises-
     * with edge under both models.  It cannot be tested on x86 (every store
     * is a release there; the same mov is emitted), so it is argued here. */
    atomic_store_explicit(&q->bottom, b, memory_order_release);
    WSRT_HOOK("take.before_fence");
    /* seq_cst fence: the store of bottom must be ordered before the load of
     * top (store-load), so that a thief and the owner cannot both miss each
     * other's claim on the last item.  Pairs with the fence in steal.
     * (check-seqcst: an acq_rel fence emits nothing on x86.) */
    atomic_thread_fence(memory_order_seq_cst);
    int64_t t = atomic_load_explicit(&q->top, memory_order_relaxed);
    /* top <= bottom + 1: a thief's CAS moves top past an item only while
     * bottom (before this take's decrement) was above it. */
    WSRT_ASSERT(t <= b + 1);
    if (t > b) {
        /* Empty: restore bottom.  release: see the first store above. */
        atomic_store_explicit(&q->bottom, b + 1, memory_order_release);
        return WSRT_DEQUE_EMPTY;
    }
    /* relaxed: the owner wrote this slot. */
    uintptr_t x = atomic_load_explicit(&a->slot[b & (a->capacity - 1)], memory_order_relaxed);
    WSRT_ASSERT(x != 0); /* the owner pushed it */
    if (t < b) {
        *item = x; /* more than one item: no thief can reach slot b */
        return WSRT_DEQUE_GOT;
    }
    WSRT_HOOK("take.before_last_cas");
    /* The last item: race the thieves for it by advancing top.
     * seq_cst on success: totally ordered with the thieves' CASes;
     * relaxed on failure: we only learn that a thief won (check-seqcst). */
    int won = atomic_compare_exchange_strong_explicit(&q->top, &t, t + 1, memory_order_seq_cst,
                                                      memory_order_relaxed);
    /* release: see the first store above; the deque is empty either way. */
    atomic_store_explicit(&q->bottom, b + 1, memory_order_release);
    if (!won)
        return WSRT_DEQUE_EMPTY;
    *item = x;
    return WSRT_DEQUE_GOT;
}

int wsrt_deque_steal(wsrt_deque *q, uintptr_t *item)
{
    return wsrt_deque_steal_unless(q, item, NULL);
}

int wsrt_deque_steal_unless(wsrt_deque *q, uintptr_t *item, _Atomic uint32_t *done_flag)
{
    WSRT_HOOK("steal.begin");
    /* acquire: pairs with other thieves' CAS, so we read the slot after
     * seeing the top they left. */
    int64_t t = atomic_load_explicit(&q->top, memory_order_acquire);
    /* seq_cst fence: orders the load of top before the load of bottom;
     * pairs with the fence in take (see there; check-seqcst). */
    atomic_thread_fence(memory_order_seq_cst);
    /* acquire: pairs with the release store of bottom in push, making the
     * pushed item and the memory it points to visible. */
    int64_t b = atomic_load_explicit(&q->bottom, memory_order_acquire);
    if (t >= b)
        return WSRT_DEQUE_EMPTY;
    WSRT_HOOK("steal.before_slot");
    /* acquire: pairs with the release store in grow (the copied slots). */
    wsrt_deque_array *a = atomic_load_explicit(&q->array, memory_order_acquire);
    /* relaxed: the value is only used if the CAS below confirms that top was
     * still t, i.e. that this slot had not been reused. */
    uintptr_t x = atomic_load_explicit(&a->slot[t & (a->capacity - 1)], memory_order_relaxed);
    WSRT_HOOK("steal.before_cas");
    /* acquire: pairs with the release store of DONE by the thief that ran
     * the frame the caller waits for.  DONE seen: that frame and all its
     * descendants finished, so nothing here is the caller's to run (a
     * waiting worker runs only descendants of what it waits for).  Not
     * seen: the bottom we acquired above was stored before DONE (a later
     * one would carry DONE with it, by its release), so the item at t was
     * pushed while the frame ran, when the thief's deque held only its
     * descendants; if the slot was reused since, the CAS below fails. */
    if (done_flag && atomic_load_explicit(done_flag, memory_order_acquire) == 1)
        return WSRT_DEQUE_EMPTY;
    /* seq_cst on success: totally ordered with the owner's CAS in take and
     * with other thieves; relaxed on failure: nothing was read that counts
     * (check-seqcst). */
    if (!atomic_compare_exchange_strong_explicit(&q->top, &t, t + 1, memory_order_seq_cst,
                                                 memory_order_relaxed))
        return WSRT_DEQUE_LOST_RACE;
    /* The CAS confirmed slot t was not reused: x is the item pushed there,
     * visible through the bottom acquired above. */
    WSRT_ASSERT(x != 0);
    *item = x;
    return WSRT_DEQUE_GOT;
}
