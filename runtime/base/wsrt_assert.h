/*
 * wsrt_assert.h - internal: WSRT_ASSERT, the runtime's invariant checks
 * (owner-only deque calls, lock-held sections, frame states), in the
 * manner of cheetah's CILK_ASSERT.  On in the test, sanitizer and fuzz
 * builds (WS_TEST_HOOKS, -fsanitize=address/thread, or -DWS_CHECKS);
 * compiled out of the release build, where the condition is not even
 * evaluated.  Must never hold an expression with a side effect the
 * program needs.
 */
#ifndef WSRT_WSRT_ASSERT_H
#define WSRT_WSRT_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#if defined(WS_TEST_HOOKS) || defined(WS_CHECKS) || defined(__SANITIZE_ADDRESS__) ||          \
    defined(__SANITIZE_THREAD__)
#define WSRT_ASSERTS_ON 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define WSRT_ASSERTS_ON 1
#endif
#endif

#ifdef WSRT_ASSERTS_ON
__attribute__((noreturn, cold)) static inline void
wsrt_assert_failed(const char *what, const char *file, int line, const char *func)
{
    fprintf(stderr, "wsrun: internal error: %s:%d: %s: invariant failed: %s\n", file, line, func,
            what);
    abort();
}
#define WSRT_ASSERT(cond)                                                                           \
    ((cond) ? (void)0 : wsrt_assert_failed(#cond, __FILE__, __LINE__, __func__))
#else
#define WSRT_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

#endif
