/*
 * standby.h - internal: worker threads started before the run that uses
 * them (runtime/standby.c).  ws_pool_prepare starts them before the CLI
 * loads the plugin, so what starting a thread costs on this project's VM
 * (0.2 ms of the starter's time, 0.2-0.5 ms until the thread runs, its
 * first page faults) overlaps the loading and the plugin's init instead of
 * delaying the run; the pool then hands each worker to a waiting thread.
 * Slot k (1 <= k < jobs) is worker k's thread; slot k's thread starts slots
 * 2k and 2k+1 before it waits, as worker threads start one another.
 * Must never run anything on a thread before it is handed a function, and
 * never leave a thread it started unjoined after ws_standby_release.
 */
#ifndef WSRUN_STANDBY_H
#define WSRUN_STANDBY_H

#include <pthread.h>
#include <stddef.h>

#include "placement.h"

/* Start waiting threads for slots 1..jobs-1, with stacks of stack_bytes,
 * each placed as `pl` says.  Threads that cannot start leave their slots
 * (and those below them) empty.  Ends any earlier set first. */
void ws_standby_start(unsigned jobs, const ws_placement *pl, size_t stack_bytes);

/* Hand fn(arg) to slot k's waiting thread: 0 with *thread set (the caller
 * joins it), or -1 when there is none (start a thread instead).  Only the
 * thread that started slot k, or one it started since, may call this: for
 * slot 1 the caller of ws_standby_start (or a thread it started after),
 * for slot k > 1 slot k/2's thread (once handed its own function). */
int ws_standby_take(unsigned k, void *(*fn)(void *), void *arg, pthread_t *thread);

/* Slots k and above will not be taken: their threads end now. */
void ws_standby_drop_from(unsigned k);

/* End every thread not taken, join them, and forget the set.  The thread
 * that called ws_standby_start, once the threads it took have ended. */
void ws_standby_release(void);

#endif
