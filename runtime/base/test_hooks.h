/*
 * test_hooks.h - internal: named points in deque.c and sched.c where a test
 * build can hold a thread (to force one interleaving) or, in the schedule
 * fuzzing mode, yield or spin for a random, seeded moment.
 *
 * In release builds (no WS_TEST_HOOKS) WSRT_HOOK is empty and costs nothing.
 * The Makefile compiles the runtime copy that the test binaries, the TSan
 * programs and the soak link with -DWS_TEST_HOOKS.  A hook must never take
 * a lock or allocate: it runs inside the deque and the signal-safe stop.
 */
#ifndef WSRT_TEST_HOOKS_H
#define WSRT_TEST_HOOKS_H

#ifdef WS_TEST_HOOKS
/* The point's name is a string literal; tests compare it with strcmp. */
void wsrt_test_hook(const char *point);
#define WSRT_HOOK(point) wsrt_test_hook(point)

/* The test's callback, run at every point by every thread (NULL: none). */
typedef void (*wsrt_test_hook_fn)(const char *point);
void wsrt_test_hook_set(wsrt_test_hook_fn fn);
/* Schedule fuzzing: from now on every point yields (about 1 in 8) or spins
 * a few hundred cycles (1 in 8), and 1 in 512 pauses for 32 yields, by a
 * per-thread stream derived from `seed`; seed 0 turns it off. */
void wsrt_test_fuzz_set(unsigned long long seed);
#else
#define WSRT_HOOK(point) ((void)0)
#endif

#endif
