/*
 * test_embed.c - the embedding API (include/wsrun_embed.h, runtime/embed/embed.c)
 * and its error paths: a bad "key=value" is refused naming the option, a
 * bad descriptor is refused, an init failure returns 2 and finish is not
 * called, a failing index returns 1 naming the index, pools are made and
 * used one after another, and ws_pool_for runs each index exactly once with
 * fork-join inside, and a run's output folders are not held open after it
 * (ws_outfile's folder cache ends with the run).  Outcomes are counts and
 * message texts, never timings.  Writes files only into a fresh folder
 * under /tmp, which it removes.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_util.h"
#include "wsrun_embed.h"

/* What the callbacks of the test descriptor saw (one test per process). */
static atomic_int inits, finishes, last_run_status;
static atomic_ullong run_sum;

static const ws_option test_options[] = {
    {"n", WS_OPT_INT, "1", "an int", NULL, 0, 100},
    {"fail_at", WS_OPT_INT, "-1", "index that fails (-1: none)", NULL, -1, 1000000},
    {"init_fails", WS_OPT_BOOL, "false", "init fails", NULL, 0, 0},
    {"finish_fails", WS_OPT_BOOL, "false", "finish fails", NULL, 0, 0},
    {"set_count", WS_OPT_INT, "0", "count init sets (0: none)", NULL, 0, 1000000},
    {NULL}};

typedef struct tstate {
    int64_t n, fail_at;
    int finish_fails;
} tstate;

static int t_init(ws_ctx *ctx, void **state)
{
    atomic_fetch_add(&inits, 1);
    if (ws_opt_bool(ctx, "init_fails"))
        return ws_fail(ctx, "init refuses on purpose");
    tstate *s = calloc(1, sizeof *s);
    if (!s)
        return ws_fail(ctx, "out of memory");
    s->n = ws_opt_int(ctx, "n");
    s->fail_at = ws_opt_int(ctx, "fail_at");
    s->finish_fails = ws_opt_bool(ctx, "finish_fails");
    if (ws_opt_int(ctx, "set_count") > 0)
        ws_set_count(ctx, (uint64_t)ws_opt_int(ctx, "set_count"));
    *state = s;
    return WS_OK;
}

static int t_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    const tstate *s = state;
    if ((int64_t)index == s->fail_at)
        return ws_fail(ctx, "index %llu refuses on purpose", (unsigned long long)index);
    atomic_fetch_add(&run_sum, (unsigned long long)s->n);
    return WS_OK;
}

static int t_finish(void *state, int run_status, ws_ctx *ctx)
{
    tstate *s = state;
    atomic_fetch_add(&finishes, 1);
    atomic_store(&last_run_status, run_status);
    int fails = s->finish_fails;
    free(s);
    return fails ? ws_fail(ctx, "finish refuses on purpose") : WS_OK;
}

static const ws_plugin tplug = {WS_PLUGIN_HEADER,
                                .name = "tplug",
                                .version = "1",
                                .description = "test_embed's descriptor",
                                .options = test_options,
                                .init = t_init,
                                .run_one = t_run_one,
                                .finish = t_finish};

static ws_pool *pool;

static void setup(void)
{
    pool = ws_pool_create(2, 42);
    cr_assert_not_null(pool);
}

static void teardown(void)
{
    ws_pool_destroy(pool);
}

TestSuite(embed, .init = setup, .fini = teardown);

static int run_with(uint64_t count, const char *opt, ws_pool_stats *st)
{
    const char *opts[] = {opt};
    return ws_pool_run_plugin(pool, &tplug, count, opts, opt ? 1 : 0, st);
}

Test(embed, good_run_applies_options_and_fills_stats)
{
    ws_pool_stats st;
    st.struct_size = sizeof st;
    const char *opts[] = {"n=5", "n=7"}; /* the last one wins, as with -o */
    cr_assert_eq(ws_pool_run_plugin(pool, &tplug, 100, opts, 2, &st), WS_POOL_OK, "%s",
                 ws_pool_error(pool));
    cr_assert_eq(atomic_load(&run_sum), 700);
    cr_assert_eq(atomic_load(&inits), 1);
    cr_assert_eq(atomic_load(&finishes), 1);
    cr_assert_eq(atomic_load(&last_run_status), 0);
    cr_assert_str_empty(ws_pool_error(pool));
    cr_assert_eq(st.struct_size, sizeof st);
    cr_assert_eq(st.jobs, 2);
    cr_assert_eq(st.count, 100);
    cr_assert_eq(st.done, 100);
    cr_assert_eq(st.failed, 0);
    cr_assert(st.tasks >= 1);
}

Test(embed, unknown_option_is_refused_naming_it)
{
    cr_assert_eq(run_with(10, "nosuch=1", NULL), WS_POOL_REFUSED);
    cr_assert(strstr(ws_pool_error(pool), "unknown option 'nosuch'"), "got: %s",
              ws_pool_error(pool));
    cr_assert_eq(atomic_load(&inits), 0, "init ran after a bad option");
    cr_assert_eq(atomic_load(&finishes), 0);
}

Test(embed, bad_value_is_refused_naming_the_option)
{
    cr_assert_eq(run_with(10, "n=abc", NULL), WS_POOL_REFUSED);
    cr_assert(strstr(ws_pool_error(pool), "option 'n'") && strstr(ws_pool_error(pool), "abc"),
              "got: %s", ws_pool_error(pool));
    cr_assert_eq(run_with(10, "n=101", NULL), WS_POOL_REFUSED, "out of the range 0..100");
    cr_assert(strstr(ws_pool_error(pool), "option 'n'"), "got: %s", ws_pool_error(pool));
    cr_assert_eq(run_with(10, "n", NULL), WS_POOL_REFUSED, "no '='");
    cr_assert_eq(atomic_load(&inits), 0);
    const char *none[] = {NULL};
    cr_assert_eq(ws_pool_run_plugin(pool, &tplug, 10, none, 1, NULL), WS_POOL_REFUSED);
    cr_assert_eq(ws_pool_run_plugin(pool, &tplug, 10, NULL, 1, NULL), WS_POOL_REFUSED);
}

Test(embed, bad_descriptors_are_refused)
{
    ws_plugin d = tplug;
    d.abi_major = WS_ABI_MAJOR + 1;
    cr_assert_eq(ws_pool_run_plugin(pool, &d, 10, NULL, 0, NULL), WS_POOL_REFUSED);
    cr_assert(strstr(ws_pool_error(pool), "ABI major mismatch"), "got: %s", ws_pool_error(pool));

    d = tplug;
    d.struct_size = WS_PLUGIN_V1_SIZE - 8;
    cr_assert_eq(ws_pool_run_plugin(pool, &d, 10, NULL, 0, NULL), WS_POOL_REFUSED);
    cr_assert(strstr(ws_pool_error(pool), "struct_size"), "got: %s", ws_pool_error(pool));

    d = tplug;
    d.flags = 0x80000000u;
    cr_assert_eq(ws_pool_run_plugin(pool, &d, 10, NULL, 0, NULL), WS_POOL_REFUSED);
    cr_assert(strstr(ws_pool_error(pool), "flags 0x80000000"), "got: %s", ws_pool_error(pool));

    d = tplug;
    d.run_one = NULL;
    cr_assert_eq(ws_pool_run_plugin(pool, &d, 10, NULL, 0, NULL), WS_POOL_REFUSED);
    cr_assert(strstr(ws_pool_error(pool), "no run_one"), "got: %s", ws_pool_error(pool));

    cr_assert_eq(ws_pool_run_plugin(pool, NULL, 10, NULL, 0, NULL), WS_POOL_REFUSED);
    cr_assert_eq(ws_pool_run_plugin(NULL, &tplug, 10, NULL, 0, NULL), WS_POOL_REFUSED);
    cr_assert_eq(atomic_load(&inits), 0, "init of a refused descriptor ran");
}

/* An older plugin's descriptor (struct_size = the v1 minimum) is read only
 * that far: what lies beyond is never looked at. */
Test(embed, descriptor_read_only_to_its_struct_size)
{
    struct {
        ws_plugin d;
        char beyond[64];
    } old;
    memset(&old, 0xff, sizeof old);
    old.d = tplug;
    old.d.struct_size = WS_PLUGIN_V1_SIZE;
    cr_assert_eq(ws_pool_run_plugin(pool, &old.d, 4, NULL, 0, NULL), WS_POOL_OK, "%s",
                 ws_pool_error(pool));
    cr_assert_eq(atomic_load(&run_sum), 4);
}

Test(embed, init_failure_returns_2_without_finish)
{
    ws_pool_stats st;
    st.struct_size = sizeof st;
    cr_assert_eq(run_with(10, "init_fails=yes", &st), WS_POOL_REFUSED);
    cr_assert(strstr(ws_pool_error(pool), "tplug: init failed: init refuses on purpose"),
              "got: %s", ws_pool_error(pool));
    cr_assert_eq(atomic_load(&inits), 1);
    cr_assert_eq(atomic_load(&finishes), 0, "finish ran after a failed init");
    cr_assert_eq(atomic_load(&run_sum), 0);
    cr_assert_eq(st.done, 0);
}

/* The library also reports a failing index on stderr, as the command
 * does: the tests below capture that line and check it. */
static ws_pool_stats captured_st;
static int captured_rc;
static void run_fail_at_7(void)
{
    captured_rc = run_with(20, "fail_at=7", &captured_st);
}

Test(embed, failing_index_returns_1_naming_it)
{
    captured_st.struct_size = sizeof captured_st;
    char *err = test_capture_stderr(run_fail_at_7);
    ws_pool_stats st = captured_st;
    cr_assert_eq(captured_rc, WS_POOL_FAILED);
    cr_assert(strstr(err, "wsrun: tplug: index 7 failed (worker ") &&
                  strstr(err, "): index 7 refuses on purpose\n"),
              "stderr: %s", err);
    free(err);
    cr_assert(strstr(ws_pool_error(pool), "tplug: index 7 failed: index 7 refuses on purpose"),
              "got: %s", ws_pool_error(pool));
    cr_assert_eq(st.failed, 1);
    cr_assert_eq(atomic_load(&finishes), 1, "finish is called after a failed index");
    cr_assert_neq(atomic_load(&last_run_status), 0);
    /* The next run on the same pool starts clean. */
    cr_assert_eq(run_with(3, NULL, &st), WS_POOL_OK, "%s", ws_pool_error(pool));
    cr_assert_str_empty(ws_pool_error(pool));
    cr_assert_eq(st.failed, 0);
    cr_assert_eq(st.done, 3);
}

Test(embed, finish_failure_returns_1)
{
    cr_assert_eq(run_with(5, "finish_fails=1", NULL), WS_POOL_FAILED);
    cr_assert(strstr(ws_pool_error(pool), "tplug: finish failed: finish refuses on purpose"),
              "got: %s", ws_pool_error(pool));
    cr_assert_eq(atomic_load(&last_run_status), 0, "every index had succeeded");
}

Test(embed, count_from_init_or_refused)
{
    ws_pool_stats st;
    st.struct_size = sizeof st;
    cr_assert_eq(run_with(WS_COUNT_UNSET, "set_count=9", &st), WS_POOL_OK, "%s",
                 ws_pool_error(pool));
    cr_assert_eq(st.count, 9);
    cr_assert_eq(st.done, 9);
    /* A count given by the program wins over init's, as --count does. */
    cr_assert_eq(run_with(4, "set_count=9", &st), WS_POOL_OK);
    cr_assert_eq(st.done, 4);
    /* No count anywhere: refused, and finish still follows the good init. */
    cr_assert_eq(run_with(WS_COUNT_UNSET, NULL, &st), WS_POOL_REFUSED);
    cr_assert(strstr(ws_pool_error(pool), "count is required"), "got: %s", ws_pool_error(pool));
    cr_assert_eq(atomic_load(&inits), 3);
    cr_assert_eq(atomic_load(&finishes), 3);
    cr_assert_eq(run_with((uint64_t)INT64_MAX + 1, NULL, &st), WS_POOL_REFUSED);
}

/* A caller's shorter (older) stats struct: nothing past it is written. */
Test(embed, stats_written_only_to_struct_size)
{
    struct {
        ws_pool_stats st;
        unsigned char guard[16];
    } s;
    memset(&s, 0xab, sizeof s);
    s.st.struct_size = (uint32_t)offsetof(ws_pool_stats, failed);
    cr_assert_eq(run_with(6, NULL, &s.st), WS_POOL_OK);
    cr_assert_eq(s.st.done, 6);
    const unsigned char *after = (const unsigned char *)&s.st + offsetof(ws_pool_stats, failed);
    for (size_t k = 0; k < sizeof s.st - offsetof(ws_pool_stats, failed); k++)
        cr_assert_eq(after[k], 0xab, "byte %zu past struct_size was written", k);
}

Test(embed, pools_one_after_another)
{
    ws_pool_stats st;
    st.struct_size = sizeof st;
    cr_assert_eq(run_with(50, NULL, &st), WS_POOL_OK);
    ws_pool_destroy(pool);
    pool = ws_pool_create(3, 1);
    cr_assert_not_null(pool);
    cr_assert_eq(run_with(60, "n=2", &st), WS_POOL_OK, "%s", ws_pool_error(pool));
    cr_assert_eq(st.jobs, 3);
    cr_assert_eq(st.done, 60);
    ws_pool *one = ws_pool_create(1, 0);
    cr_assert_not_null(one);
    const char *opts[] = {"n=3"};
    cr_assert_eq(ws_pool_run_plugin(one, &tplug, 10, opts, 1, &st), WS_POOL_OK);
    cr_assert_eq(st.jobs, 1);
    ws_pool_destroy(one);
    cr_assert_eq(run_with(5, NULL, &st), WS_POOL_OK);
    cr_assert_eq(atomic_load(&run_sum), 50 + 120 + 30 + 5);
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = -3; /* ".", ".." and opendir's own */
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Writes <folder>/<index>.txt through ws_outfile, as noise does. */
static int write_one(void *arg, uint64_t index, ws_ctx *ctx)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%llu.txt", (const char *)arg, (unsigned long long)index);
    ws_outfile out;
    if (ws_outfile_open_flags(ctx, &out, path, WS_OUTFILE_KEEP_FD) != WS_OK)
        return WS_ERR;
    if (write(out.fd, path, strlen(path)) != (ssize_t)strlen(path)) {
        ws_outfile_abort(&out);
        return ws_fail(ctx, "cannot write %s", path);
    }
    return ws_outfile_commit(ctx, &out);
}

/* The workers keep their output folder open during a run only: a library
 * caller's pool holds nothing open between runs (a folder it could not
 * then unmount). */
Test(embed, output_folders_are_closed_when_the_run_ends)
{
    char dir[] = "/tmp/wsrun-test-embed.XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    int before = open_fds();
    int rc = ws_pool_for(pool, 100, write_one, dir, NULL);
    int after = open_fds();
    char cmd[100];
    snprintf(cmd, sizeof cmd, "test -f %s/99.txt && rm -rf %s", dir, dir);
    int written = system(cmd) == 0;
    cr_assert_eq(rc, WS_POOL_OK, "%s", ws_pool_error(pool));
    cr_assert(written, "the last file is missing");
    cr_assert_eq(after, before, "%d descriptors open after the run, %d before", after, before);
}

Test(embed, create_checks_jobs)
{
    errno = 0;
    cr_assert_null(ws_pool_create(4097, 0));
    cr_assert_eq(errno, EINVAL);
    ws_pool *p = ws_pool_create(0, 0); /* the CPUs this process may use */
    cr_assert_not_null(p);
    ws_pool_stats st;
    st.struct_size = sizeof st;
    cr_assert_eq(ws_pool_run_plugin(p, &tplug, 1, NULL, 0, &st), WS_POOL_OK);
    cr_assert(st.jobs >= 1);
    ws_pool_destroy(p);
    ws_pool_destroy(NULL);
    cr_assert_str_empty(ws_pool_error(NULL));
}

/* ------------------------------------------------------------ ws_pool_for */

/* Counts the leaves of a binary split of [lo, hi): one per value. */
WS_TASK_2(uint64_t, leaves, uint64_t, lo, uint64_t, hi)
{
    if (hi - lo <= 1)
        return hi - lo;
    uint64_t mid = lo + (hi - lo) / 2;
    WS_SPAWN(leaves, lo, mid);
    uint64_t upper = WS_CALL(leaves, mid, hi);
    return upper + WS_AWAIT(leaves);
}

typedef struct for_arg {
    atomic_uint *seen; /* per index: how many times fn ran it */
    atomic_ullong leaves;
    uint64_t seed;
} for_arg;

static int count_each(void *arg, uint64_t index, ws_ctx *ctx)
{
    for_arg *a = arg;
    atomic_fetch_add(&a->seen[index], 1);
    atomic_fetch_add(&a->leaves, WS_RUN(ctx, leaves, 0, index % 200));
    a->seed = ws_run_seed(ctx);
    return 0;
}

Test(embed, for_runs_each_index_once_with_fork_join)
{
    enum { N = 20000 };
    for_arg a = {calloc(N, sizeof(atomic_uint)), 0, 0};
    cr_assert_not_null(a.seen);
    ws_pool_stats st;
    st.struct_size = sizeof st;
    cr_assert_eq(ws_pool_for(pool, N, count_each, &a, &st), WS_POOL_OK, "%s",
                 ws_pool_error(pool));
    for (unsigned i = 0; i < N; i++)
        cr_assert_eq(atomic_load(&a.seen[i]), 1, "index %u ran %u times", i,
                     atomic_load(&a.seen[i]));
    uint64_t want = 0;
    for (unsigned i = 0; i < N; i++)
        want += i % 200;
    cr_assert_eq(atomic_load(&a.leaves), want);
    cr_assert_eq(a.seed, 42, "the pool's seed");
    cr_assert_eq(st.done, N);
    cr_assert_eq(st.count, N);
    cr_assert_eq(st.jobs, 2);
    free(a.seen);
}

static int fail_at_13(void *arg, uint64_t index, ws_ctx *ctx)
{
    (void)arg;
    if (index == 13)
        return ws_fail(ctx, "thirteen");
    return index == 14 ? -7 : 0; /* any non-zero fails */
}

static ws_pool *one_worker_pool;
static void run_fail_at_13(void)
{
    captured_rc = ws_pool_for(one_worker_pool, 100, fail_at_13, NULL, &captured_st);
}

Test(embed, for_failure_names_the_index)
{
    ws_pool *one = ws_pool_create(1, 0); /* one worker: 13 fails first, and stops the rest */
    cr_assert_not_null(one);
    one_worker_pool = one;
    captured_st.struct_size = sizeof captured_st;
    char *err = test_capture_stderr(run_fail_at_13);
    ws_pool_stats st = captured_st;
    cr_assert_eq(captured_rc, WS_POOL_FAILED);
    cr_assert_str_eq(err, "wsrun: ws_pool_for: index 13 failed (worker 0): thirteen\n");
    free(err);
    cr_assert_str_eq(ws_pool_error(one),
                     "ws_pool_for: index 13 failed: thirteen (1 of 100 indices failed)");
    cr_assert_eq(st.failed, 1);
    cr_assert_eq(st.done, 13);
    cr_assert_eq(ws_pool_for(one, 10, NULL, NULL, NULL), WS_POOL_REFUSED);
    cr_assert(strstr(ws_pool_error(one), "no function"), "got: %s", ws_pool_error(one));
    cr_assert_eq(ws_pool_for(one, 0, fail_at_13, NULL, &st), WS_POOL_OK, "no index: nothing fails");
    cr_assert_eq(st.done, 0);
    ws_pool_destroy(one);
}

/* A pool call from inside the work is refused and runs nothing. */
typedef struct nested {
    ws_pool *self, *other;
    atomic_int inner_rc_self, inner_rc_other;
} nested;

static int noop(void *arg, uint64_t index, ws_ctx *ctx)
{
    (void)arg, (void)index, (void)ctx;
    return 0;
}

static int call_inside(void *arg, uint64_t index, ws_ctx *ctx)
{
    nested *n = arg;
    (void)ctx;
    if (index == 0) {
        atomic_store(&n->inner_rc_self, ws_pool_for(n->self, 5, noop, NULL, NULL));
        atomic_store(&n->inner_rc_other, ws_pool_for(n->other, 5, noop, NULL, NULL));
    }
    return 0;
}

Test(embed, pool_calls_from_inside_a_run_are_refused)
{
    nested n = {pool, ws_pool_create(1, 0), 0, 0};
    cr_assert_not_null(n.other);
    cr_assert_eq(ws_pool_for(pool, 4, call_inside, &n, NULL), WS_POOL_OK, "%s",
                 ws_pool_error(pool));
    cr_assert_eq(atomic_load(&n.inner_rc_self), WS_POOL_REFUSED);
    cr_assert_eq(atomic_load(&n.inner_rc_other), WS_POOL_REFUSED);
    cr_assert_str_empty(ws_pool_error(pool), "the busy pool keeps its own message");
    cr_assert(strstr(ws_pool_error(n.other), "inside a task"), "got: %s",
              ws_pool_error(n.other));
    cr_assert_eq(ws_pool_for(n.other, 5, noop, NULL, NULL), WS_POOL_OK, "usable afterwards");
    ws_pool_destroy(n.other);
}
