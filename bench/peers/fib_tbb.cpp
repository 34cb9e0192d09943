/*
 * fib_tbb.cpp - benchmark peer: fib(n) with oneTBB's task_group, one task
 * per call like the fib plugin: run fib(n-1), fib(n-2) inline, wait.  Below
 * `cutoff` plain recursion.  Must stay the textbook form.
 *
 *   fib_tbb -j 2 n=35 cutoff=0
 */
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include "peer.h"
#include "peer_tbb.h"

static int64_t fib_serial(int64_t n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

static int64_t fib_tasks(int64_t n, int64_t cutoff)
{
    if (n < 2)
        return n;
    if (n < cutoff)
        return fib_serial(n);
    int64_t x = 0;
    tbb::task_group g;
    g.run([&] { x = fib_tasks(n - 1, cutoff); });
    int64_t y = fib_tasks(n - 2, cutoff);
    g.wait();
    return x + y;
}

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    int64_t n = peer_int(&a, "n", 35), cutoff = peer_int(&a, "cutoff", 0);
    int64_t r = 0;
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, (size_t)a.jobs);
    tbb::task_arena arena(a.jobs);
    peer_tbb_start_pool(arena, a.jobs);
    peer_clock span = peer_start();
    arena.execute([&] { r = fib_tasks(n, cutoff); });
    peer_stop(&span);
    printf("fib(%lld) = %lld\n", (long long)n, (long long)r);
    peer_report(&span);
    return 0;
}
