/*
 * test_report.c - what wsrun writes about a run: the --trace file (valid
 * JSON whose index ranges cover every index exactly once and whose spans
 * nest properly on each worker, checked by tests/py/check_trace.py,
 * which is itself shown to reject broken traces), the --stats-json file
 * (totals equal to the count and to the sum of the workers), the report
 * files' temporary-then-rename behaviour and messages, and --list-plugins
 * (descriptors read without init, broken files skipped with a message).
 *
 * Writes only into a fresh folder under /tmp, which it removes.  Needs
 * $WSRUN_BUILD (the build folder, with plugins and test-plugins).
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover.h"
#include "report.h"
#include "stats_json.h"
#include "stress.h"
#include "trace.h"

static char scratch[256];

static void make_scratch(void)
{
    snprintf(scratch, sizeof scratch, "/tmp/wsrun-test-report.XXXXXX");
    cr_assert_not_null(mkdtemp(scratch));
}

static void remove_scratch(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    cr_assert_eq(system(cmd), 0);
}

static const char *build_dir(void)
{
    const char *b = getenv("WSRUN_BUILD");
    return b && *b ? b : "build";
}

/* Number of entries in the scratch folder (temporaries included). */
static int files_in_scratch(void)
{
    DIR *d = opendir(scratch);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* Slow enough per index that thieves find work and ranges get split. */
static int busy_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    count_state *s = state;
    volatile uint64_t x = index;
    for (int k = 0; k < 200; k++)
        x = x * 6364136223846793005u + 1;
    return count_run_one(s, index, ctx);
}

static int run_python(const char *fmt, ...) WS_PRINTF(1, 2);
static int run_python(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static void write_report(const char *path, const ws_run *run, wsrt_pool_result *res, int trace)
{
    wsrt_report_file f;
    char err[512];
    cr_assert_eq(wsrt_report_open(&f, trace ? "--trace" : "--stats-json", path, err, sizeof err), 0,
                 "%s", err);
    if (trace)
        wsrt_trace_write(f.fp, run, res);
    else
        wsrt_stats_json_write(f.fp, run, res);
    cr_assert_eq(wsrt_report_commit(&f, err, sizeof err), 0, "%s", err);
}

Test(report, trace_covers_every_index_once_and_nests, .init = make_scratch,
     .fini = remove_scratch, .timeout = 60)
{
    const uint64_t n = 400000;
    const unsigned jobs = 3;
    count_state s = {calloc(n, 1), UINT64_MAX};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "busy", n, jobs, busy_run_one, &s);
    run.trace = 1;
    cr_assert_eq(test_pool_run(&run, &res), 0);
    cr_assert_not_null(res.traces);

    /* The events themselves: ranges add up to the count. */
    uint64_t ranged = 0, ranges = 0;
    for (unsigned w = 0; w < jobs; w++)
        for (size_t k = 0; k < res.traces[w].n; k++)
            if (res.traces[w].events[k].kind == WSRT_TRACE_RANGE) {
                ranged += res.traces[w].events[k].b - res.traces[w].events[k].a;
                ranges++;
            }
    cr_assert_eq(ranged, n);
    cr_assert_gt(ranges, 1, "3 workers on 400000 busy indices split the range");

    char path[300];
    snprintf(path, sizeof path, "%s/trace.json", scratch);
    write_report(path, &run, &res, 1);
    cr_assert_eq(files_in_scratch(), 1, "only the trace, no temporary left");
    cr_assert_eq(run_python("/usr/bin/python3 -m json.tool '%s' >/dev/null", path), 0);
    cr_assert_eq(run_python("/usr/bin/python3 tests/py/check_trace.py '%s' %llu %u", path,
                            (unsigned long long)n, jobs),
                 0);
    /* A wrong count or worker number must be caught: the checker can fail. */
    cr_assert_eq(run_python("/usr/bin/python3 tests/py/check_trace.py '%s' %llu %u >/dev/null",
                            path, (unsigned long long)n + 1, jobs),
                 1);
    cr_assert_eq(run_python("/usr/bin/python3 tests/py/check_trace.py '%s' %llu %u >/dev/null",
                            path, (unsigned long long)n, jobs + 1),
                 1);
    wsrt_trace_free(&res);
    cr_assert_null(res.traces);
    free(res.workers);
    free(s.hits);
}

/* A hand-made trace: worker 0 ran [0,10) and [10,20), worker 1 ran
 * [15,30) (overlapping indices) and has two spans that partly overlap. */
Test(report, checker_rejects_broken_traces, .init = make_scratch, .fini = remove_scratch)
{
    wsrt_trace_event w0[] = {
        {1000, 2000, 0, 10, WSRT_TRACE_RANGE},
        {2000, 3000, 10, 20, WSRT_TRACE_RANGE}, /* touching is fine */
    };
    wsrt_trace_event w1[] = {
        {1000, 5000, 15, 30, WSRT_TRACE_RANGE},
        {4000, 6000, 0, 0, WSRT_TRACE_PARK},
    };
    wsrt_trace_log logs[2] = {{w0, 2, 2}, {w1, 2, 2}};
    wsrt_pool_result res = {.jobs = 2, .traces = logs};
    ws_run run;
    test_run_init(&run, "fake", 30, 2, count_run_one, NULL);
    char path[300];
    snprintf(path, sizeof path, "%s/bad.json", scratch);
    write_report(path, &run, &res, 1);
    char out[300];
    snprintf(out, sizeof out, "%s/check.txt", scratch);
    cr_assert_eq(run_python("/usr/bin/python3 tests/py/check_trace.py '%s' 30 2 >'%s'", path,
                            out),
                 1);
    FILE *f = fopen(out, "r");
    char text[4096] = "";
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    cr_assert(strstr(text, "range [15,30) on tid 2 overlaps the range before it"), "%s", text);
    cr_assert(strstr(text, "parked at 4.000..6.000 partly overlaps indices 15-29"), "%s", text);
    cr_assert(strstr(text, "tid 2: parked at 4.000 starts before indices 15-29 ends at 5.000"),
              "%s", text);

    /* The same spans, fixed, pass: the checker is not just always failing. */
    w1[0] = (wsrt_trace_event){1000, 4000, 20, 30, WSRT_TRACE_RANGE};
    write_report(path, &run, &res, 1);
    cr_assert_eq(run_python("/usr/bin/python3 tests/py/check_trace.py '%s' 30 2", path), 0);
}

Test(report, trace_of_fork_join_nests_stolen_tasks, .init = make_scratch,
     .fini = remove_scratch, .timeout = 120)
{
    /* fib(32) in each of 2 roots on 3 workers, so one worker starts idle
     * and must steal children: they appear as task spans, which may sit
     * inside a range on the same worker.  Stealing depends on timing, so
     * up to 10 runs are tried. */
    size_t tasks = 0;
    for (int attempt = 0; attempt < 10 && tasks == 0; attempt++) {
        fib_run_state s = {32, attempt % 2, {0}};
        ws_run run;
        wsrt_pool_result res;
        test_run_init(&run, "fib", 2, 3, fib_top_run_one, &s);
        run.trace = 1;
        cr_assert_eq(test_pool_run(&run, &res), 0);
        for (int r = 0; r < 2; r++)
            cr_assert_eq(s.result[r], 2178309, "fib(32) of root %d", r);
        for (unsigned w = 0; w < res.jobs; w++)
            for (size_t k = 0; k < res.traces[w].n; k++)
                tasks += res.traces[w].events[k].kind == WSRT_TRACE_TASK;
        char path[300];
        snprintf(path, sizeof path, "%s/fib.json", scratch);
        write_report(path, &run, &res, 1);
        cr_assert_eq(run_python("/usr/bin/python3 tests/py/check_trace.py '%s' 2 3", path), 0);
        wsrt_trace_free(&res);
        free(res.workers);
    }
    cr_assert_gt(tasks, 0, "no fork-join child was stolen in 10 runs");
}

Test(report, stats_json_totals_match_count_and_workers, .init = make_scratch,
     .fini = remove_scratch, .timeout = 60)
{
    const uint64_t n = 100000;
    count_state s = {calloc(n, 1), UINT64_MAX};
    ws_run run;
    wsrt_pool_result res;
    test_run_init(&run, "busy", n, 2, busy_run_one, &s);
    cr_assert_eq(test_pool_run(&run, &res), 0);
    char path[300];
    snprintf(path, sizeof path, "%s/stats.json", scratch);
    write_report(path, &run, &res, 0);
    cr_assert_eq(run_python("/usr/bin/python3 -m json.tool '%s' >/dev/null", path), 0);
    /* Totals are the sums of the workers, and indices add up to the count. */
    cr_assert_eq(run_python("/usr/bin/python3 -c '\n"
                            "import json, sys\n"
                            "d = json.load(open(sys.argv[1]))\n"
                            "t, ws = d[\"total\"], d[\"workers\"]\n"
                            "assert d[\"plugin\"] == \"busy\" and d[\"jobs\"] == 2, d\n"
                            "assert len(ws) == 2 and [w[\"worker\"] for w in ws] == [0, 1]\n"
                            "for k in t: assert t[k] == sum(w[k] for w in ws), k\n"
                            "assert t[\"indices\"] == d[\"count\"] == d[\"indices_ok\"] == %llu, t\n"
                            "assert t[\"busy_ns\"] > 0 and d[\"indices_per_s\"] > 0\n"
                            "' '%s'",
                            (unsigned long long)n, path),
                 0);
    free(res.workers);
    free(s.hits);
}

Test(report, json_helpers_are_exact)
{
    char buf[256];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    wsrt_json_us(f, 1234567);
    putc(' ', f);
    wsrt_json_us(f, 5);
    putc(' ', f);
    wsrt_json_string(f, "a\"b\\c\nd\x01");
    putc(' ', f);
    wsrt_json_string(f, NULL);
    putc(' ', f);
    wsrt_json_double(f, 0.0 / 0.0);
    fclose(f);
    cr_assert_str_eq(buf, "1234.567 0.005 \"a\\\"b\\\\c\\nd\\u0001\" null 0");
}

Test(report, file_appears_only_on_commit, .init = make_scratch, .fini = remove_scratch)
{
    char path[300], err[512];
    snprintf(path, sizeof path, "%s/out.json", scratch);
    wsrt_report_file f;
    cr_assert_eq(wsrt_report_open(&f, "--trace", path, err, sizeof err), 0, "%s", err);
    fputs("{}", f.fp);
    cr_assert_eq(access(path, F_OK), -1, "not there before commit");
    wsrt_report_abort(&f);
    cr_assert_eq(files_in_scratch(), 0, "abort leaves nothing");

    cr_assert_eq(wsrt_report_open(&f, "--trace", path, err, sizeof err), 0, "%s", err);
    fputs("{}\n", f.fp);
    cr_assert_eq(wsrt_report_commit(&f, err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 3);
    cr_assert_eq(files_in_scratch(), 1);

    wsrt_report_file never;
    memset(&never, 0, sizeof never);
    wsrt_report_abort(&never); /* harmless on a zeroed struct */
}

Test(report, bad_path_is_named_with_the_option, .init = make_scratch, .fini = remove_scratch)
{
    char path[300], err[512];
    snprintf(path, sizeof path, "%s/no/such/dir/t.json", scratch);
    wsrt_report_file f;
    cr_assert_eq(wsrt_report_open(&f, "--stats-json", path, err, sizeof err), -1);
    cr_assert(strncmp(err, "--stats-json: cannot create ", 28) == 0, "%s", err);
    cr_assert(strstr(err, path) && strstr(err, "No such file or directory"), "%s", err);
    wsrt_report_abort(&f);
    cr_assert_eq(files_in_scratch(), 0);
}

Test(report, full_disk_fails_commit_and_leaves_nothing)
{
    /* /dev/full takes the open but fails every write: the report must say
     * so instead of renaming a truncated file into place.  Its folder is
     * /dev, where the temporary cannot be created as non-root, so this
     * drives the stream directly. */
    wsrt_report_file f;
    memset(&f, 0, sizeof f);
    f.option = "--trace";
    f.out.fd = -1;
    f.fp = fopen("/dev/full", "w");
    cr_assert_not_null(f.fp);
    snprintf(f.out.final_path, sizeof f.out.final_path, "/dev/full");
    for (int k = 0; k < 10000; k++)
        fputs("0123456789", f.fp);
    char err[512];
    cr_assert_eq(wsrt_report_commit(&f, err, sizeof err), -1);
    cr_assert_str_eq(err, "--trace: cannot write /dev/full: No space left on device");
}
