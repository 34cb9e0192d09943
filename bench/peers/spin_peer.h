/*
 * spin_peer.h - the spin peers' view of the spin work (implemented in C in
 * spin_peer.c on top of plugins/spin_work.h), so that the serial, OpenMP
 * and oneTBB loops (C and C++) burn exactly what the plugin burns.  Never
 * exposes wsrun.h to C++.
 */
#ifndef SPIN_PEER_H
#define SPIN_PEER_H

#include <stdint.h>

#include "peer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spin_peer spin_peer;

/* From count=, mean-us=, shape=, iters-per-us= (0: calibrate), seed=;
 * prints the offending word and exits 2 on a bad one. */
spin_peer *spin_peer_new(const peer_args *a);
uint64_t spin_peer_count(const spin_peer *s);
/* Burn index i's work; returns a value to keep the work observable. */
uint64_t spin_peer_run(const spin_peer *s, uint64_t index);
/* Busy-loop steps per microsecond here (the plugin's calibration). */
double spin_peer_calibrate(void);
/* The plugin's result line: "spin(<shape>) = <ran> tasks, <work> s of work". */
void spin_peer_report(const spin_peer *s, uint64_t ran);

#ifdef __cplusplus
}
#endif
#endif /* SPIN_PEER_H */
