/*
 * test_scaling.c - the parts of `wsrun --scaling` that need no run
 * (runtime/cmd/scaling_list.c, scaling_report.c): the -j list and its default
 * for any CPU count, the refusal text for each bad list, and the medians
 * and the CSV of a study filled in by hand.  The runs themselves are
 * checked through the command line by tests/cli/scaling.sh.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scaling.h"

static void expect_list(const char *text, const unsigned *want, size_t n_want)
{
    unsigned *jobs = NULL;
    size_t n = 0;
    char err[256] = "";
    cr_assert_eq(wsrt_scaling_parse_list(text, &jobs, &n, err, sizeof err), 0, "'%s': %s", text,
                 err);
    cr_assert_eq(n, n_want, "'%s': %zu values", text, n);
    for (size_t k = 0; k < n; k++)
        cr_assert_eq(jobs[k], want[k], "'%s': value %zu is %u", text, k, jobs[k]);
    free(jobs);
}

static void expect_refused(const char *text, const char *message)
{
    unsigned *jobs = NULL;
    size_t n = 0;
    char err[256] = "";
    cr_assert_eq(wsrt_scaling_parse_list(text, &jobs, &n, err, sizeof err), -1, "'%s' accepted",
                 text);
    cr_assert_str_eq(err, message);
    cr_assert_null(jobs);
}

Test(scaling, lists)
{
    expect_list("1,2,4", (unsigned[]){1, 2, 4}, 3);
    expect_list("1-4", (unsigned[]){1, 2, 3, 4}, 4);
    expect_list("8,1,3-4", (unsigned[]){1, 3, 4, 8}, 4);
    expect_list("4096", (unsigned[]){4096}, 1);
    expect_list("5-5", (unsigned[]){5}, 1);
}

Test(scaling, bad_lists)
{
    expect_refused("0", "--scaling: 0 is out of range 1..4096 (in '0')");
    expect_refused("1,4097", "--scaling: 4097 is out of range 1..4096 (in '1,4097')");
    expect_refused("a", "--scaling: 'a' is not a number of jobs or a range A-B (in 'a')");
    expect_refused("1-2-3", "--scaling: '2-3' is not a number of jobs or a range A-B (in '1-2-3')");
    expect_refused("", "--scaling: empty list (expected e.g. 1,2,4 or 1-16)");
    expect_refused(",1", "--scaling: empty value in ',1' (expected e.g. 1,2,4 or 1-16)");
    expect_refused("3-1", "--scaling: range '3-1' goes down (write it 1-3)");
    expect_refused("1-4,4", "--scaling: -j 4 is given twice in '1-4,4'");
    expect_refused("99999999999999999999",
                   "--scaling: '99999999999999999999' is not a number of jobs or a range A-B "
                   "(in '99999999999999999999')");
}

static void expect_default(unsigned cpus, const unsigned *want, size_t n_want)
{
    unsigned *jobs = NULL;
    size_t n = 0;
    cr_assert_eq(wsrt_scaling_default_list(cpus, &jobs, &n), 0);
    cr_assert_eq(n, n_want, "%u CPUs: %zu values", cpus, n);
    for (size_t k = 0; k < n; k++)
        cr_assert_eq(jobs[k], want[k], "%u CPUs: value %zu is %u", cpus, k, jobs[k]);
    free(jobs);
}

Test(scaling, default_list)
{
    expect_default(1, (unsigned[]){1}, 1);
    expect_default(2, (unsigned[]){1, 2}, 2);
    expect_default(6, (unsigned[]){1, 2, 4, 6}, 4);
    expect_default(16, (unsigned[]){1, 2, 4, 8, 16}, 5);
    expect_default(4096, (unsigned[]){1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096}, 13);
}

Test(scaling, orphan_options)
{
    wsrt_scaling_args a;
    memset(&a, 0, sizeof a);
    cr_assert_null(wsrt_scaling_orphan_option(&a));
    a.csv_path = "x.csv";
    cr_assert_str_eq(wsrt_scaling_orphan_option(&a), "--scaling-csv");
    a.given = 1;
    cr_assert_null(wsrt_scaling_orphan_option(&a));
}

/* A study of 3 rounds at -j 1 and 2 with known spans. */
Test(scaling, medians_and_csv)
{
    unsigned jobs[] = {1, 2};
    wsrt_scaling_run runs[6] = {
        {.span_s = 3.0, .cpu_s = 3.0, .steals = 0},  {.span_s = 1.0, .cpu_s = 2.0, .steals = 4},
        {.span_s = 2.0, .cpu_s = 2.0, .steals = 0},  {.span_s = 1.5, .cpu_s = 3.0, .steals = 6},
        {.span_s = 4.0, .cpu_s = 4.0, .steals = 0},  {.span_s = 0.5, .cpu_s = 1.0, .steals = 5},
    };
    wsrt_scaling_study s = {.plugin = "p", .jobs = jobs, .n_jobs = 2, .rounds = 3,
                          .rounds_done = 3, .runs = runs, .cpus_allowed = 2};
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    wsrt_scaling_print_table(out, &s);
    fclose(out);
    /* -j1: median 3, min 2, max 4; -j2: median 1, so speedup 3, efficiency 1.5 */
    cr_assert(strstr(text, "    1    3.000000    2.000000    4.000000     1.00       1.00      1.00"
                           "          0        0.0\n"),
              "%s", text);
    cr_assert(strstr(text, "    2    1.000000    0.500000    1.500000     3.00       1.50      2.00"
                           "          5        0.0\n"),
              "%s", text);
    cr_assert(strstr(text, "warning: wide spread: max/min 3.00 at -j 2"), "%s", text);
    cr_assert(strstr(text, "output: the same in all 6 runs"), "%s", text);
    free(text);

    out = open_memstream(&text, &size);
    wsrt_scaling_write_csv(out, &s);
    fclose(out);
    const char *head = "round,jobs,span_s,cpu_s,cpu_per_wall,steals,parked_ms,output_bytes,"
                       "output_hash\n1,1,3.000000000,3.000000000,1.000000,0,";
    cr_assert(strncmp(text, head, strlen(head)) == 0, "%s", text);
    cr_assert(strstr(text, "\n3,2,0.500000000,1.000000000,2.000000,5,"), "%s", text);
    free(text);

    s.rounds_done = 1; /* stopped early: only round 1 counts */
    out = open_memstream(&text, &size);
    wsrt_scaling_print_table(out, &s);
    fclose(out);
    cr_assert(strstr(text, "-j 1,2, 1 round of 3 (stopped early)"), "%s", text);
    cr_assert(strstr(text, "    2    1.000000    1.000000    1.000000     3.00"), "%s", text);
    free(text);
}
