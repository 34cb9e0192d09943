/*
 * test_benchplugins.c - the benchmark plugins (fib, nqueens, uts, spin,
 * empty) and the fork-join stress plugin (forktree), run for real through
 * $WSRUN_BUILD/wsrun at several -j: exact results on stdout, exit codes,
 * error text; plus the SHA-1 and spin-cost code they are built on.
 *
 * Never writes files: the plugins under test only print.  The program runs
 * with WSRUN_PLUGIN_PATH removed, so the plugins come from
 * $WSRUN_BUILD/plugins beside it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../plugins/spin_work.h"
#include "../plugins/uts_tree.h"

extern char **environ;

typedef struct run_result {
    int status; /* exit code, or 128 + signal */
    char out[1 << 16];
    char err[1 << 16];
} run_result;

static void read_all(int fd, char *buf, size_t size)
{
    size_t used = 0;
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        ssize_t n = read(fd, buf + used, size - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        if (used == size - 1)
            break;
    }
    buf[used] = '\0';
}

/* Run $WSRUN_BUILD/wsrun with the NULL-terminated arguments. */
static void run_wsrun(run_result *r, ...)
{
    const char *build = getenv("WSRUN_BUILD");
    char prog[PATH_MAX];
    snprintf(prog, sizeof prog, "%s/wsrun", build && *build ? build : "build");
    char *argv[64];
    int argc = 0;
    argv[argc++] = prog;
    va_list ap;
    va_start(ap, r);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 63;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    char *envp[512];
    int envc = 0;
    for (char **e = environ; *e && envc < 511; e++)
        if (strncmp(*e, "WSRUN_PLUGIN_PATH=", 18) != 0)
            envp[envc++] = *e;
    envp[envc] = NULL;

    char out_path[] = "/tmp/test_benchplugins.out.XXXXXX";
    char err_path[] = "/tmp/test_benchplugins.err.XXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    cr_assert(out_fd >= 0 && err_fd >= 0, "mkstemp: %s", strerror(errno));
    unlink(out_path);
    unlink(err_path);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, prog, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot start %s: %s", prog, strerror(rc));
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    read_all(out_fd, r->out, sizeof r->out);
    read_all(err_fd, r->err, sizeof r->err);
    close(out_fd);
    close(err_fd);
}

static run_result res; /* large: one per test process */

/* A bounded copy of a (short) stdout, to compare later runs with. */
static void keep_text(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static const char *const jobs_list[] = {"1", "2", "3", "8"};
#define N_JOBS (sizeof jobs_list / sizeof jobs_list[0])

#define ASSERT_OK_OUTPUT(expected, what, j)                                                   \
    do {                                                                                      \
        cr_assert_eq(res.status, 0, "%s -j%s: exit %d, stderr: %s", what, j, res.status,     \
                     res.err);                                                                \
        cr_assert_str_eq(res.out, expected, "%s -j%s: stdout", what, j);                     \
    } while (0)

/* ------------------------------------------------------------- fib */

Test(fib, fib30_every_call_a_task_at_each_j)
{
    for (size_t k = 0; k < N_JOBS; k++) {
        run_wsrun(&res, "--plugin", "fib", "-j", jobs_list[k], "-o", "n=30", NULL);
        ASSERT_OK_OUTPUT("fib(30) = 832040\n", "fib n=30", jobs_list[k]);
    }
}

Test(fib, fib30_with_cutoff_10_at_each_j)
{
    for (size_t k = 0; k < N_JOBS; k++) {
        run_wsrun(&res, "--plugin", "fib", "-j", jobs_list[k], "-o", "n=30", "-o", "cutoff=10",
                  NULL);
        ASSERT_OK_OUTPUT("fib(30) = 832040\n", "fib n=30 cutoff=10", jobs_list[k]);
    }
}

Test(fib, small_n_and_timing_line)
{
    run_wsrun(&res, "--plugin", "fib", "-j", "2", "-o", "n=1", NULL);
    ASSERT_OK_OUTPUT("fib(1) = 1\n", "fib n=1", "2");
    run_wsrun(&res, "--plugin", "fib", "-j", "2", "-o", "n=20", "-o", "timing=on", NULL);
    cr_assert_eq(res.status, 0, "stderr: %s", res.err);
    /* spawns = calls with n >= 2 = fib(21) - 1 */
    cr_assert(strncmp(res.out, "fib(20) = 6765\ntime_s ", 22) == 0, "stdout: %s", res.out);
    cr_assert_not_null(strstr(res.out, "\nspawns 10945\n"), "stdout: %s", res.out);
}

Test(fib, count_other_than_one_is_refused)
{
    run_wsrun(&res, "--plugin", "fib", "--count", "3", NULL);
    cr_assert_eq(res.status, 2, "exit %d", res.status);
    cr_assert_not_null(strstr(res.err, "--count must be 1"), "stderr: %s", res.err);
}

/* --------------------------------------------------------- nqueens */

Test(nqueens, small_boards_at_each_j)
{
    static const char *const n[] = {"1", "4", "6", "8", "10"};
    static const char *const want[] = {"nqueens(1) = 1\n", "nqueens(4) = 2\n", "nqueens(6) = 4\n",
                                       "nqueens(8) = 92\n", "nqueens(10) = 724\n"};
    char opt[32];
    for (size_t i = 0; i < 5; i++)
        for (size_t k = 0; k < N_JOBS; k++) {
            snprintf(opt, sizeof opt, "n=%s", n[i]);
            run_wsrun(&res, "--plugin", "nqueens", "-j", jobs_list[k], "-o", opt, NULL);
            ASSERT_OK_OUTPUT(want[i], opt, jobs_list[k]);
        }
}

Test(nqueens, twelve_once_with_and_without_cutoff)
{
    run_wsrun(&res, "--plugin", "nqueens", "-j", "2", "-o", "n=12", NULL);
    ASSERT_OK_OUTPUT("nqueens(12) = 14200\n", "nqueens n=12", "2");
    run_wsrun(&res, "--plugin", "nqueens", "-j", "3", "-o", "n=12", "-o", "cutoff=4", NULL);
    ASSERT_OK_OUTPUT("nqueens(12) = 14200\n", "nqueens n=12 cutoff=4", "3");
}

/* ------------------------------------------------------------- uts */

static void sha1_hex(const char *msg, size_t n, char hex[41])
{
    unsigned char d[20];
    uts_sha1 s;
    uts_sha1_init(&s);
    /* In two pieces, to cross the streaming path's block boundary too. */
    uts_sha1_update(&s, msg, n / 3);
    uts_sha1_update(&s, msg + n / 3, n - n / 3);
    uts_sha1_final(&s, d);
    for (int i = 0; i < 20; i++)
        sprintf(hex + 2 * i, "%02x", d[i]);
}

Test(uts, sha1_matches_the_fips_examples)
{
    char hex[41];
    sha1_hex("abc", 3, hex);
    cr_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_hex("", 0, hex);
    cr_assert_str_eq(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha1_hex(two, strlen(two), hex);
    cr_assert_str_eq(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    /* The one-block fast path agrees with the streaming one. */
    unsigned char a[20], b[20];
    uts_sha1 s;
    uts_sha1_init(&s);
    uts_sha1_update(&s, two, 55);
    uts_sha1_final(&s, a);
    uts_sha1_short(two, 55, b);
    cr_assert_eq(memcmp(a, b, 20), 0);
}

Test(uts, tiny_preset_at_each_j)
{
    for (size_t k = 0; k < N_JOBS; k++) {
        run_wsrun(&res, "--plugin", "uts", "-j", jobs_list[k], "-o", "tree=tiny", NULL);
        ASSERT_OK_OUTPUT("uts(tiny) = 4649 nodes\n", "uts tiny", jobs_list[k]);
    }
}

Test(uts, small_presets_geometric_and_binomial)
{
    run_wsrun(&res, "--plugin", "uts", "-j", "2", "-o", "tree=small", NULL);
    ASSERT_OK_OUTPUT("uts(small) = 257042 nodes\n", "uts small", "2");
    run_wsrun(&res, "--plugin", "uts", "-j", "3", "-o", "tree=small-bin", NULL);
    ASSERT_OK_OUTPUT("uts(small-bin) = 247729 nodes\n", "uts small-bin", "3");
}

/* The published size of the reference's T1 tree: proves the node ids and
 * branching rules are the reference's, not merely self-consistent. */
Test(uts, T1_has_the_published_size, .timeout = 60)
{
    run_wsrun(&res, "--plugin", "uts", "-j", "2", "-o", "tree=T1", NULL);
    ASSERT_OK_OUTPUT("uts(T1) = 4130071 nodes\n", "uts T1", "2");
}

Test(uts, changed_parameters_are_reported_as_custom)
{
    run_wsrun(&res, "--plugin", "uts", "-j", "2", "-o", "tree=tiny", "-o", "root-id=43", NULL);
    cr_assert_eq(res.status, 0, "stderr: %s", res.err);
    cr_assert(strncmp(res.out, "uts(custom) = ", 14) == 0, "stdout: %s", res.out);
    cr_assert(strcmp(res.out, "uts(custom) = 4649 nodes\n") != 0, "another seed, same tree?");
}

/* ------------------------------------------------------------ spin */

Test(spin, shapes_keep_their_mean_and_their_imbalance)
{
    spin_params p = {SPIN_HEAVY, 10.0, 1000.0, 100000, 7, 0};
    double first_half = 0, total = 0;
    for (uint64_t i = 0; i < p.count; i++) {
        double c = spin_cost_us(&p, i);
        total += c;
        if (i < p.count / 2)
            first_half += c;
    }
    /* Pareto(1.5) capped at 1000 means: the mean lands within a few % */
    cr_assert(total / (double)p.count > 9.0 && total / (double)p.count < 10.5, "heavy mean %f",
              total / (double)p.count);
    cr_assert(first_half / total > 0.75, "heavy: first half holds %f of the work",
              first_half / total);

    p.shape = SPIN_GIANT;
    p.giant = spin_giant_index(p.seed, p.count);
    cr_assert_lt(p.giant, p.count);
    cr_assert_float_eq(spin_cost_us(&p, p.giant), 10.0 * (double)(p.count - 1), 1e-6);
    cr_assert_float_eq(spin_cost_us(&p, (p.giant + 1) % p.count), 10.0, 1e-9);

    p.shape = SPIN_UNIFORM;
    for (uint64_t i = 0; i < 1000; i++) {
        double c = spin_cost_us(&p, i);
        cr_assert(c >= 5.0 && c <= 15.0, "uniform cost %f at %llu", c, (unsigned long long)i);
    }
}

Test(spin, every_index_runs_once_at_each_j)
{
    static const char *const shapes[] = {"shape=heavy", "shape=giant", "shape=pareto"};
    for (size_t s = 0; s < 3; s++) {
        char first[256] = "";
        for (size_t k = 0; k < N_JOBS; k++) {
            run_wsrun(&res, "--plugin", "spin", "--seed", "5", "--count", "300", "-j",
                      jobs_list[k], "-o", "mean-us=5", "-o", shapes[s], "-o",
                      "iters-per-us=100", NULL);
            cr_assert_eq(res.status, 0, "%s -j%s: stderr: %s", shapes[s], jobs_list[k], res.err);
            cr_assert_not_null(strstr(res.out, "= 300 tasks, "), "stdout: %s", res.out);
            if (k == 0)
                keep_text(first, sizeof first, res.out);
            else
                cr_assert_str_eq(res.out, first, "%s: -j%s differs from -j1", shapes[s],
                                 jobs_list[k]);
        }
    }
}

Test(spin, timing_reports_each_worker_cpu)
{
    run_wsrun(&res, "--plugin", "spin", "--count", "10", "-j", "2", "-o", "timing=on", "-o",
              "iters-per-us=100", NULL);
    cr_assert_eq(res.status, 0, "stderr: %s", res.err);
    cr_assert_not_null(strstr(res.out, "\nworker_cpu_s 0 "), "stdout: %s", res.out);
    cr_assert_not_null(strstr(res.out, "\nworker_cpu_s 1 "), "stdout: %s", res.out);
}

/* ----------------------------------------------------------- empty */

Test(empty, counts_every_index_at_each_j)
{
    for (size_t k = 0; k < N_JOBS; k++) {
        run_wsrun(&res, "--plugin", "empty", "--count", "1000000", "-j", jobs_list[k], NULL);
        ASSERT_OK_OUTPUT("empty = 1000000 indices\n", "empty", jobs_list[k]);
    }
    run_wsrun(&res, "--plugin", "empty", "--count", "0", "-j", "2", NULL);
    ASSERT_OK_OUTPUT("empty = 0 indices\n", "empty count 0", "2");
}

/* -------------------------------------------------------- forktree */

/* Random trees of random shape, with a 10^5-deep chain at index 0: the
 * plugin fails unless every task ran exactly once and every tree's
 * checksum equals a serial walk; the summary must not depend on -j. */
Test(forktree, random_trees_and_deep_chain_exact_at_j1_to_8, .timeout = 120)
{
    for (int seed = 1; seed <= 2; seed++) {
        char first[256] = "", seed_text[16];
        snprintf(seed_text, sizeof seed_text, "%d", seed);
        for (int j = 1; j <= 8; j++) {
            char jobs[8];
            snprintf(jobs, sizeof jobs, "%d", j);
            run_wsrun(&res, "--plugin", "forktree", "--seed", seed_text, "--count", "12", "-j",
                      jobs, "-o", seed == 1 ? "max-children=3" : "max-children=300", NULL);
            cr_assert_eq(res.status, 0, "seed %d -j%d: exit %d, stderr: %s", seed, j, res.status,
                         res.err);
            cr_assert(strncmp(res.out, "forktree = 12 trees, ", 21) == 0, "stdout: %s", res.out);
            if (j == 1)
                keep_text(first, sizeof first, res.out);
            else
                cr_assert_str_eq(res.out, first, "seed %d: -j%d differs from -j1", seed, j);
        }
        /* at least the chain's 10^5 tasks */
        unsigned long long tasks = strtoull(first + 21, NULL, 10);
        cr_assert_gt(tasks, 100000ULL, "stdout: %s", first);
    }
}

Test(forktree, error_deep_in_a_chain_reaches_exit_code_and_message)
{
    run_wsrun(&res, "--plugin", "forktree", "--count", "1", "-j", "2", "-o", "chain=100000", "-o",
              "fail-depth=99999", NULL);
    cr_assert_eq(res.status, 1, "exit %d, stderr: %s", res.status, res.err);
    cr_assert_not_null(strstr(res.err, "index 0"), "stderr: %s", res.err);
    cr_assert_not_null(strstr(res.err, "tree 0: node at depth 99999 failed on purpose"),
                       "stderr: %s", res.err);
    cr_assert_str_eq(res.out, "", "nothing is reported for a failed run");
}

Test(forktree, error_in_a_bushy_tree_at_j8)
{
    run_wsrun(&res, "--plugin", "forktree", "--count", "6", "-j", "8", "-o", "chain=10", "-o",
              "max-children=50", "-o", "fail-depth=3", NULL);
    cr_assert_eq(res.status, 1, "exit %d, stderr: %s", res.status, res.err);
    cr_assert_not_null(strstr(res.err, ": node at depth 3 failed on purpose"), "stderr: %s",
                       res.err);
}
