/*
 * wake.h - internal: the wake-up of a parked worker when work is published
 * (sched.c's publish_half), and the sleeper's half of the same handshake.
 * Without it a thief that parks just after its last failed steal sleeps out
 * its timeout (up to 1 ms) while the frames it asked for wait.
 *
 * The handshake (Dekker-style, carried by read-modify-writes of the
 * sleepers count, which ThreadSanitizer understands, where it rejects
 * fences):
 *
 *   publisher                          sleeper
 *   p1 push frames (bottom store)      s1 seq = load wake_seq
 *   p2 n = sleepers += 0 (seq_cst)     s2 sleepers += 1 (seq_cst)
 *   p3 if n > 0: wake_seq += 1, wake   s3 look at every deque; wait(seq)
 *                                         only if all are empty
 *
 * p2 and s2 are read-modify-writes of one variable, so one comes first in
 * its modification order and the other reads its value (or a later RMW's,
 * still in its release sequence):
 *  - s2 first: p2 reads n > 0 and, acquiring s2's release, s1 happens
 *    before p3, so s1 read a wake_seq older than p3's increment and the
 *    futex wait returns at once (or p3's wake finds the sleeper waiting);
 *  - p2 first: s2 acquires p2's release, so p1 happens before s3, which
 *    sees the pushed frames (or a later change: a steal, or the owner
 *    taking them back) and does not wait.
 * So no published frame waits for a parked worker's timeout.  The cost on
 * the publisher's side when nobody sleeps is one locked add (its price:
 * docs/design.md, "Costs measured on the project's VM"); publishing
 * happens only when a thief asked for work.
 *
 * Must never be called with the fields of another pool than the one
 * whose deques were pushed to or looked at.
 */
#ifndef WSRT_WAKE_H
#define WSRT_WAKE_H

#include <stdatomic.h>
#include <stdint.h>

#include "futex.h"

/* Publisher, after pushing frames to its deque (p2, p3). */
static inline void wsrt_wake_after_publish(_Atomic int *sleepers, _Atomic uint32_t *wake_seq)
{
    /* seq_cst RMW, not a load: see the header (p2). */
    if (atomic_fetch_add_explicit(sleepers, 0, memory_order_seq_cst) > 0) {
        /* p3: changes the word a sleeper is about to wait on. */
        atomic_fetch_add_explicit(wake_seq, 1, memory_order_seq_cst);
        wsrt_futex_wake(wake_seq, 1);
    }
}

/* Sleeper, before its last look at the deques (s1, s2): returns the
 * futex value to wait on.  The caller undoes the count after waiting. */
static inline uint32_t wsrt_wake_prepare_park(_Atomic int *sleepers, _Atomic uint32_t *wake_seq)
{
    /* acquire: a wake after this load changes the word (s1). */
    uint32_t seq = atomic_load_explicit(wake_seq, memory_order_acquire);
    /* seq_cst RMW: see the header (s2). */
    atomic_fetch_add_explicit(sleepers, 1, memory_order_seq_cst);
    return seq;
}

/* Test hook (tests/tsan_wake.c): nonzero makes parked workers wait without
 * a timeout, so a lost wake-up hangs instead of costing 1 ms, and makes an
 * idle worker park after its first few empty rounds instead of
 * `rounds_before_park`: the test waits for the thief to sleep before it
 * publishes, and the yields before parking take a time slice each on a
 * busy machine (256 of them per round made the test's length grow with
 * the load past any limit).  Relaxed: set between runs, before the workers
 * start. */
extern _Atomic int wsrt_wake_test_untimed;

static inline long wsrt_wake_park_timeout(long park_ns)
{
    return atomic_load_explicit(&wsrt_wake_test_untimed, memory_order_relaxed) ? 0 : park_ns;
}

static inline unsigned wsrt_wake_park_rounds(unsigned rounds_before_park, unsigned test_rounds)
{
    return atomic_load_explicit(&wsrt_wake_test_untimed, memory_order_relaxed) ? test_rounds
                                                                               : rounds_before_park;
}

#endif
