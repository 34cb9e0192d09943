/*
 * tsan_sched.c - the pool and fork-join under ThreadSanitizer (standalone:
 * Criterion does not start under TSan here).  Every index and every task
 * exactly once, exact tree sizes; non-zero exit on any failure.
 */
#include <time.h>

#include "stress.h"

int main(void)
{
    int bad = 0;
    static const uint64_t counts[] = {0, 1, 2, 3, 1000, 100000};
    for (unsigned j = 1; j <= 8; j *= 2)
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++)
            bad += pool_count_run(counts[c], j == 4 ? 3 : j);
    bad += forkjoin_trees_every_api(77, 14, 4, 8);
    for (unsigned api = TREE_IMPLICIT; api <= TREE_MIXED; api++) {
        tree_state chain;
        memset(&chain, 0, sizeof chain);
        chain.chain_depth = 20000;
        chain.api = api;
        wsrt_pool_result res;
        bad += forkjoin_tree_run(&chain, 2, 3, &res);
        free(res.workers);
    }
    /* Threads started ahead (wsrt_pool_create) for as many workers, fewer
     * or more than the run has, handed over while spinning or asleep
     * (after 5 ms), or ended unused while still starting. */
    static const unsigned prepared[][2] = {{4, 4}, {4, 2}, {2, 5}, {8, 8}, {3, 1}, {6, 0}};
    for (size_t k = 0; k < sizeof prepared / sizeof *prepared; k++)
        for (int nap = 0; nap <= 1; nap++) {
            wsrt_pool *pool = wsrt_pool_create(prepared[k][0]);
            if (!pool)
                return 1;
            if (nap)
                nanosleep(&(struct timespec){0, 5000000}, NULL);
            if (prepared[k][1])
                bad += pool_count_run_on(pool, 1000, prepared[k][1]);
            wsrt_pool_destroy(pool);
        }
    for (unsigned jobs = 1; jobs <= 4; jobs++) {
        bad += fib_check(18, 3, jobs, 0);
        bad += fib_check(18, 3, jobs, 1);
    }
    printf("tsan_sched: %s\n", bad ? "FAILED" : "ok");
    return bad != 0;
}
