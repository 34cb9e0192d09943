/*
 * start_error.c - the one line that says why a run's workers could not
 * start (wsrt_pool_start_error, pool.h): the reason, and the address space
 * the workers reserve against the process's limit, the usual cause (each
 * reserves its C stack and frame stack whole, touched or not).  Must
 * never print (the caller adds "wsrun: " and its own way out) and never
 * read the pool: only the result it handed back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "pool.h"

void wsrt_pool_start_error(const wsrt_pool_result *r, char *buf, size_t size)
{
    unsigned long long per_mib = (r->reserved_per_worker + (1u << 20) - 1) >> 20;
    unsigned long long all_mib = per_mib * r->jobs;
    struct rlimit lim;
    char limit[128];
    if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
        snprintf(limit, sizeof limit, "against the address-space limit (ulimit -v) of %llu MiB",
                 (unsigned long long)(lim.rlim_cur >> 20));
    else
        snprintf(limit, sizeof limit, "(no address-space limit is set)");
    snprintf(buf, size,
             "only %u of %u workers could start (%s): each reserves %llu MiB of address space "
             "(its stack and frames), %u x %llu MiB = %llu MiB %s",
             r->workers_started, r->jobs, strerror(r->start_errno ? r->start_errno : EAGAIN),
             per_mib, r->jobs, per_mib, all_mib, limit);
}
