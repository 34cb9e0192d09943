/*
 * pool_registry.h - internal: the one process-wide pool pointer, for the
 * commands (wsrun, wsrun-mpi) whose signal handlers and progress line must
 * reach the pool they run (runtime/cmd/pool_registry.c).  The pool itself
 * (pool.h) knows nothing of it.
 *
 * Protocol: the command registers its pool before the handlers that use
 * it can fire for it (wsrun: right after wsrt_pool_create, before the
 * plugin loads and before wsrt_interrupts_install), and unregisters it
 * before wsrt_pool_destroy; unregistering waits until no reader (a
 * handler, the progress thread) is still inside.  Readers are the
 * wsrt_registry_* queries below; each brackets its use of the pool, so
 * the pool is never freed under one.  A stop asked while no pool is
 * registered does nothing: the command registers before it installs the
 * handlers, so no interrupt meant for a run is lost that way.
 * Must never be used by the pool's own files, and never hold more than
 * one pool.
 */
#ifndef WSRT_POOL_REGISTRY_H
#define WSRT_POOL_REGISTRY_H

#include <stdint.h>

#include "pool.h"

/* Make `pool` the registered one: 0, or -1 if one is registered already
 * (or pool is NULL).  The thread that runs the pool. */
int wsrt_registry_register(wsrt_pool *pool);

/* Forget the registered pool and wait for the readers still using it;
 * returns it (NULL if none), which the caller may now destroy. */
wsrt_pool *wsrt_registry_unregister(void);

/* wsrt_pool_request_stop on the registered pool (async-signal-safe;
 * nothing if none). */
void wsrt_registry_request_stop(void);

/* wsrt_pool_progress and wsrt_pool_busy_workers of the registered pool
 * (any thread; 0 if none). */
uint64_t wsrt_registry_progress(void);
unsigned wsrt_registry_busy_workers(void);

#endif
