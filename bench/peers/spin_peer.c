/*
 * spin_peer.c - spin work for the peers (see spin_peer.h): parses the
 * peers' key=value words into spin_params and burns an index's work with
 * plugins/spin_work.h, the plugin's own code.  Must never differ from the
 * plugin in what an index costs.
 */
#include "spin_peer.h"

#include "spin_work.h"

struct spin_peer {
    spin_params params;
};

static const char *const spin_shape_names[] = {"fixed", "uniform", "heavy", "pareto", "giant"};

spin_peer *spin_peer_new(const peer_args *a)
{
    spin_peer *s = calloc(1, sizeof *s);
    if (!s)
        peer_die(a, "out of memory", "spin_peer");
    long long count = peer_int(a, "count", 20000);
    if (count < 0)
        peer_die(a, "count must be >= 0", peer_str(a, "count", ""));
    const char *shape = peer_str(a, "shape", "uniform");
    s->params.shape = -1;
    for (int k = 0; k < 5; k++)
        if (strcmp(shape, spin_shape_names[k]) == 0)
            s->params.shape = k;
    if (s->params.shape < 0)
        peer_die(a, "shape must be " SPIN_SHAPE_NAMES, shape);
    s->params.mean_us = peer_double(a, "mean-us", 10.0);
    s->params.iters_per_us = peer_double(a, "iters-per-us", 0.0);
    if (s->params.iters_per_us <= 0)
        s->params.iters_per_us = spin_calibrate();
    s->params.count = (uint64_t)count;
    s->params.seed = (uint64_t)peer_int(a, "seed", 0);
    s->params.giant = spin_giant_index(s->params.seed, s->params.count);
    return s;
}

double spin_peer_calibrate(void)
{
    return spin_calibrate();
}

uint64_t spin_peer_count(const spin_peer *s)
{
    return s->params.count;
}

uint64_t spin_peer_run(const spin_peer *s, uint64_t index)
{
    return spin_burn(spin_iters(&s->params, index), index);
}

void spin_peer_report(const spin_peer *s, uint64_t ran)
{
    double work_us = 0;
    for (uint64_t i = 0; i < s->params.count; i++)
        work_us += spin_cost_us(&s->params, i);
    printf("spin(%s) = %llu tasks, %.3f s of work\n", spin_shape_names[s->params.shape],
           (unsigned long long)ran, work_us * 1e-6);
}
