/*
 * test_hooks.c - the test builds' WSRT_HOOK points (see test_hooks.h): call
 * the test's callback, and in schedule fuzzing mode yield or spin by a
 * seeded random stream.  Compiled to nothing in release builds.  Must never
 * lock or allocate (hooks sit inside the deque and the signal-safe stop).
 */
#include "test_hooks.h"

#ifdef WS_TEST_HOOKS
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "run.h"

static _Atomic(wsrt_test_hook_fn) hook_fn;
static _Atomic unsigned long long fuzz_seed;
static _Atomic unsigned long long fuzz_threads;
static _Thread_local uint64_t fuzz_state;
static _Thread_local unsigned long long fuzz_state_seed;

void wsrt_test_hook_set(wsrt_test_hook_fn fn)
{
    /* seq_cst: set between runs; no ordering argument needed beyond it. */
    atomic_store(&hook_fn, fn);
}

void wsrt_test_fuzz_set(unsigned long long seed)
{
    atomic_store(&fuzz_seed, seed);
}

static void fuzz(unsigned long long seed)
{
    if (fuzz_state_seed != seed) {
        /* relaxed: only makes each thread's stream different. */
        unsigned long long n = atomic_fetch_add_explicit(&fuzz_threads, 1, memory_order_relaxed);
        fuzz_state = ws_mix64(seed ^ (n * 0x9e3779b97f4a7c15u));
        fuzz_state_seed = seed;
    }
    fuzz_state = fuzz_state * 6364136223846793005u + 1442695040888963407u;
    unsigned r = (unsigned)(fuzz_state >> 58); /* 0..63 */
    if (r == 63 && ((fuzz_state >> 40) & 7) == 0) /* 1 in 512: a long pause */
        for (unsigned k = 0; k < 32; k++)
            sched_yield();
    else if (r < 8)
        sched_yield();
    else if (r < 16)
        for (volatile unsigned spin = 0; spin < 64u * (r - 7); spin++)
            ;
}

void wsrt_test_hook(const char *point)
{
    /* relaxed (both): set between runs, by the thread that starts them. */
    unsigned long long seed = atomic_load_explicit(&fuzz_seed, memory_order_relaxed);
    if (seed)
        fuzz(seed);
    wsrt_test_hook_fn fn = atomic_load_explicit(&hook_fn, memory_order_relaxed);
    if (fn)
        fn(point);
}
#else
typedef int wsrt_test_hooks_unused; /* an empty translation unit is not C */
#endif
