/*
 * futex.h - internal: the two futex calls the pool and its standby threads
 * park and wake with.  Must never be used on a word shared between
 * processes (the calls are the PRIVATE ones).
 */
#ifndef WSRT_FUTEX_H
#define WSRT_FUTEX_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleep while *word == expected, at most timeout_ns (0: no limit); returns
 * at once if the word already differs. */
static inline void wsrt_futex_wait(_Atomic uint32_t *word, uint32_t expected, long timeout_ns)
{
    struct timespec ts = {timeout_ns / 1000000000L, timeout_ns % 1000000000L};
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, timeout_ns ? &ts : NULL,
            NULL, 0);
}

static inline void wsrt_futex_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

#endif
