/*
 * uts_tree.h - the Unbalanced Tree Search trees (Olivier et al., LCPC 2006):
 * tree parameters, named presets, node ids and child counts, shared by the
 * uts plugin and the serial, OpenMP and oneTBB peers in bench/peers/.
 *
 * Written from the published rules, not from the reference code: a node is
 * a 20-byte SHA-1 digest; the root is SHA-1(16 zero bytes, seed as 4
 * big-endian bytes); child i of a node is SHA-1(node, i as 4 big-endian
 * bytes); a node's random draw is its last 4 bytes, big-endian, with the top
 * bit cleared, divided by 2^31.  Binomial nodes have m children with
 * probability q (the root has b0); geometric nodes have
 * floor(log(1-u)/log(1-p)) children with p = 1/(1+b_d), b_d the expected
 * branching at depth d given by the shape; hybrid trees are geometric above
 * depth shift*gen_mx and binomial below.  At most 100 children per node
 * (the binomial root excepted, capped at ceil(b0)).
 *
 * Must never depend on wsrun.h: the C++ peers include it.
 */
#ifndef UTS_TREE_H
#define UTS_TREE_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "uts_sha1.h"

enum { UTS_BIN = 0, UTS_GEO = 1, UTS_HYBRID = 2 };
enum { UTS_LINEAR = 0, UTS_EXPDEC = 1, UTS_CYCLIC = 2, UTS_FIXED = 3 };
#define UTS_MAX_CHILDREN 100

typedef struct uts_params {
    int type;            /* UTS_BIN, UTS_GEO or UTS_HYBRID (-t) */
    int shape;           /* geometric shape, UTS_LINEAR.. (-a) */
    int gen_mx;          /* geometric depth scale (-d) */
    double b0;           /* root / expected branching factor (-b) */
    int root_id;         /* seed of the root (-r) */
    int nonleaf_bf;      /* binomial children of a non-leaf (-m) */
    double nonleaf_prob; /* binomial probability of a non-leaf (-q) */
    double shift_depth;  /* hybrid: fraction of gen_mx that is geometric (-f) */
} uts_params;

typedef struct uts_preset {
    const char *name;
    uts_params params;
    uint64_t nodes;     /* tree size, root included */
    const char *source; /* where the size comes from */
} uts_preset;

/* The reference's defaults fill what a preset does not set. */
#define UTS_DEFAULTS_EXCEPT(t, a, d, b, r, m, q) {(t), (a), (d), (b), (r), (m), (q), 0.5}

/* T1..T5, T1L and T3L are the reference's sample trees with their published
 * sizes (this code reproduces all seven's; the tests check T1 and T3); "small",
 * "small-bin" and "tiny" are this project's, sized with this code. */
static const uts_preset uts_presets[] = {
    {"T1", UTS_DEFAULTS_EXCEPT(UTS_GEO, UTS_FIXED, 10, 4.0, 19, 4, 0.234375), 4130071,
     "published (UTS sample trees)"},
    {"T2", UTS_DEFAULTS_EXCEPT(UTS_GEO, UTS_CYCLIC, 16, 6.0, 502, 4, 0.234375), 4117769,
     "published (UTS sample trees)"},
    {"T3", UTS_DEFAULTS_EXCEPT(UTS_BIN, UTS_LINEAR, 6, 2000.0, 42, 8, 0.124875), 4112897,
     "published (UTS sample trees)"},
    {"T4", UTS_DEFAULTS_EXCEPT(UTS_HYBRID, UTS_LINEAR, 16, 6.0, 1, 4, 0.234375), 4132453,
     "published (UTS sample trees)"},
    {"T5", UTS_DEFAULTS_EXCEPT(UTS_GEO, UTS_LINEAR, 20, 4.0, 34, 4, 0.234375), 4147582,
     "published (UTS sample trees)"},
    {"T1L", UTS_DEFAULTS_EXCEPT(UTS_GEO, UTS_FIXED, 13, 4.0, 29, 4, 0.234375), 102181082,
     "published (UTS sample trees)"},
    {"T3L", UTS_DEFAULTS_EXCEPT(UTS_BIN, UTS_LINEAR, 6, 2000.0, 7, 5, 0.200014), 111345631,
     "published (UTS sample trees)"},
    {"small", UTS_DEFAULTS_EXCEPT(UTS_GEO, UTS_FIXED, 8, 4.0, 19, 4, 0.234375), 257042,
     "computed here (uts_serial)"},
    {"small-bin", UTS_DEFAULTS_EXCEPT(UTS_BIN, UTS_LINEAR, 6, 2000.0, 42, 8, 0.123), 247729,
     "computed here (uts_serial)"},
    {"tiny", UTS_DEFAULTS_EXCEPT(UTS_BIN, UTS_LINEAR, 6, 200.0, 42, 8, 0.12), 4649,
     "computed here (uts_serial)"},
    {NULL, UTS_DEFAULTS_EXCEPT(0, 0, 0, 0.0, 0, 0, 0.0), 0, NULL},
};

static inline const uts_preset *uts_find_preset(const char *name)
{
    for (const uts_preset *p = uts_presets; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

typedef struct uts_node {
    unsigned char id[20];
    int32_t height;
} uts_node;

static inline void uts_put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static inline void uts_root(const uts_params *p, uts_node *root)
{
    unsigned char msg[20];
    memset(msg, 0, 16);
    uts_put_be32(msg + 16, (uint32_t)p->root_id);
    uts_sha1_short(msg, sizeof msg, root->id);
    root->height = 0;
}

static inline void uts_child(const uts_node *parent, uint32_t i, uts_node *child)
{
    unsigned char msg[24];
    memcpy(msg, parent->id, 20);
    uts_put_be32(msg + 20, i);
    uts_sha1_short(msg, sizeof msg, child->id);
    child->height = parent->height + 1;
}

/* The node's uniform draw in [0, 1): 31 bits of its id. */
static inline double uts_draw(const uts_node *n)
{
    uint32_t b = (uint32_t)n->id[16] << 24 | (uint32_t)n->id[17] << 16 |
                 (uint32_t)n->id[18] << 8 | (uint32_t)n->id[19];
    return (double)(b & 0x7fffffffu) / 2147483648.0;
}

static inline int uts_children_binomial(const uts_params *p, const uts_node *n)
{
    return uts_draw(n) < p->nonleaf_prob ? p->nonleaf_bf : 0;
}

static inline int uts_children_geometric(const uts_params *p, const uts_node *n)
{
    double b = p->b0;
    int d = n->height;
    if (d > 0) {
        switch (p->shape) {
        case UTS_EXPDEC:
            b = p->b0 * pow((double)d, -log(p->b0) / log((double)p->gen_mx));
            break;
        case UTS_CYCLIC:
            b = d > 5 * p->gen_mx ? 0.0
                                  : pow(p->b0, sin(2.0 * 3.141592653589793 * (double)d /
                                                   (double)p->gen_mx));
            break;
        case UTS_FIXED:
            b = d < p->gen_mx ? p->b0 : 0.0;
            break;
        default: /* UTS_LINEAR */
            b = p->b0 * (1.0 - (double)d / (double)p->gen_mx);
            break;
        }
    }
    if (!(b > 0.0))
        return 0;
    double prob = 1.0 / (1.0 + b);
    double k = floor(log(1.0 - uts_draw(n)) / log(1.0 - prob));
    /* Compare before converting: a huge k must not overflow the int. */
    return k >= (double)UTS_MAX_CHILDREN ? UTS_MAX_CHILDREN + 1 : (int)k;
}

static inline int uts_num_children(const uts_params *p, const uts_node *n)
{
    int k;
    switch (p->type) {
    case UTS_BIN:
        k = n->height == 0 ? (int)floor(p->b0) : uts_children_binomial(p, n);
        break;
    case UTS_HYBRID:
        k = (double)n->height < p->shift_depth * p->gen_mx ? uts_children_geometric(p, n)
                                                            : uts_children_binomial(p, n);
        break;
    default:
        k = uts_children_geometric(p, n);
        break;
    }
    if (n->height == 0 && p->type == UTS_BIN) {
        int root_cap = (int)ceil(p->b0);
        if (k > root_cap)
            k = root_cap;
    } else if (k > UTS_MAX_CHILDREN) {
        k = UTS_MAX_CHILDREN;
    }
    return k < 0 ? 0 : k;
}

/* Nodes in the subtree of n, n included: the serial baseline. */
static inline uint64_t uts_count_serial(const uts_params *p, const uts_node *n)
{
    uint64_t total = 1;
    int k = uts_num_children(p, n);
    for (int i = 0; i < k; i++) {
        uts_node c;
        uts_child(n, (uint32_t)i, &c);
        total += uts_count_serial(p, &c);
    }
    return total;
}

#endif /* UTS_TREE_H */
