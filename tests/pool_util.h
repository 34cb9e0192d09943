/*
 * pool_util.h - tests' shorthand for one run on a pool of its own
 * (runtime/sched/pool.h): create, run, destroy, so each run starts and ends
 * every thread it used; and a count of the process's threads.  Must never register the pool (tests that need a
 * stop from another thread hold the pool themselves) and never keep a
 * pool between calls.
 */
#ifndef WSTEST_POOL_UTIL_H
#define WSTEST_POOL_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pool.h"

/* wsrt_pool_run on a new pool sized for run->jobs; -1 also when the pool
 * cannot be created (said on stderr). */
static inline int test_pool_run(ws_run *run, wsrt_pool_result *res)
{
    wsrt_pool *pool = wsrt_pool_create(run->jobs ? run->jobs : 1);
    if (!pool) {
        fprintf(stderr, "test_pool_run: wsrt_pool_create: %s\n", strerror(errno));
        memset(res, 0, sizeof *res);
        return -1;
    }
    int rc = wsrt_pool_run(pool, run, res);
    wsrt_pool_destroy(pool);
    return rc;
}

/* The threads of this process now (/proc/self/task): tests that a pool
 * leaves none behind compare it before and after. */
static inline unsigned test_threads_of_process(void)
{
    unsigned n = 0;
    DIR *d = opendir("/proc/self/task");
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* The thread count once it is `want`, or what it is after 30 s.  A joined
 * thread can still be listed for a moment: pthread_join returns when the
 * kernel clears the thread's id, which comes before the kernel releases
 * the task; and prepared threads start one another.  So tests wait for the
 * count (an event), the bound only turning a hang into a failure. */
static inline unsigned test_threads_settle(unsigned want)
{
    for (int ms = 0; ms < 30000 && test_threads_of_process() != want; ms++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    return test_threads_of_process();
}

/* Built with a sanitizer (gcc's macros, or clang's __has_feature). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WSTEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define WSTEST_SANITIZED 1
#endif
#endif

#endif
