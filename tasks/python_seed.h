/*
 * python_seed.h - the python plugin's per-index reseeding (docs/python.md,
 * "Random numbers"): before index i, Python's `random` gets Mersenne
 * Twister state words 0..623 of i's stream and numpy's global RandomState
 * words 624..1247, where word 2k and 2k+1 are the low and high halves of
 * output k+1 of ws_rng_make(--seed, i) (the stream noise uses).
 *
 * Seeding through the Python APIs costs ~10 us an index (random.seed runs
 * init_by_array; numpy's set_state copies through arrays), so the words
 * are written straight into the two generators' state, ~0.6 us for 1248
 * words.  That relies on two private layouts (CPython 3.11's RandomObject,
 * numpy's mt19937_state behind its BitGenerator capsule); setup checks
 * both against getstate()/get_state() and otherwise uses the slow public
 * path, which gives the same numbers.  Must never write to an object whose
 * layout was not checked.
 */
#ifndef WSTASK_PYTHON_SEED_H
#define WSTASK_PYTHON_SEED_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "wsrun.h"

#define PYSEED_MT_WORDS 624

typedef struct python_seeder {
    int on;
    PyObject *boot;        /* wsrun_boot's namespace (borrowed from the state) */
    PyObject *py_inst;     /* random._inst */
    uint32_t *py_words;    /* its state, when the layout checked out */
    int *py_index;
    PyObject *np_seed;     /* numpy.random.mtrand._rand.seed, once numpy is loaded */
    uint32_t *np_words;    /* its mt19937_state, when the layout checked out */
    int *np_pos;
    int np_looked;         /* numpy.random was loaded and set up (or refused) */
    PyObject *zero;
} python_seeder;

/* numpy's bitgen_t (numpy/random/bitgen.h) and mt19937_state: layouts
 * checked against get_state() before use. */
typedef struct pyseed_bitgen {
    void *state;
} pyseed_bitgen;
typedef struct pyseed_mt19937 {
    uint32_t key[PYSEED_MT_WORDS];
    int pos;
} pyseed_mt19937;

/* CPython 3.11's RandomObject (Modules/_randommodule.c). */
typedef struct pyseed_random_object {
    PyObject_HEAD
    int index;
    uint32_t state[PYSEED_MT_WORDS];
} pyseed_random_object;

static void pyseed_words(uint64_t seed, uint64_t index, uint32_t *py, uint32_t *np)
{
    ws_rng r = ws_rng_make(seed, index);
    for (int k = 0; k < PYSEED_MT_WORDS; k += 2) {
        uint64_t v = ws_rng_next(&r);
        py[k] = (uint32_t)v;
        py[k + 1] = (uint32_t)(v >> 32);
    }
    for (int k = 0; k < PYSEED_MT_WORDS; k += 2) {
        uint64_t v = ws_rng_next(&r);
        np[k] = (uint32_t)v;
        np[k + 1] = (uint32_t)(v >> 32);
    }
}

/* 1 when words[0..623] and pos equal what the generator reports. */
static int pyseed_state_matches(PyObject *words_seq, PyObject *pos_obj, const uint32_t *words,
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
static void pyseed_setup_random(python_seeder *z)
{
    PyObject *random = PyImport_ImportModule("random");
    z->py_inst = random ? PyObject_GetAttrString(random, "_inst") : NULL;
    Py_XDECREF(random);
    if (!z->py_inst) {
        PyErr_Clear();
        return;
    }
    if (Py_TYPE(z->py_inst)->tp_basicsize < (Py_ssize_t)sizeof(pyseed_random_object))
        return;
    pyseed_random_object *o = (pyseed_random_object *)z->py_inst;
    PyObject *st = PyObject_CallMethod(z->py_inst, "getstate", NULL);
    PyObject *inner = st && PyTuple_Check(st) && PyTuple_GET_SIZE(st) == 3 ? PyTuple_GET_ITEM(st, 1)
                                                                           : NULL;
    if (inner && PyTuple_Check(inner) && PyTuple_GET_SIZE(inner) == PYSEED_MT_WORDS + 1 &&
        pyseed_state_matches(inner, PyTuple_GET_ITEM(inner, PYSEED_MT_WORDS), o->state,
                             o->index)) {
        z->py_words = o->state;
        z->py_index = &o->index;
    }
    Py_XDECREF(st);
    PyErr_Clear();
}

/* numpy's global RandomState, if numpy.random is loaded by now. */
static void pyseed_setup_numpy(python_seeder *z)
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
    pyseed_bitgen *bg = PyCapsule_GetPointer(PyTuple_GetItem(got, 1), "BitGenerator");
    PyObject *st = bg ? PyObject_CallNoArgs(PyTuple_GetItem(got, 2)) : NULL;
    if (st && PyTuple_Check(st) && PyTuple_GET_SIZE(st) == 5) {
        pyseed_mt19937 *mt = bg->state;
        PyObject *list = PyObject_CallMethod(PyTuple_GET_ITEM(st, 1), "tolist", NULL);
        if (list && pyseed_state_matches(list, PyTuple_GET_ITEM(st, 2), mt->key, mt->pos)) {
            z->np_words = mt->key;
            z->np_pos = &mt->pos;
        }
        Py_XDECREF(list);
    }
    Py_XDECREF(st);
    Py_DECREF(got);
    PyErr_Clear();
}

static int python_seeder_setup(python_seeder *z, PyObject *boot, ws_ctx *ctx)
{
    z->on = 1;
    z->boot = boot;
    z->zero = PyLong_FromLong(0);
    pyseed_setup_random(z);
    if (!z->py_inst)
        return ws_fail(ctx, "cannot import Python's random module");
    pyseed_setup_numpy(z);
    return WS_OK;
}

/* Before index `index`: 0, or -1 with a Python exception pending. */
static int python_seeder_apply(python_seeder *z, uint64_t seed, uint64_t index)
{
    if (!z->on)
        return 0;
    if (!z->np_looked)
        pyseed_setup_numpy(z);
    uint32_t py[PYSEED_MT_WORDS], np[PYSEED_MT_WORDS];
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
    pyseed_words(seed, index, py, np);
    memcpy(z->py_words, py, sizeof py);
    *z->py_index = PYSEED_MT_WORDS;
    if (PyObject_SetAttrString(z->py_inst, "gauss_next", Py_None) != 0)
        return -1;
    if (z->np_seed) {
        /* seed(0) clears the legacy Gaussian and binomial caches; then the
         * index's words replace the whole key. */
        PyObject *r = PyObject_CallOneArg(z->np_seed, z->zero);
        if (!r)
            return -1;
        Py_DECREF(r);
        memcpy(z->np_words, np, sizeof np);
        *z->np_pos = PYSEED_MT_WORDS;
    }
    return 0;
}

static void python_seeder_clear(python_seeder *z)
{
    Py_CLEAR(z->py_inst);
    Py_CLEAR(z->np_seed);
    Py_CLEAR(z->zero);
    memset(z, 0, sizeof *z);
}

#endif
