/*
 * spin_omp.c - benchmark peer: the spin work in an OpenMP loop (libgomp)
 * with the schedule a user would pick: schedule=static (default chunks:
 * one contiguous block per thread), dynamic (chunk 1) or guided.
 *
 *   spin_omp -j 2 schedule=dynamic count=20000 mean-us=10 shape=heavy ...
 */
#include <omp.h>

#include "spin_peer.h"
#include "peer_omp.h"

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    spin_peer *s = spin_peer_new(&a);
    const char *sched = peer_str(&a, "schedule", "static");
    if (strcmp(sched, "static") == 0)
        omp_set_schedule(omp_sched_static, 0);
    else if (strcmp(sched, "dynamic") == 0)
        omp_set_schedule(omp_sched_dynamic, 1);
    else if (strcmp(sched, "guided") == 0)
        omp_set_schedule(omp_sched_guided, 1);
    else
        peer_die(&a, "schedule must be static|dynamic|guided", sched);
    omp_set_num_threads(a.jobs);
    long long n = (long long)spin_peer_count(s);
    uint64_t sink = 0;
    peer_omp_start_pool();
    peer_clock span = peer_start();
#pragma omp parallel for schedule(runtime) reduction(+ : sink)
    for (long long i = 0; i < n; i++)
        sink += spin_peer_run(s, (uint64_t)i);
    peer_stop(&span);
    spin_peer_report(s, (uint64_t)n);
    peer_report(&span);
    return sink == 42 ? 3 : 0;
}
