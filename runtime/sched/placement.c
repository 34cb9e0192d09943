/*
 * placement.c - start each worker thread on a CPU of its own, then let it
 * move (see placement.h).  Must never make a failed affinity call fail a
 * run, and never leave a worker pinned once it has started.
 */
#include "placement.h"

#include <unistd.h>

void wsrt_placement_read(wsrt_placement *pl, unsigned jobs)
{
    pl->n_cpus = 0;
    pl->first_cpu = 0;
    pl->have_allowed = sched_getaffinity(0, sizeof pl->allowed, &pl->allowed) == 0;
    if (jobs > 1 && pl->have_allowed) {
        int here = sched_getcpu();
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &pl->allowed)) {
                if (c == here)
                    pl->first_cpu = pl->n_cpus;
                pl->cpus[pl->n_cpus++] = c;
            }
    }
    pl->spread = pl->n_cpus > 1;
}

void wsrt_placement_start_on(const wsrt_placement *pl, unsigned i, pthread_attr_t *attr)
{
    if (!pl->spread)
        return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(pl->cpus[(pl->first_cpu + i) % pl->n_cpus], &one);
    pthread_attr_setaffinity_np(attr, sizeof one, &one);
}

void wsrt_placement_let_go(const wsrt_placement *pl)
{
    if (pl->spread)
        pthread_setaffinity_np(pthread_self(), sizeof pl->allowed, &pl->allowed);
}

unsigned wsrt_cpus_allowed(unsigned max)
{
    cpu_set_t set;
    long n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 1;
    return n > (long)max ? max : (unsigned)n;
}
