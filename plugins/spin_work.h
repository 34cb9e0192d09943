/*
 * spin_work.h - the spin benchmark's per-index work, shared by the spin
 * plugin and its peers (bench/peers/spin_peer.c): how long index i should
 * take for each imbalance shape, and a calibrated busy loop that burns it.
 *
 * The cost of an index depends only on (seed, index, count), drawn from
 * the index's wsrun random stream, so every program burns the same work.
 * The work is a dependent multiply-add chain: it must never sleep, touch
 * memory, or be something the compiler can shorten.
 */
#ifndef SPIN_WORK_H
#define SPIN_WORK_H

#include <math.h>
#include <stdint.h>
#include <time.h>

#include "wsrun.h"

enum { SPIN_FIXED, SPIN_UNIFORM, SPIN_HEAVY, SPIN_PARETO, SPIN_GIANT };
#define SPIN_SHAPE_NAMES "fixed|uniform|heavy|pareto|giant"

/* Pareto tail index of the heavy shapes: finite mean, infinite variance. */
#define SPIN_PARETO_ALPHA 1.5
/* No single index costs more than this many means (keeps a freak draw of
 * the unbounded Pareto from swallowing the run). */
#define SPIN_CAP_MEANS 1000.0

typedef struct spin_params {
    int shape;
    double mean_us;
    double iters_per_us;
    uint64_t count;
    uint64_t seed;
    uint64_t giant; /* the giant index (shape giant) */
} spin_params;

/* The giant sits at a seed-chosen index (the stream of index `count`). */
static inline uint64_t spin_giant_index(uint64_t seed, uint64_t count)
{
    ws_rng r = ws_rng_make(seed, count);
    return count ? ws_rng_next(&r) % count : 0;
}

/* Microseconds of work for index i:
 *   fixed    exactly the mean;
 *   uniform  uniform in [0.5, 1.5] x mean;
 *   heavy    Pareto(alpha 1.5) with that mean, big items first: index i
 *            takes the quantile at (i + u) / count, so cost falls along
 *            the range as in a size-sorted input (clustered imbalance);
 *   pareto   the same distribution drawn independently per index;
 *   giant    the mean, except one index that costs (count - 1) means,
 *            half of all the work. */
static inline double spin_cost_us(const spin_params *p, uint64_t i)
{
    ws_rng r = ws_rng_make(p->seed, i);
    double u = ws_rng_double(&r); /* [0, 1) */
    double x_min = p->mean_us * (SPIN_PARETO_ALPHA - 1.0) / SPIN_PARETO_ALPHA;
    double cost;
    switch (p->shape) {
    case SPIN_UNIFORM:
        return p->mean_us * (0.5 + u);
    case SPIN_HEAVY:
        cost = x_min * pow(((double)i + 1.0 - u) / (double)p->count, -1.0 / SPIN_PARETO_ALPHA);
        break;
    case SPIN_PARETO:
        cost = x_min * pow(1.0 - u, -1.0 / SPIN_PARETO_ALPHA);
        break;
    case SPIN_GIANT:
        return i == p->giant ? p->mean_us * (double)(p->count - 1) : p->mean_us;
    default:
        return p->mean_us;
    }
    return cost < SPIN_CAP_MEANS * p->mean_us ? cost : SPIN_CAP_MEANS * p->mean_us;
}

static inline uint64_t spin_iters(const spin_params *p, uint64_t i)
{
    return (uint64_t)(spin_cost_us(p, i) * p->iters_per_us + 0.5);
}

/* Burn `iters` steps of a dependent chain; the empty asm keeps each step. */
static inline uint64_t spin_burn(uint64_t iters, uint64_t x)
{
    for (uint64_t k = 0; k < iters; k++) {
        x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}

/* Busy-loop steps per microsecond on this machine: the fastest of a few
 * 2^20-step bursts (a burst slowed by another process reads too low). */
static inline double spin_calibrate(void)
{
    double best = 0.0;
    for (int trial = 0; trial < 5; trial++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        spin_burn(UINT64_C(1) << 20, (uint64_t)trial);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double us = 1e6 * (double)(b.tv_sec - a.tv_sec) + 1e-3 * (double)(b.tv_nsec - a.tv_nsec);
        double rate = us > 0 ? (double)(UINT64_C(1) << 20) / us : 0.0;
        if (rate > best)
            best = rate;
    }
    return best > 0 ? best : 1000.0;
}

#endif /* SPIN_WORK_H */
