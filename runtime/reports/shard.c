/*
 * shard.c - dividing an index space between processes: --shard K/N
 * (static, contiguous) and the guided block sequence behind wsrun-mpi's
 * shared counter.  Pure arithmetic on uint64_t: must never overflow, never
 * lose or repeat an index, and never depend on anything but its arguments
 * (every rank computes the same blocks on its own).
 */
#include "shard.h"

#include <stdio.h>
#include <string.h>

static int parse_decimal(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int wsrt_shard_parse(const char *text, uint64_t *k, uint64_t *n, char *why, size_t why_size)
{
    const char *slash = strchr(text, '/');
    if (!slash || parse_decimal(text, (size_t)(slash - text), k) != 0 ||
        parse_decimal(slash + 1, strlen(slash + 1), n) != 0) {
        snprintf(why, why_size,
                 "--shard: expected K/N, two whole numbers with 0 <= K < N (e.g. 0/4), got '%s'",
                 text);
        return -1;
    }
    if (*n == 0) {
        snprintf(why, why_size, "--shard: N must be at least 1, got '%s'", text);
        return -1;
    }
    if (*k >= *n) {
        snprintf(why, why_size,
                 "--shard: K must be less than N (shards are numbered 0 to N-1), got '%s'", text);
        return -1;
    }
    return 0;
}

void wsrt_shard_range(uint64_t count, uint64_t k, uint64_t n, uint64_t *begin, uint64_t *end)
{
    /* k * q <= count and min(k, r) < n, so nothing here can overflow. */
    uint64_t q = count / n, r = count % n;
    *begin = k * q + (k < r ? k : r);
    *end = *begin + q + (k < r ? 1 : 0);
}

/* ------------------------------------------------------------- guided */

/* ceil(remaining / divisor): never more than remaining, as divisor >= 1.
 * Once it is at most min_block, every later block is min_block long. */
static uint64_t guided_size(uint64_t remaining, uint64_t divisor)
{
    return remaining / divisor + (remaining % divisor != 0);
}

static uint64_t tail_blocks(uint64_t remaining, uint64_t min_block)
{
    return remaining / min_block + (remaining % min_block != 0);
}

void wsrt_guided_init(wsrt_guided *g, uint64_t begin, uint64_t end, uint64_t divisor,
                    uint64_t min_block)
{
    g->begin = begin;
    g->end = end > begin ? end : begin;
    g->divisor = divisor ? divisor : 1;
    g->min_block = min_block ? min_block : 1;
    g->at = 0;
    g->at_begin = g->begin;
}

int wsrt_guided_block(wsrt_guided *g, uint64_t ticket, uint64_t *begin, uint64_t *end)
{
    if (ticket < g->at) {
        g->at = 0;
        g->at_begin = g->begin;
    }
    while (g->at_begin < g->end) {
        uint64_t remaining = g->end - g->at_begin;
        uint64_t size = guided_size(remaining, g->divisor);
        if (size <= g->min_block) {
            /* From here on every block is min_block long (the last one
             * maybe shorter): jump straight to the ticket. */
            uint64_t skip = ticket - g->at;
            if (skip >= tail_blocks(remaining, g->min_block))
                return 0;
            *begin = g->at_begin + skip * g->min_block;
            *end = *begin + (g->end - *begin < g->min_block ? g->end - *begin : g->min_block);
            return 1;
        }
        if (g->at == ticket) {
            *begin = g->at_begin;
            *end = g->at_begin + size;
            return 1;
        }
        g->at++;
        g->at_begin += size;
    }
    return 0;
}

uint64_t wsrt_guided_count(uint64_t begin, uint64_t end, uint64_t divisor, uint64_t min_block)
{
    wsrt_guided g;
    wsrt_guided_init(&g, begin, end, divisor, min_block);
    uint64_t blocks = 0;
    while (g.at_begin < g.end) {
        uint64_t remaining = g.end - g.at_begin;
        uint64_t size = guided_size(remaining, g.divisor);
        if (size <= g.min_block)
            return blocks + tail_blocks(remaining, g.min_block);
        blocks++;
        g.at_begin += size;
    }
    return blocks;
}
