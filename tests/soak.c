/*
 * soak.c - `make soak`: the deque and scheduler stress checks of stress.h,
 * plus a journaled pool run with random skip bits and failures, repeated
 * with fresh random sizes at -j 2..16 until SOAK_SECONDS (default 600)
 * have passed.  A standalone program (it also builds under TSan); exits
 * non-zero at the first wrong count.  Never relies on timing to pass and
 * never writes outside one temporary file, which it removes.
 */
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "stress.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return ws_mix64(rng_state);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A journaled run: indices with a skip bit never run, every other index
 * runs once, one index may fail (with --keep-going), and the journal records
 * exactly the indices that ran and succeeded. */
static int journaled_run(uint64_t count, unsigned jobs, int with_failure, const char *path)
{
    /* One failure now and then: its line is caught and checked below. */
    count_state s = {calloc(count ? count : 1, 1),
                     count && with_failure ? next_random() % count : UINT64_MAX};
    ws_run run;
    test_run_init(&run, "soak", count, jobs, count_run_one, &s);
    run.policy.keep_going = 1;
    uint64_t words = (count + 63) / 64;
    uint64_t *skip = calloc(words ? words : 1, 8);
    for (uint64_t w = 0; w < words; w++)
        skip[w] = next_random() & next_random(); /* about a quarter of the bits */
    if (count % 64)
        skip[words - 1] &= (UINT64_C(1) << (count % 64)) - 1;
    char err[1024];
    unlink(path);
    run.desc.flags = WS_PLUGIN_RESUMABLE;
    wsrt_journal *j = wsrt_journal_open(path, 0, &run, err, sizeof err);
    if (!j) {
        fprintf(stderr, "soak: %s\n", err);
        return 1;
    }
    wsrt_journal_attach(j, &run);
    run.hooks.skip_bits = skip;
    wsrt_pool_result res;
    /* The expected failure's line goes to a memory stream, not to the
     * terminal, so a passing soak prints nothing alarming.  Only the C
     * stream is swapped (no thread of a run is alive here): sanitizer
     * reports, written to fd 2 directly, still show. */
    char *said = NULL;
    size_t said_len = 0;
    FILE *caught = with_failure ? open_memstream(&said, &said_len) : NULL;
    FILE *terminal = stderr;
    if (caught)
        stderr = caught;
    int bad = test_pool_run(&run, &res) != 0;
    if (caught) {
        stderr = terminal;
        fclose(caught);
        char want[64];
        snprintf(want, sizeof want, "index %llu failed", (unsigned long long)s.fail_at);
        if (res.failed > 1 || (res.failed == 1) != (strstr(said, want) != NULL) ||
            (res.failed == 0 && said_len > 0)) {
            fprintf(stderr, "soak: %llu failed; expected failure index %llu; stderr said: %s\n",
                    (unsigned long long)res.failed, (unsigned long long)s.fail_at, said);
            bad++;
        }
        free(said);
    }
    if (wsrt_journal_close(j, err, sizeof err) != 0) {
        fprintf(stderr, "soak: %s\n", err);
        bad++;
    }
    uint64_t expected_done = 0;
    for (uint64_t i = 0; i < count; i++) {
        int skipped = (int)((skip[i / 64] >> (i % 64)) & 1);
        unsigned hits = atomic_load(&s.hits[i]);
        if (hits != (unsigned)!skipped && bad++ < 5)
            fprintf(stderr, "soak journal -j%u: index %llu ran %u times (skip bit %d)\n", jobs,
                    (unsigned long long)i, hits, skipped);
        expected_done += !skipped && i != s.fail_at;
    }
    /* Resume from what was written: the skip set must now be the old one
     * plus every index that succeeded. */
    run.hooks.skip_bits = NULL;
    j = wsrt_journal_open(path, 1, &run, err, sizeof err);
    if (!j) {
        fprintf(stderr, "soak: resume: %s\n", err);
        bad++;
    } else {
        if (wsrt_journal_done(j) != expected_done || wsrt_journal_ignored(j) != 0) {
            fprintf(stderr, "soak journal -j%u: %llu recorded (%llu ignored), expected %llu\n",
                    jobs, (unsigned long long)wsrt_journal_done(j),
                    (unsigned long long)wsrt_journal_ignored(j), (unsigned long long)expected_done);
            bad++;
        }
        wsrt_journal_close(j, err, sizeof err);
    }
    unlink(path);
    free(res.workers);
    free(skip);
    free(s.hits);
    return bad;
}

int main(void)
{
    const char *env = getenv("SOAK_SECONDS");
    double seconds = env ? atof(env) : 600;
    char path[64];
    snprintf(path, sizeof path, "/tmp/wsrun-soak-journal.%ld", (long)getpid());
    double t0 = now_s(), last_report = t0;
    unsigned long rounds = 0;
    int bad = 0;
    while (!bad && now_s() - t0 < seconds) {
        unsigned jobs = 2 + (unsigned)(rounds % 15); /* 2..16 */
        bad += deque_stress_run(1000 + next_random() % 200000, (int)jobs - 1);
        bad += pool_count_run(next_random() % 50000, jobs);
        tree_state t;
        memset(&t, 0, sizeof t);
        t.seed = next_random();
        t.max_depth = 8 + (unsigned)(next_random() % 7);
        t.api = rounds % 3; /* implicit, _at, mixed */
        wsrt_pool_result res;
        bad += forkjoin_tree_run(&t, 1 + (unsigned)(next_random() % 8), jobs, &res);
        free(res.workers);
        bad += fib_check(12 + (int)(next_random() % 8), 1 + (unsigned)(next_random() % 4), jobs,
                         (int)(rounds % 2));
        bad += journaled_run(next_random() % 20000, jobs, rounds % 16 == 0, path);
        rounds++;
        if (now_s() - last_report >= 30) {
            printf("soak: %lu rounds, %.0f s\n", rounds, now_s() - t0);
            fflush(stdout);
            last_report = now_s();
        }
    }
    printf("soak: %lu rounds at -j 2..16 in %.0f s: %s\n", rounds, now_s() - t0,
           bad ? "FAILED" : "ok");
    return bad != 0;
}
