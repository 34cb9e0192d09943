/*
 * placement.h - internal: which CPU each worker thread starts on
 * (runtime/sched/placement.c).  Worker i starts on the i-th allowed CPU counted
 * from the caller's, then lets itself run on every allowed CPU.  Left to
 * itself, Linux here often put a new thread on the CPU of another that was
 * already busy and moved it only much later (figures: docs/design.md,
 * "Costs measured on the project's VM").
 * Never fails anything: every call is a hint whose failure changes nothing.
 */
#ifndef WSRT_PLACEMENT_H
#define WSRT_PLACEMENT_H

#include <pthread.h>
#include <sched.h>

typedef struct wsrt_placement {
    cpu_set_t allowed;     /* the caller's mask (valid when have_allowed) */
    int have_allowed;
    int spread;            /* several allowed CPUs and several workers: place them */
    int cpus[CPU_SETSIZE]; /* the allowed CPUs' numbers */
    unsigned n_cpus;
    unsigned first_cpu;    /* index in cpus of the CPU the caller ran on */
} wsrt_placement;

/* The CPUs this process may use: its affinity mask's count, else the
 * online CPUs, at least 1, at most `max` (wsrun's default -j, the
 * embedding API's jobs = 0, --scaling's default list). */
unsigned wsrt_cpus_allowed(unsigned max);

/* Read the calling thread's mask and CPU, for a run of `jobs` workers. */
void wsrt_placement_read(wsrt_placement *pl, unsigned jobs);

/* Make `attr` start worker i's thread on its CPU (when spread). */
void wsrt_placement_start_on(const wsrt_placement *pl, unsigned i, pthread_attr_t *attr);

/* The calling thread, started by wsrt_placement_start_on, may now run on
 * every allowed CPU. */
void wsrt_placement_let_go(const wsrt_placement *pl);

#endif
