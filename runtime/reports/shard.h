/*
 * shard.h - internal: how an index space [begin, end) is divided between
 * processes.  Two pure calculations, no I/O and no MPI:
 *   - the K-th of N contiguous shards (--shard K/N, for job arrays);
 *   - a guided block sequence (wsrun-mpi's shared counter hands out block
 *     numbers; every rank turns a number into the same [begin, end)).
 * Both must cover the index space exactly once, for any sizes: never an
 * index twice, never one left out, never an overflow near 2^64.
 */
#ifndef WSRT_SHARD_H
#define WSRT_SHARD_H

#include <stddef.h>
#include <stdint.h>

/* Parse "K/N" (decimal, 0 <= K < N, N >= 1).  On failure returns -1 with a
 * one-line reason in `why` (naming --shard and the text). */
int wsrt_shard_parse(const char *text, uint64_t *k, uint64_t *n, char *why, size_t why_size);

/* Shard K of N of [0, count): the first count % N shards hold one index
 * more than the rest; shards past the count are empty (begin == end). */
void wsrt_shard_range(uint64_t count, uint64_t k, uint64_t n, uint64_t *begin, uint64_t *end);

/* Guided blocks over [begin, end): block t holds max(min_block,
 * ceil(remaining / divisor)) indices (fewer only at the very end), where
 * `remaining` is what blocks 0..t-1 left over.  Blocks shrink as the run
 * nears its end, so the last ones are small and every taker finishes at
 * about the same time. */
typedef struct wsrt_guided {
    uint64_t begin, end;
    uint64_t divisor;   /* >= 1: e.g. 2 * all workers of all ranks */
    uint64_t min_block; /* >= 1 */
    /* A walker: block `at` starts at `at_begin`.  Asking for blocks in
     * increasing order (what each rank does) costs O(1) amortised. */
    uint64_t at, at_begin;
} wsrt_guided;

void wsrt_guided_init(wsrt_guided *g, uint64_t begin, uint64_t end, uint64_t divisor,
                    uint64_t min_block);
/* Block number `ticket`: returns 1 and its range, or 0 when the blocks
 * ran out before it. */
int wsrt_guided_block(wsrt_guided *g, uint64_t ticket, uint64_t *begin, uint64_t *end);
/* How many blocks the whole sequence has. */
uint64_t wsrt_guided_count(uint64_t begin, uint64_t end, uint64_t divisor, uint64_t min_block);

#endif
