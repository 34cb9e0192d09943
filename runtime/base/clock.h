/*
 * clock.h - internal: the one monotonic clock of the runtime.  Every
 * duration, deadline and timestamp the runtime measures comes from here,
 * so two readings taken anywhere in wsrun can be subtracted.
 * Never reads the wall clock (CLOCK_REALTIME) and never sleeps.
 */
#ifndef WSRT_CLOCK_H
#define WSRT_CLOCK_H

#include <stdint.h>
#include <time.h>

#define WSRT_NS_PER_SEC 1000000000ull

/* Nanoseconds on CLOCK_MONOTONIC (async-signal-safe: clock_gettime is). */
static inline uint64_t wsrt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * WSRT_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The same clock at tick resolution (CLOCK_MONOTONIC_COARSE, 1-4 ms):
 * a load of the kernel's last tick time, no TSC read, for code that reads
 * the clock once per index on every worker (the journal's batch age).  Its
 * readings may trail wsrt_now_ns() by a tick: never subtract one from the
 * other. */
static inline uint64_t wsrt_now_coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * WSRT_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The absolute CLOCK_MONOTONIC time `ns` from now, for
 * pthread_cond_timedwait on a condition set up with
 * pthread_condattr_setclock(CLOCK_MONOTONIC). */
static inline struct timespec wsrt_deadline_in(uint64_t ns)
{
    uint64_t at = wsrt_now_ns() + ns;
    struct timespec ts = {(time_t)(at / WSRT_NS_PER_SEC), (long)(at % WSRT_NS_PER_SEC)};
    return ts;
}

#endif
