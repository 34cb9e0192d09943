/*
 * empty_load.h - hand the empty plugin's own run_one to the empty peers
 * (C and C++), loaded from build/plugins/empty.so with dlopen, so the
 * peers call exactly the function wsrun calls.  Never exposes wsrun.h.
 */
#ifndef EMPTY_LOAD_H
#define EMPTY_LOAD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* run_one's type with the plugin's pointer types erased (same ABI). */
typedef int (*empty_run_fn)(void *state, uint64_t index, void *ctx);

/* The run_one of the plugin at `path`; prints why and exits 2 on failure. */
empty_run_fn empty_load_run_one(const char *path);

#ifdef __cplusplus
}
#endif
#endif /* EMPTY_LOAD_H */
