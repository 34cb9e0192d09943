/*
 * xxh64.h - XXH64 (seed 0 unless given), the checksum the read plugin
 * prints for each file's decoded pixels, so `xxhsum -H1` on the same bytes,
 * or Python's xxhash.xxh64(array[i].tobytes()), gives the same number.
 * Header-only and pure: it must never allocate, keep state or depend on
 * the machine's byte order (input words are read little-endian).
 */
#ifndef WSTASK_XXH64_H
#define WSTASK_XXH64_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WSTASK_XXH_P1 UINT64_C(0x9E3779B185EBCA87)
#define WSTASK_XXH_P2 UINT64_C(0xC2B2AE3D27D4EB4F)
#define WSTASK_XXH_P3 UINT64_C(0x165667B19E3779F9)
#define WSTASK_XXH_P4 UINT64_C(0x85EBCA77C2B2AE63)
#define WSTASK_XXH_P5 UINT64_C(0x27D4EB2F165667C5)

static inline uint64_t wstask_xxh_rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* Little-endian loads; memcpy compiles to one unaligned load. */
static inline uint64_t wstask_xxh_read64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t wstask_xxh_read32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t wstask_xxh_round(uint64_t acc, uint64_t input)
{
    acc += input * WSTASK_XXH_P2;
    acc = wstask_xxh_rotl(acc, 31);
    return acc * WSTASK_XXH_P1;
}

static inline uint64_t wstask_xxh_merge(uint64_t h, uint64_t lane)
{
    h ^= wstask_xxh_round(0, lane);
    return h * WSTASK_XXH_P1 + WSTASK_XXH_P4;
}

/* The end of both forms: the last bytes (under 32) folded in, then the
 * avalanche. */
static inline uint64_t wstask_xxh_finish(uint64_t h, const unsigned char *p,
                                         const unsigned char *end)
{
    while (end - p >= 8) {
        h ^= wstask_xxh_round(0, wstask_xxh_read64(p));
        h = wstask_xxh_rotl(h, 27) * WSTASK_XXH_P1 + WSTASK_XXH_P4;
        p += 8;
    }
    if (end - p >= 4) {
        h ^= (uint64_t)wstask_xxh_read32(p) * WSTASK_XXH_P1;
        h = wstask_xxh_rotl(h, 23) * WSTASK_XXH_P2 + WSTASK_XXH_P3;
        p += 4;
    }
    while (p < end) {
        h ^= (uint64_t)*p * WSTASK_XXH_P5;
        h = wstask_xxh_rotl(h, 11) * WSTASK_XXH_P1;
        p++;
    }
    h ^= h >> 33;
    h *= WSTASK_XXH_P2;
    h ^= h >> 29;
    h *= WSTASK_XXH_P3;
    h ^= h >> 32;
    return h;
}

static inline uint64_t wstask_xxh64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = (const unsigned char *)data;
    const unsigned char *end = p + len;
    uint64_t h;

    if (len >= 32) {
        /* Four independent lanes keep the multipliers busy in parallel. */
        uint64_t v1 = seed + WSTASK_XXH_P1 + WSTASK_XXH_P2;
        uint64_t v2 = seed + WSTASK_XXH_P2;
        uint64_t v3 = seed;
        uint64_t v4 = seed - WSTASK_XXH_P1;
        const unsigned char *last_stripe = end - 32;
        do {
            v1 = wstask_xxh_round(v1, wstask_xxh_read64(p));
            v2 = wstask_xxh_round(v2, wstask_xxh_read64(p + 8));
            v3 = wstask_xxh_round(v3, wstask_xxh_read64(p + 16));
            v4 = wstask_xxh_round(v4, wstask_xxh_read64(p + 24));
            p += 32;
        } while (p <= last_stripe);
        h = wstask_xxh_rotl(v1, 1) + wstask_xxh_rotl(v2, 7) + wstask_xxh_rotl(v3, 12) + wstask_xxh_rotl(v4, 18);
        h = wstask_xxh_merge(h, v1);
        h = wstask_xxh_merge(h, v2);
        h = wstask_xxh_merge(h, v3);
        h = wstask_xxh_merge(h, v4);
    } else {
        h = seed + WSTASK_XXH_P5;
    }
    h += (uint64_t)len;

    return wstask_xxh_finish(h, p, end);
}

/* The same checksum fed in pieces (read's raw mode hashes a file through
 * a fixed buffer instead of holding it whole): init, update as often as
 * needed, digest.  Equal to wstask_xxh64 of the concatenation. */
typedef struct wstask_xxh64_state {
    uint64_t v[4], total, seed;
    unsigned char mem[32];
    size_t mem_len;
} wstask_xxh64_state;

static inline void wstask_xxh64_init(wstask_xxh64_state *s, uint64_t seed)
{
    s->v[0] = seed + WSTASK_XXH_P1 + WSTASK_XXH_P2;
    s->v[1] = seed + WSTASK_XXH_P2;
    s->v[2] = seed;
    s->v[3] = seed - WSTASK_XXH_P1;
    s->total = 0;
    s->seed = seed;
    s->mem_len = 0;
}

static inline void wstask_xxh64_stripe(wstask_xxh64_state *s, const unsigned char *p)
{
    for (int k = 0; k < 4; k++)
        s->v[k] = wstask_xxh_round(s->v[k], wstask_xxh_read64(p + 8 * k));
}

static inline void wstask_xxh64_update(wstask_xxh64_state *s, const void *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    s->total += len;
    if (s->mem_len) {
        size_t take = 32 - s->mem_len < len ? 32 - s->mem_len : len;
        memcpy(s->mem + s->mem_len, p, take);
        s->mem_len += take;
        p += take;
        len -= take;
        if (s->mem_len < 32)
            return;
        wstask_xxh64_stripe(s, s->mem);
        s->mem_len = 0;
    }
    for (; len >= 32; p += 32, len -= 32)
        wstask_xxh64_stripe(s, p);
    memcpy(s->mem, p, len);
    s->mem_len = len;
}

static inline uint64_t wstask_xxh64_digest(const wstask_xxh64_state *s)
{
    uint64_t h;
    if (s->total >= 32) {
        h = wstask_xxh_rotl(s->v[0], 1) + wstask_xxh_rotl(s->v[1], 7) + wstask_xxh_rotl(s->v[2], 12) +
            wstask_xxh_rotl(s->v[3], 18);
        for (int k = 0; k < 4; k++)
            h = wstask_xxh_merge(h, s->v[k]);
    } else {
        h = s->seed + WSTASK_XXH_P5;
    }
    h += s->total;
    const unsigned char *p = s->mem, *end = s->mem + s->mem_len;
    return wstask_xxh_finish(h, p, end);
}

#endif
