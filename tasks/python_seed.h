/*
 * python_seed.h - the python plugin's per-index reseeding (docs/python.md,
 * "Random numbers"): before index i, Python's `random` gets Mersenne
 * Twister state words 0..623 of i's stream and numpy's global RandomState
 * words 624..1247, where word 2k and 2k+1 are the low and high halves of
 * output k+1 of ws_rng_make(--seed, i) (the stream noise uses).
 *
 * Seeding through the Python APIs costs ~10 us an index (random.seed runs
 * init_by_array; numpy's set_state copies through arrays), so the words
 * are written straight into the two generators' state (~12,000
 * instructions for the 1248 words), and numpy's cached legacy Gaussian is
 * cleared in place.  That relies on private layouts (CPython 3.11's
 * RandomObject, numpy's mt19937_state behind its BitGenerator capsule, the
 * RandomState's has_gauss/gauss pair); setup checks each against
 * getstate()/get_state() and otherwise uses a public path that gives the
 * same numbers.  Must never write to memory whose layout was not checked.
 */
#ifndef WSTASK_PYTHON_SEED_H
#define WSTASK_PYTHON_SEED_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "wsrun.h"

#define PYSEED_MT_WORDS 624

typedef struct wstask_pyseed {
    int on;
    PyObject *boot;        /* wsrun_boot's namespace (borrowed from the state) */
    PyObject *py_inst;     /* random._inst */
    uint32_t *py_words;    /* its state, when the layout checked out */
    int *py_index;
    PyObject *np_seed;     /* numpy.random.mtrand._rand.seed, once numpy is loaded */
    uint32_t *np_words;    /* its mt19937_state, when the layout checked out */
    int *np_pos;
    int np_looked;         /* numpy.random was loaded and set up (or refused) */
    int *np_has_gauss;     /* the legacy cached Gaussian, when found (else seed(0)) */
    double *np_gauss;
    PyObject *zero;
    PyObject *gauss_next;  /* the attribute's name, made once (~600 instructions an index less) */
} wstask_pyseed;

/* numpy's bitgen_t (numpy/random/bitgen.h) and mt19937_state: layouts
 * checked against get_state() before use. */
typedef struct wstask_pyseed_bitgen {
    void *state;
} wstask_pyseed_bitgen;
typedef struct wstask_pyseed_mt19937 {
    uint32_t key[PYSEED_MT_WORDS];
    int pos;
} wstask_pyseed_mt19937;

/* CPython 3.11's RandomObject (Modules/_randommodule.c). */
typedef struct wstask_pyseed_random_object {
    PyObject_HEAD
    int index;
    uint32_t state[PYSEED_MT_WORDS];
} wstask_pyseed_random_object;

/* Outputs first..first+n-1 of key's stream (ws_rng_next's), each stored
 * as its low then its high 32-bit word: on a little-endian machine that
 * is the output's own 8 bytes.  The portable loop, and the one every
 * other path must equal. */
static void wstask_pyseed_fill_plain(uint64_t key, uint64_t first, uint32_t *w, int n)
{
    for (int k = 0; k < n; k++) {
        uint64_t v = ws_mix64(key + (first + (uint64_t)k) * UINT64_C(0x9e3779b97f4a7c15));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(w + 2 * k, &v, sizeof v);
#else
        w[2 * k] = (uint32_t)v;
        w[2 * k + 1] = (uint32_t)(v >> 32);
#endif
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <immintrin.h>
#define WSTASK_PYSEED_AVX2 1

/* The low 64 bits of a * c for four lanes: AVX2 multiplies 32x32 only. */
__attribute__((target("avx2"))) static inline __m256i wstask_pyseed_mul64(__m256i a, __m256i c_lo,
                                                                           __m256i c_hi)
{
    __m256i lo = _mm256_mul_epu32(a, c_lo);
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), c_lo),
                                     _mm256_mul_epu32(a, c_hi));
    return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

/* wstask_pyseed_fill_plain, four outputs at a time (n a multiple of 4):
 * ws_mix64's steps lane by lane, so the same bits. */
__attribute__((target("avx2"))) static void wstask_pyseed_fill_avx2(uint64_t key, uint64_t first,
                                                                     uint32_t *w, int n)
{
    const uint64_t m1 = UINT64_C(0xbf58476d1ce4e5b9), m2 = UINT64_C(0x94d049bb133111eb);
    const uint64_t gamma = UINT64_C(0x9e3779b97f4a7c15);
    const __m256i m1_lo = _mm256_set1_epi64x((long long)(m1 & 0xffffffffu));
    const __m256i m1_hi = _mm256_set1_epi64x((long long)(m1 >> 32));
    const __m256i m2_lo = _mm256_set1_epi64x((long long)(m2 & 0xffffffffu));
    const __m256i m2_hi = _mm256_set1_epi64x((long long)(m2 >> 32));
    const __m256i step = _mm256_set1_epi64x((long long)(4 * gamma));
    __m256i z0 = _mm256_set_epi64x((long long)(key + (first + 3) * gamma),
                                   (long long)(key + (first + 2) * gamma),
                                   (long long)(key + (first + 1) * gamma),
                                   (long long)(key + first * gamma));
    for (int k = 0; k < n; k += 4) {
        __m256i z = z0;
        z0 = _mm256_add_epi64(z0, step);
        z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 30));
        z = wstask_pyseed_mul64(z, m1_lo, m1_hi);
        z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 27));
        z = wstask_pyseed_mul64(z, m2_lo, m2_hi);
        z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
        _mm256_storeu_si256((__m256i *)(void *)(w + 2 * k), z);
    }
}
#endif

/* Words 0..1247 of index's stream: 0..623 for random, 624..1247 for
 * numpy.  Making them is most of the reseeding's cost (624 outputs of
 * two 64-bit multiplies each), so where the CPU has AVX2 four lanes make
 * them at once; the first use checks that both paths give the same words. */
static int wstask_pyseed_use_avx2 = -1; /* one per file that includes this */

static void wstask_pyseed_choose(void);

static void wstask_pyseed_fill(uint64_t key, uint32_t *w, int n_outputs)
{
#ifdef WSTASK_PYSEED_AVX2
    if (wstask_pyseed_use_avx2 < 0)
        wstask_pyseed_choose();
    if (wstask_pyseed_use_avx2 > 0 && n_outputs % 4 == 0) {
        wstask_pyseed_fill_avx2(key, 1, w, n_outputs);
        return;
    }
#endif
    wstask_pyseed_fill_plain(key, 1, w, n_outputs);
}

static void wstask_pyseed_choose(void)
{
    if (wstask_pyseed_use_avx2 >= 0)
        return;
    wstask_pyseed_use_avx2 = 0;
#ifdef WSTASK_PYSEED_AVX2
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2"))
        return;
    /* Both paths over a few keys: any difference and AVX2 stays off. */
    uint32_t a[2 * 64], b[2 * 64];
    static const uint64_t keys[] = {0, 1, UINT64_C(0xffffffffffffffff), UINT64_C(0x632be59bd9b4e019)};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        wstask_pyseed_fill_plain(keys[i], 1, a, 64);
        wstask_pyseed_fill_avx2(keys[i], 1, b, 64);
        if (memcmp(a, b, sizeof a) != 0)
            return;
    }
    wstask_pyseed_use_avx2 = 1;
#endif
}

/* words[0..623] for random, words[624..1247] for numpy. */
static void wstask_pyseed_words(uint64_t seed, uint64_t index, uint32_t *words)
{
    ws_rng r = ws_rng_make(seed, index);
    wstask_pyseed_fill(r.key, words, PYSEED_MT_WORDS);
}

/* 1 when words[0..623] and pos equal what the generator reports. */
static int wstask_pyseed_state_matches(PyObject *words_seq, PyObject *pos_obj, const uint32_t *words,
                                int pos)
{
    PyObject *fast = PySequence_Fast(words_seq, "state");
    if (!fast)
        return 0;
    int ok = PySequence_Fast_GET_SIZE(fast) >= PYSEED_MT_WORDS &&
             PyLong_AsLong(pos_obj) == pos;
    for (Py_ssize_t k = 0; ok && k < PYSEED_MT_WORDS; k++)
        ok = PyLong_AsUnsignedLong(PySequence_Fast_GET_ITEM(fast, k)) == words[k];
    Py_DECREF(fast);
    PyErr_Clear();
    return ok;
}

/* Python's random: check RandomObject's layout against getstate(). */
static void wstask_pyseed_setup_random(wstask_pyseed *z)
{
    PyObject *random = PyImport_ImportModule("random");
    z->py_inst = random ? PyObject_GetAttrString(random, "_inst") : NULL;
    Py_XDECREF(random);
    if (!z->py_inst) {
        PyErr_Clear();
        return;
    }
    if (Py_TYPE(z->py_inst)->tp_basicsize < (Py_ssize_t)sizeof(wstask_pyseed_random_object))
        return;
    wstask_pyseed_random_object *o = (wstask_pyseed_random_object *)z->py_inst;
    PyObject *st = PyObject_CallMethod(z->py_inst, "getstate", NULL);
    PyObject *inner = st && PyTuple_Check(st) && PyTuple_GET_SIZE(st) == 3 ? PyTuple_GET_ITEM(st, 1)
                                                                           : NULL;
    if (inner && PyTuple_Check(inner) && PyTuple_GET_SIZE(inner) == PYSEED_MT_WORDS + 1 &&
        wstask_pyseed_state_matches(inner, PyTuple_GET_ITEM(inner, PYSEED_MT_WORDS), o->state,
                             o->index)) {
        z->py_words = o->state;
        z->py_index = &o->index;
    }
    Py_XDECREF(st);
    PyErr_Clear();
}

/* Find the RandomState's legacy {int has_gauss; double gauss;} (numpy's
 * aug_bitgen_t) by planting a value through set_state and looking for it
 * in the object, then check that clearing it there is what get_state
 * reports.  Leaves np_has_gauss NULL when anything differs. */
static void wstask_pyseed_find_gauss(wstask_pyseed *z, PyObject *rs)
{
    static const double probe = 0.8125377197265625; /* exact in binary */
    PyObject *fn = PyDict_GetItemString(z->boot, "numpy_gauss");
    PyObject *r = PyObject_CallFunction(fn, "Oid", rs, 1, probe);
    Py_XDECREF(r);
    if (!r) {
        PyErr_Clear();
        return;
    }
    char *base = (char *)rs;
    Py_ssize_t size = Py_TYPE(rs)->tp_basicsize;
    int *has = NULL;
    double *gauss = NULL;
    int found = 0;
    for (Py_ssize_t o = (Py_ssize_t)sizeof(PyObject) + 8; o + 8 <= size; o += 8) {
        double d;
        int h;
        memcpy(&d, base + o, sizeof d);
        memcpy(&h, base + o - 8, sizeof h);
        if (d == probe && h == 1) {
            has = (int *)(base + o - 8);
            gauss = (double *)(base + o);
            found++;
        }
    }
    if (found != 1)
        return;
    *has = 0;
    *gauss = 0.0;
    /* get_state must now report (0, 0.0): the planted pair was the one. */
    PyObject *st = PyObject_CallMethod(rs, "get_state", NULL);
    int ok = st && PyTuple_Check(st) && PyTuple_GET_SIZE(st) == 5 &&
             PyLong_AsLong(PyTuple_GET_ITEM(st, 3)) == 0 &&
             PyFloat_AsDouble(PyTuple_GET_ITEM(st, 4)) == 0.0;
    Py_XDECREF(st);
    PyErr_Clear();
    if (ok) {
        z->np_has_gauss = has;
        z->np_gauss = gauss;
    }
}

/* numpy's global RandomState, if numpy.random is loaded by now. */
static void wstask_pyseed_setup_numpy(wstask_pyseed *z)
{
    PyObject *np_random = PyDict_GetItemString(PyImport_GetModuleDict(), "numpy.random");
    if (!np_random)
        return;
    z->np_looked = 1;
    PyObject *got = PyObject_CallFunction(PyDict_GetItemString(z->boot, "numpy_state"), NULL);
    if (!got || got == Py_None) {
        Py_XDECREF(got);
        PyErr_Clear();
        return;
    }
    z->np_seed = PyTuple_GetItem(got, 0);
    Py_XINCREF(z->np_seed);
    wstask_pyseed_bitgen *bg = PyCapsule_GetPointer(PyTuple_GetItem(got, 1), "BitGenerator");
    PyObject *st = bg ? PyObject_CallNoArgs(PyTuple_GetItem(got, 2)) : NULL;
    if (st && PyTuple_Check(st) && PyTuple_GET_SIZE(st) == 5) {
        wstask_pyseed_mt19937 *mt = bg->state;
        PyObject *list = PyObject_CallMethod(PyTuple_GET_ITEM(st, 1), "tolist", NULL);
        if (list && wstask_pyseed_state_matches(list, PyTuple_GET_ITEM(st, 2), mt->key, mt->pos)) {
            z->np_words = mt->key;
            z->np_pos = &mt->pos;
            wstask_pyseed_find_gauss(z, PyTuple_GetItem(got, 3));
        }
        Py_XDECREF(list);
    }
    Py_XDECREF(st);
    Py_DECREF(got);
    PyErr_Clear();
}

static int wstask_pyseed_setup(wstask_pyseed *z, PyObject *boot, ws_ctx *ctx)
{
    z->on = 1;
    z->boot = boot;
    z->zero = PyLong_FromLong(0);
    z->gauss_next = PyUnicode_InternFromString("gauss_next");
    if (!z->zero || !z->gauss_next)
        return ws_fail(ctx, "out of memory setting up the reseeding");
    wstask_pyseed_setup_random(z);
    if (!z->py_inst)
        return ws_fail(ctx, "cannot import Python's random module");
    wstask_pyseed_setup_numpy(z);
    return WS_OK;
}

/* Before index `index`: 0, or -1 with a Python exception pending. */
static int wstask_pyseed_apply(wstask_pyseed *z, uint64_t seed, uint64_t index)
{
    if (!z->on)
        return 0;
    if (!z->np_looked)
        wstask_pyseed_setup_numpy(z);
    uint32_t words[2 * PYSEED_MT_WORDS];
    if (!z->py_words || (z->np_seed && !z->np_words)) {
        /* The public path (same numbers): boot.reseed_slow. */
        PyObject *r = PyObject_CallFunction(PyDict_GetItemString(z->boot, "reseed_slow"), "KKi",
                                            (unsigned long long)seed, (unsigned long long)index,
                                            z->np_seed != NULL);
        if (!r)
            return -1;
        Py_DECREF(r);
        return 0;
    }
    wstask_pyseed_words(seed, index, words);
    memcpy(z->py_words, words, PYSEED_MT_WORDS * sizeof *words);
    *z->py_index = PYSEED_MT_WORDS;
    if (PyObject_SetAttr(z->py_inst, z->gauss_next, Py_None) != 0)
        return -1;
    if (z->np_seed) {
        /* The cached legacy Gaussian goes (in place, or by seed(0)); then
         * the index's words replace the whole key. */
        if (z->np_has_gauss) {
            *z->np_has_gauss = 0;
            *z->np_gauss = 0.0;
        } else {
            PyObject *r = PyObject_CallOneArg(z->np_seed, z->zero);
            if (!r)
                return -1;
            Py_DECREF(r);
        }
        memcpy(z->np_words, words + PYSEED_MT_WORDS, PYSEED_MT_WORDS * sizeof *words);
        *z->np_pos = PYSEED_MT_WORDS;
    }
    return 0;
}

static void wstask_pyseed_clear(wstask_pyseed *z)
{
    Py_CLEAR(z->py_inst);
    Py_CLEAR(z->np_seed);
    Py_CLEAR(z->zero);
    Py_CLEAR(z->gauss_next);
    memset(z, 0, sizeof *z);
}

#endif
