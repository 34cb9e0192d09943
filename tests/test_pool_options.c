/*
 * test_pool_options.c - ws_pool_create_with (include/wsrun_embed.h,
 * runtime/embed/embed.c): jobs, seed and the workers' stack size reach
 * the run, and quiet reaches ws_run_quiet; bad options are refused with
 * their errno; a longer struct from a newer header is read when its
 * unknown fields are 0 and refused when one is set; a small stack really
 * is small (a deep recursion overflows it) and the default one holds the
 * same recursion.  Writes no file.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "pool_util.h" /* pool.h: the stack of the caller's pool; WSTEST_SANITIZED */
#include "wsrun_embed.h"

typedef struct seen {
    _Atomic uint64_t seed;
    _Atomic uint64_t stack_bytes;
    atomic_uint indices;
} seen;

static int record(void *arg, uint64_t index, ws_ctx *ctx)
{
    (void)index;
    seen *s = arg;
    atomic_store(&s->seed, ws_run_seed(ctx));
    atomic_store(&s->stack_bytes, (uint64_t)wsrt_pool_stack_bytes_of_caller());
    atomic_fetch_add(&s->indices, 1);
    return 0;
}

Test(pool_options, jobs_seed_and_stack_reach_the_run)
{
    ws_pool_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.jobs = 3;
    o.seed = 12345;
    o.stack_bytes = 1 << 20;
    ws_pool *p = ws_pool_create_with(&o);
    cr_assert_not_null(p, "errno %d", errno);
    seen s;
    memset(&s, 0, sizeof s);
    ws_pool_stats st = {.struct_size = sizeof st};
    cr_assert_eq(ws_pool_for(p, 50, record, &s, &st), WS_POOL_OK, "%s", ws_pool_error(p));
    cr_assert_eq(st.jobs, 3);
    cr_assert_eq(atomic_load(&s.indices), 50);
    cr_assert_eq(atomic_load(&s.seed), 12345);
    cr_assert_eq(atomic_load(&s.stack_bytes), 1 << 20);
    ws_pool_destroy(p);

    /* Zeros are the defaults: ws_pool_create's, and the 64 MiB stack. */
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.jobs = 1;
    p = ws_pool_create_with(&o);
    cr_assert_not_null(p);
    memset(&s, 0, sizeof s);
    cr_assert_eq(ws_pool_for(p, 5, record, &s, &st), WS_POOL_OK);
    cr_assert_eq(atomic_load(&s.seed), 0);
    cr_assert_eq(atomic_load(&s.stack_bytes), WSRT_WORKER_STACK_BYTES);
    ws_pool_destroy(p);
}

Test(pool_options, bad_options_are_refused_with_errno)
{
    ws_pool_options o;
    errno = 0;
    cr_assert_null(ws_pool_create_with(NULL));
    cr_assert_eq(errno, EINVAL);

    memset(&o, 0, sizeof o);
    o.struct_size = 16; /* below the first version's 24 bytes */
    errno = 0;
    cr_assert_null(ws_pool_create_with(&o));
    cr_assert_eq(errno, EINVAL);

    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.jobs = 4097;
    errno = 0;
    cr_assert_null(ws_pool_create_with(&o));
    cr_assert_eq(errno, EINVAL);

    o.jobs = 1;
    o.stack_bytes = (256 << 10) - 1;
    errno = 0;
    cr_assert_null(ws_pool_create_with(&o), "a stack below 256 KiB");
    cr_assert_eq(errno, EINVAL);
    o.stack_bytes = ((uint64_t)64 << 30) + 1;
    errno = 0;
    cr_assert_null(ws_pool_create_with(&o), "a stack above 64 GiB");
    cr_assert_eq(errno, EINVAL);
    o.stack_bytes = 256 << 10; /* the bounds themselves are accepted */
    ws_pool *p = ws_pool_create_with(&o);
    cr_assert_not_null(p);
    ws_pool_destroy(p);
}

static int note_quiet(void *arg, uint64_t index, ws_ctx *ctx)
{
    (void)index;
    atomic_store((atomic_int *)arg, ws_run_quiet(ctx) + 10);
    return 0;
}

Test(pool_options, quiet_reaches_the_run)
{
    for (uint32_t q = 0; q <= 1; q++) {
        ws_pool_options o;
        memset(&o, 0, sizeof o);
        o.struct_size = sizeof o;
        o.jobs = 1;
        o.quiet = q;
        ws_pool *p = ws_pool_create_with(&o);
        cr_assert_not_null(p);
        atomic_int got = 0;
        cr_assert_eq(ws_pool_for(p, 1, note_quiet, &got, NULL), WS_POOL_OK);
        cr_assert_eq(atomic_load(&got), 10 + (int)q, "quiet %u", q);
        ws_pool_destroy(p);
    }
    ws_pool_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.quiet = 2;
    errno = 0;
    cr_assert_null(ws_pool_create_with(&o), "quiet is 0 or 1");
    cr_assert_eq(errno, EINVAL);
    o.quiet = 0;
    o.reserved = 1;
    errno = 0;
    cr_assert_null(ws_pool_create_with(&o), "reserved must be 0");
    cr_assert_eq(errno, EINVAL);
}

/* A struct from a newer header: this one and a field appended after it. */
typedef struct newer_options {
    ws_pool_options known;
    uint64_t unknown;
} newer_options;

Test(pool_options, longer_struct_only_with_unknown_fields_unset)
{
    newer_options n;
    memset(&n, 0, sizeof n);
    n.known.struct_size = sizeof n;
    n.known.jobs = 2;
    n.known.seed = 9;
    ws_pool *p = ws_pool_create_with(&n.known);
    cr_assert_not_null(p, "unknown fields left 0 are the defaults (errno %d)", errno);
    seen s;
    memset(&s, 0, sizeof s);
    ws_pool_stats st = {.struct_size = sizeof st};
    cr_assert_eq(ws_pool_for(p, 4, record, &s, &st), WS_POOL_OK);
    cr_assert_eq(st.jobs, 2);
    cr_assert_eq(atomic_load(&s.seed), 9);
    ws_pool_destroy(p);
    n.unknown = 1; /* an option this library cannot honour */
    errno = 0;
    cr_assert_null(ws_pool_create_with(&n.known));
    cr_assert_eq(errno, E2BIG);
}

/* ~560 bytes a frame, each page of the stack touched in order, so the
 * overflow meets the guard page below the stack. */
static int deep(int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = (char)depth;
    return depth == 0 ? frame[0] : deep(depth - 1) + frame[sizeof frame - 1];
}

static int recurse_4mib(void *arg, uint64_t index, ws_ctx *ctx)
{
    (void)index, (void)ctx;
    *(volatile int *)arg = deep(8192); /* more than 4 MiB of stack */
    return 0;
}

static void run_deep_on(uint64_t stack_bytes)
{
    ws_pool_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.jobs = 1;
    o.stack_bytes = stack_bytes;
    ws_pool *p = ws_pool_create_with(&o);
    cr_assert_not_null(p);
    int result = 0;
    cr_assert_eq(ws_pool_for(p, 1, recurse_4mib, &result, NULL), WS_POOL_OK);
    cr_assert_neq(result, 0);
    ws_pool_destroy(p);
}

Test(pool_options, default_stack_holds_a_4mib_recursion)
{
    run_deep_on(0);
}

/* The sanitizers catch the overflow themselves (their own report and
 * exit), so only the plain build expects the signal. */
#ifndef WSTEST_SANITIZED
Test(pool_options, small_stack_overflows_on_it, .signal = SIGSEGV)
{
    run_deep_on(256 << 10);
}
#endif
