/*
 * bench_timing.h - the span the benchmark plugins report with -o timing=on:
 * wall time and the whole process's CPU time from the end of init to the
 * start of finish, printed as "time_s W" and "cpu_s C".  The CPU figure
 * lets bench/run.sh judge work overhead on a machine shared with other
 * processes, where wall times swing.  Must never be read in a hot path.
 */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include <stdio.h>
#include <time.h>

typedef struct bench_clock {
    struct timespec wall, cpu;
} bench_clock;

static inline void bench_clock_start(bench_clock *c)
{
    clock_gettime(CLOCK_MONOTONIC, &c->wall);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c->cpu);
}

static inline double bench_seconds_since(const struct timespec *t0, clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return (double)(now.tv_sec - t0->tv_sec) + 1e-9 * (double)(now.tv_nsec - t0->tv_nsec);
}

/* The span so far; call first thing in finish. */
static inline void bench_clock_elapsed(const bench_clock *c, double *wall_s, double *cpu_s)
{
    *wall_s = bench_seconds_since(&c->wall, CLOCK_MONOTONIC);
    *cpu_s = bench_seconds_since(&c->cpu, CLOCK_PROCESS_CPUTIME_ID);
}

static inline void bench_clock_print(double wall_s, double cpu_s)
{
    printf("time_s %.6f\ncpu_s %.6f\n", wall_s, cpu_s);
}

#endif /* BENCH_TIMING_H */
