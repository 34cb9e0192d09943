/*
 * peer_omp.h - the OpenMP peers' thread-pool start, done before the timed
 * span (see peer.h).  Must never do any of the measured work.
 */
#ifndef PEER_OMP_H
#define PEER_OMP_H

#include <omp.h>

/* libgomp starts a team's threads at its first parallel region and keeps
 * them for the next one of the same size. */
static inline void peer_omp_start_pool(void)
{
#pragma omp parallel
    {
        /* nothing: the region only starts the team */
    }
}

#endif
