/*
 * test_mpi.c - wsrun-mpi under a real mpirun (Open MPI, 2 or 3 ranks on
 * this machine): noise files byte-identical to a single-process run, every
 * index exactly once (the tally fixture journals each index with its rank)
 * with work on every rank, and failures - a task, a chosen rank, an init,
 * a crash, ranks that disagree - ending the whole job non-zero (the other
 * ranks wait for the stop: no test races a clock), with the rank and the
 * index in the message.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dist_util.h"

/* Each mpirun keeps its session folder in the test's own folder: Criterion
 * runs tests side by side, and two mpiruns creating the shared default
 * /tmp/ompi.<host>.<uid> at once can fail ("A call to mkdir was unable
 * to create the desired directory ... File exists"). */
#define MPIRUN "mpirun --allow-run-as-root --oversubscribe --mca orte_tmpdir_base '%s'"
/* A failure must end the whole job: the failure tests hold every other
 * index until the stop reaches its rank (tally's hold_from), so a stop that
 * does not spread hangs the job into the test's timeout instead of racing
 * a clock. */

static du_result res; /* large: one per test process */

static void mpi_setup(void)
{
    du_setup();
    char prog[PATH_MAX + 16];
    snprintf(prog, sizeof prog, "%s/wsrun-mpi", work_build);
    cr_assert_eq(access(prog, X_OK), 0, "%s is missing: build it with make mpi", prog);
    cr_assert_eq(system("command -v mpirun >/dev/null"), 0,
                 "mpirun is missing: install openmpi-bin (make deps-test)");
}

/* mpirun -n RANKS wsrun-mpi ARGS */
#define RUN_MPI(ranks, fmt, ...)                                                                \
    du_run(&res, MPIRUN " -n %d '%s/wsrun-mpi' " fmt, work_dir, ranks, work_build, __VA_ARGS__)

static const char *tally(void)
{
    static char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/test-plugins/tally.so", work_build);
    return path;
}

/* Read every tally journal in `dir`: hits[i] counts index i, per_rank[r]
 * the indices rank r ran.  Returns the number of lines. */
static uint64_t read_tally(const char *dir, uint64_t count, unsigned *hits, uint64_t *per_rank,
                           int ranks)
{
    size_t n;
    char **names = du_list(dir, &n);
    uint64_t lines = 0;
    for (size_t f = 0; f < n; f++) {
        if (strncmp(names[f], "tally.", 6) != 0)
            continue; /* wait_ranks' started.<rank> markers */
        FILE *in = fopen(work_path("%s/%s", dir, names[f]), "r");
        cr_assert_not_null(in, "%s", names[f]);
        unsigned long long index;
        int rank;
        while (fscanf(in, "%llu %d", &index, &rank) == 2) {
            cr_assert_lt(index, count, "index %llu is outside the run", index);
            cr_assert(rank >= 0 && rank < ranks, "rank %d", rank);
            hits[index]++;
            per_rank[rank]++;
            lines++;
        }
        fclose(in);
    }
    du_free_list(names, n);
    return lines;
}

/* Rank 0's summary table: the indices column of each rank's row. */
static void summary_indices(const char *err, int ranks, uint64_t *out)
{
    const char *table = strstr(err, "    rank ");
    cr_assert_not_null(table, "no per-rank summary in: %s", err);
    const char *line = strchr(table, '\n');
    for (int r = 0; r < ranks; r++) {
        cr_assert_not_null(line, "summary too short: %s", err);
        int rank;
        unsigned long long indices;
        cr_assert_eq(sscanf(line + 1, "%d %llu", &rank, &indices), 2, "row %d: %s", r, line);
        cr_assert_eq(rank, r);
        out[r] = indices;
        line = strchr(line + 1, '\n');
    }
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

Test(mpi, noise_is_byte_identical_to_one_process, .init = mpi_setup, .fini = work_teardown,
     .timeout = 120)
{
    du_mkdir("single");
    du_mkdir("ranks");
    du_run(&res, "'%s/wsrun' --plugin noise --count 600 --seed 11 -j2 -o prefix=single/img_",
           work_build);
    cr_assert_eq(res.status, 0, "single process: %s", res.err);
    RUN_MPI(3, "--plugin %s --count 600 --seed 11 -j2 -o prefix=ranks/img_", "noise");
    cr_assert_eq(res.status, 0, "mpirun: exit %d: %s", res.status, res.err);
    const char *parts[] = {"ranks", NULL};
    cr_assert_eq(du_assert_partition("single", parts), 600);
    cr_assert_eq(count_of(res.err, "wsrun: noise: 3 ranks, 6 workers: 600 of 600 indices"), 1,
                 "rank 0's summary, once: %s", res.err);
    uint64_t per_rank[3];
    summary_indices(res.err, 3, per_rank);
    cr_assert_eq(per_rank[0] + per_rank[1] + per_rank[2], 600);
}

Test(mpi, every_index_exactly_once_on_every_rank, .init = mpi_setup, .fini = work_teardown,
     .timeout = 120)
{
    const uint64_t count = 3000;
    du_mkdir("j");
    /* Each rank's first index waits until all 3 ranks have started one, so
     * every rank gets work however the machine schedules them. */
    RUN_MPI(3, "--plugin '%s' --count 3000 -j1 --stats --progress -o dir=j -o wait_ranks=3",
            tally());
    cr_assert_eq(res.status, 0, "exit %d: %s", res.status, res.err);
    /* Rank 0's progress line counts all ranks: its last line, drawn after
     * the ranks' final counts are gathered, shows the whole job. */
    unsigned long long shown = 0;
    for (const char *p = res.err; (p = strstr(p, "wsrun: tally: ")); p++) {
        unsigned long long done, total;
        if (sscanf(p, "wsrun: tally: %llu/%llu", &done, &total) == 2 && total == 3000 &&
            done > shown)
            shown = done;
    }
    cr_assert_eq(shown, 3000, "the progress line never reached 3000 (%llu): %s", shown, res.err);
    cr_assert_null(strstr(res.err, "wsrun: rank 1: tally: "), "rank 1 drew a line: %s", res.err);
    unsigned *hits = calloc(count, sizeof *hits);
    uint64_t per_rank[3] = {0, 0, 0}, summary[3];
    cr_assert_eq(read_tally("j", count, hits, per_rank, 3), count);
    for (uint64_t i = 0; i < count; i++)
        cr_assert_eq(hits[i], 1, "index %llu ran %u times", (unsigned long long)i, hits[i]);
    free(hits);
    summary_indices(res.err, 3, summary);
    for (int r = 0; r < 3; r++) {
        cr_assert_gt(per_rank[r], 0, "rank %d ran nothing: %s", r, res.err);
        cr_assert_eq(per_rank[r], summary[r], "rank %d: journal %llu, summary %llu", r,
                     (unsigned long long)per_rank[r], (unsigned long long)summary[r]);
    }
    cr_assert(strstr(res.err, "  balance: indices per rank"), "--stats balance: %s", res.err);
}

Test(mpi, shard_under_mpi_runs_only_its_part, .init = mpi_setup, .fini = work_teardown,
     .timeout = 120)
{
    du_mkdir("j");
    RUN_MPI(2, "--plugin '%s' --count 1000 --shard 1/3 -j1 -o dir=j --stats-json st.json",
            tally());
    cr_assert_eq(res.status, 0, "exit %d: %s", res.status, res.err);
    /* one report per rank, never two ranks writing one file */
    cr_assert_eq(access(work_path("st.rank0.json"), F_OK), 0, "no st.rank0.json");
    cr_assert_eq(access(work_path("st.rank1.json"), F_OK), 0, "no st.rank1.json");
    cr_assert_neq(access(work_path("st.json"), F_OK), 0, "st.json written by several ranks");
    unsigned *hits = calloc(1000, sizeof *hits);
    uint64_t per_rank[2] = {0, 0};
    cr_assert_eq(read_tally("j", 1000, hits, per_rank, 2), 333);
    for (unsigned i = 0; i < 1000; i++)
        cr_assert_eq(hits[i], i >= 334 && i < 667, "index %u ran %u times", i, hits[i]);
    free(hits);
}

Test(mpi, task_failure_stops_every_rank_with_rank_and_index, .init = mpi_setup,
     .fini = work_teardown, .timeout = 120)
{
    du_mkdir("j");
    /* Indices past 100 wait for the stop: only its spreading ends them. */
    RUN_MPI(3, "--plugin '%s' --count 60000 -j1 -o dir=j -o fail_index=100 -o hold_from=101",
            tally());
    cr_assert_neq(res.status, 0, "a failed task, yet exit 0: %s", res.err);
    const char *line = strstr(res.err, ": tally: index 100 failed (worker 0): deliberate");
    cr_assert_not_null(line, "no failure line: %s", res.err);
    int rank = line[-1] - '0';
    cr_assert(rank >= 0 && rank <= 2 && strncmp(line - 13, "wsrun: rank ", 12) == 0,
              "failure line without its rank: %s", res.err);
    char want[96];
    snprintf(want, sizeof want, "1 of 60000 tasks failed, on rank %d (1)", rank);
    cr_assert(strstr(res.err, want), "rank 0's summary lacks '%s': %s", want, res.err);
}

/* Issue 23 item 7: the failing rank's pool lasts (its long index ignores
 * ws_stopping) until every worker of the other rank has ended, so the
 * other rank can stop only by hearing of the failure while that pool
 * still runs.  Before the fix its monitor asked ws_stopping with a
 * non-worker ctx, which always reads 0: the other rank heard only when the
 * failing rank's pool ended, i.e. never before it had run every index it
 * could get (here about 20000 started after the failure).  Counted by
 * events: each index rank 1 starts after dir/failed exists.  A stop that
 * spreads within the monitor's 100 ms leaves rank 1 some hundreds of
 * 100 us indices at most; the bound is a quarter of the run. */
Test(mpi, a_failure_stops_the_other_rank_while_its_pool_still_runs, .init = mpi_setup,
     .fini = work_teardown, .timeout = 120)
{
    du_mkdir("j");
    RUN_MPI(2, "--plugin '%s' --count 40000 -j2 -o dir=j -o long_rank=0 -o sleep_us=100",
            tally());
    cr_assert_eq(res.status, 1, "exit %d: %s", res.status, res.err);
    cr_assert(strstr(res.err, "deliberate failure at index"), "%s", res.err);
    unsigned long long late = 0;
    for (unsigned w = 0; w < 2; w++) {
        size_t len;
        char *text = du_slurp(work_path("j/ended.1.%u", w), &len);
        cr_assert_not_null(text, "rank 1 worker %u wrote no count", w);
        late += strtoull(text, NULL, 10);
        free(text);
    }
    cr_assert_lt(late, 10000, "rank 1 started %llu indices after rank 0 failed: %s", late,
                 res.err);
}

Test(mpi, failure_on_a_chosen_rank_is_named, .init = mpi_setup, .fini = work_teardown,
     .timeout = 120)
{
    du_mkdir("j");
    RUN_MPI(3, "--plugin '%s' --count 60000 -j1 -o dir=j -o hold_from=0 -o fail_rank=2",
            tally());
    cr_assert_eq(res.status, 1, "exit %d: %s", res.status, res.err);
    cr_assert(strstr(res.err, "wsrun: rank 2: tally: index "), "%s", res.err);
    cr_assert(strstr(res.err, "deliberate failure at index"), "%s", res.err);
    cr_assert(strstr(res.err, "tasks failed, on rank 2 (1)"), "%s", res.err);
}

Test(mpi, init_failure_on_one_rank_ends_all, .init = mpi_setup, .fini = work_teardown,
     .timeout = 120)
{
    du_mkdir("j");
    RUN_MPI(3, "--plugin '%s' --count 600 -j1 -o dir=j -o init_fail_rank=1", tally());
    cr_assert_eq(res.status, 2, "exit %d: %s", res.status, res.err);
    cr_assert(strstr(res.err, "wsrun: rank 1: tally: init failed: deliberate init failure"),
              "%s", res.err);
    cr_assert(strstr(res.err, "not running: rank 1 stopped before the run started"), "%s",
              res.err);
    size_t n;
    char **left = du_list("j", &n);
    du_free_list(left, n);
    cr_assert_eq(n, 0, "ranks ran although rank 1 was not ready");
}

Test(mpi, crash_on_one_rank_ends_the_job, .init = mpi_setup, .fini = work_teardown,
     .timeout = 120)
{
    du_mkdir("j");
    RUN_MPI(3, "--plugin '%s' --count 60000 -j1 -o dir=j -o hold_from=0 -o crash_rank=1",
            tally());
    cr_assert_neq(res.status, 0, "%s", res.err);
    cr_assert(strstr(res.err, "wsrun: rank 1: tally: index "), "%s", res.err);
    cr_assert(strstr(res.err, "fatal signal SIGABRT"), "%s", res.err);
}

/* exit() in a plugin's run_one on some rank: wsrun-mpi installs the same
 * guard as wsrun (one line naming the rank, plugin and index; status 3). */
Test(mpi, exit_in_run_one_is_named_and_ends_the_job, .init = mpi_setup, .fini = work_teardown,
     .timeout = 120)
{
    char crash[PATH_MAX + 32];
    snprintf(crash, sizeof crash, "%s/test-plugins/crash.so", work_build);
    RUN_MPI(2, "--plugin '%s' --count 50 -j1 -o how=exit -o at=30", crash);
    cr_assert_eq(res.status, 3, "exit %d: %s", res.status, res.err);
    cr_assert(strstr(res.err, ": crash: called exit(0) in run_one at index 30 (worker 0): "
                              "exiting with status 3"),
              "%s", res.err);
}

Test(mpi, ranks_that_disagree_on_the_count_do_not_run, .init = mpi_setup, .fini = work_teardown,
     .timeout = 120)
{
    du_mkdir("j");
    RUN_MPI(2, "--plugin '%s' -j1 -o dir=j -o count_base=100", tally());
    cr_assert_eq(res.status, 2, "exit %d: %s", res.status, res.err);
    cr_assert(strstr(res.err, "ranks disagree on the indices to run: rank 0 has count 100"),
              "%s", res.err);
    size_t n;
    char **left = du_list("j", &n);
    du_free_list(left, n);
    cr_assert_eq(n, 0, "ranks ran although they disagree");
}

Test(mpi, plugin_that_combines_all_indices_is_refused, .init = mpi_setup, .fini = work_teardown,
     .timeout = 120)
{
    RUN_MPI(2, "--plugin '%s/test-plugins/failat.so' --count 10 -j1", work_build);
    cr_assert_eq(res.status, 2, "exit %d: %s", res.status, res.err);
    cr_assert_eq(count_of(res.err, "plugin failat cannot run on several ranks"), 1, "%s",
                 res.err);
}

Test(mpi, one_journal_for_several_ranks_is_refused, .init = mpi_setup, .fini = work_teardown,
     .timeout = 120)
{
    du_mkdir("j");
    RUN_MPI(2, "--plugin '%s' --count 10 -j1 -o dir=j --journal jr", tally());
    cr_assert_eq(res.status, 2, "exit %d: %s", res.status, res.err);
    cr_assert(strstr(res.err, "wsrun: rank 0: --journal: wsrun-mpi cannot share one journal"),
              "%s", res.err);
    cr_assert_neq(access(work_path("jr"), F_OK), 0, "the journal was created");
}

Test(mpi, help_names_wsrun_mpi, .init = mpi_setup, .fini = work_teardown, .timeout = 120)
{
    /* one rank without a launcher (an MPI singleton); --help goes to stdout */
    du_run(&res, "'%s/wsrun-mpi' --help 1>&2", work_build);
    cr_assert_eq(res.status, 0, "exit %d: %s", res.status, res.err);
    cr_assert(strstr(res.err, "usage: wsrun-mpi --plugin NAME [--count N]"), "%s", res.err);
    du_run(&res, "'%s/wsrun-mpi' --plugin spin --help 1>&2", work_build);
    cr_assert_eq(res.status, 0, "exit %d: %s", res.status, res.err);
    cr_assert(strstr(res.err, "usage: wsrun-mpi --plugin spin [--count N]"), "%s", res.err);
}
