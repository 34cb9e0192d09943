/*
 * uts_sha1.h - SHA-1 (FIPS 180-4), header-only, for the uts benchmark's
 * splittable node ids.  Written from the standard; plain C99 so the C++
 * peers in bench/peers/ can include it too.
 *
 * SHA-1 here is a deterministic mixing function, never a security
 * primitive: it must never be used to protect anything.
 */
#ifndef UTS_SHA1_H
#define UTS_SHA1_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct uts_sha1 {
    uint32_t h[5];
    uint64_t total_bytes;
    unsigned char block[64];
    size_t used; /* bytes waiting in block */
} uts_sha1;

static inline uint32_t uts_sha1_rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

/* One 64-byte block into the chaining value.  The 80-word schedule is kept
 * as a 16-word ring: each new word needs only the last 16. */
static inline void uts_sha1_compress(uint32_t h[5], const unsigned char *p)
{
    uint32_t w[16];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | (uint32_t)p[4 * t + 3];
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        uint32_t wt;
        if (t < 16) {
            wt = w[t];
        } else {
            wt = uts_sha1_rotl(w[(t + 13) & 15] ^ w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15], 1);
            w[t & 15] = wt;
        }
        uint32_t f, k;
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999u;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1u;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdcu;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6u;
        }
        uint32_t tmp = uts_sha1_rotl(a, 5) + f + e + k + wt;
        e = d;
        d = c;
        c = uts_sha1_rotl(b, 30);
        b = a;
        a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

static inline void uts_sha1_init(uts_sha1 *s)
{
    s->h[0] = 0x67452301u;
    s->h[1] = 0xefcdab89u;
    s->h[2] = 0x98badcfeu;
    s->h[3] = 0x10325476u;
    s->h[4] = 0xc3d2e1f0u;
    s->total_bytes = 0;
    s->used = 0;
}

static inline void uts_sha1_update(uts_sha1 *s, const void *data, size_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    s->total_bytes += n;
    while (n > 0) {
        size_t take = 64 - s->used;
        if (take > n)
            take = n;
        memcpy(s->block + s->used, p, take);
        s->used += take;
        p += take;
        n -= take;
        if (s->used == 64) {
            uts_sha1_compress(s->h, s->block);
            s->used = 0;
        }
    }
}

/* Pad (0x80, zeros, 64-bit big-endian bit length) and write the digest. */
static inline void uts_sha1_final(uts_sha1 *s, unsigned char out[20])
{
    uint64_t bits = s->total_bytes * 8;
    s->block[s->used++] = 0x80;
    if (s->used > 56) {
        memset(s->block + s->used, 0, 64 - s->used);
        uts_sha1_compress(s->h, s->block);
        s->used = 0;
    }
    memset(s->block + s->used, 0, 56 - s->used);
    for (int k = 0; k < 8; k++)
        s->block[56 + k] = (unsigned char)(bits >> (56 - 8 * k));
    uts_sha1_compress(s->h, s->block);
    for (int k = 0; k < 5; k++) {
        out[4 * k] = (unsigned char)(s->h[k] >> 24);
        out[4 * k + 1] = (unsigned char)(s->h[k] >> 16);
        out[4 * k + 2] = (unsigned char)(s->h[k] >> 8);
        out[4 * k + 3] = (unsigned char)s->h[k];
    }
}

/* The digest of a message of at most 55 bytes: one block, no streaming
 * state.  Every uts node id is such a hash, so this is the hot path. */
static inline void uts_sha1_short(const void *msg, size_t n, unsigned char out[20])
{
    unsigned char block[64];
    uint32_t h[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};
    memcpy(block, msg, n);
    block[n] = 0x80;
    memset(block + n + 1, 0, 63 - n);
    uint64_t bits = (uint64_t)n * 8;
    for (int k = 0; k < 8; k++)
        block[56 + k] = (unsigned char)(bits >> (56 - 8 * k));
    uts_sha1_compress(h, block);
    for (int k = 0; k < 5; k++) {
        out[4 * k] = (unsigned char)(h[k] >> 24);
        out[4 * k + 1] = (unsigned char)(h[k] >> 16);
        out[4 * k + 2] = (unsigned char)(h[k] >> 8);
        out[4 * k + 3] = (unsigned char)h[k];
    }
}

#endif /* UTS_SHA1_H */
