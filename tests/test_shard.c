/*
 * test_shard.c - dividing the index space (runtime/reports/shard.c): --shard K/N
 * parsing and ranges, the guided block sequence behind wsrun-mpi, and the
 * real wsrun with --shard: parts 0..N-1 write exactly the files of one
 * full run, byte for byte, none twice.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dist_util.h"
#include "shard.h"

/* ------------------------------------------------------------- parsing */

Test(shard, parse_accepts_k_of_n)
{
    static const struct {
        const char *text;
        uint64_t k, n;
    } ok[] = {{"0/1", 0, 1}, {"3/8", 3, 8}, {"7/8", 7, 8}, {"0/18446744073709551615", 0, UINT64_MAX}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t k = 99, n = 99;
        char why[256] = "";
        cr_assert_eq(wsrt_shard_parse(ok[i].text, &k, &n, why, sizeof why), 0, "%s: %s",
                     ok[i].text, why);
        cr_assert_eq(k, ok[i].k, "%s", ok[i].text);
        cr_assert_eq(n, ok[i].n, "%s", ok[i].text);
    }
}

Test(shard, parse_refuses_with_a_reason)
{
    static const struct {
        const char *text, *reason;
    } bad[] = {
        {"", "expected K/N"},        {"3", "expected K/N"},       {"3/", "expected K/N"},
        {"/3", "expected K/N"},      {"a/4", "expected K/N"},     {"-1/4", "expected K/N"},
        {" 1/4", "expected K/N"},    {"1/4x", "expected K/N"},    {"1/2/3", "expected K/N"},
        {"18446744073709551616/1", "expected K/N"},
        {"4/4", "K must be less than N"}, {"9/4", "K must be less than N"},
        {"0/0", "N must be at least 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t k, n;
        char why[256] = "";
        cr_assert_eq(wsrt_shard_parse(bad[i].text, &k, &n, why, sizeof why), -1, "'%s' accepted",
                     bad[i].text);
        cr_assert(strstr(why, "--shard") && strstr(why, bad[i].reason),
                  "'%s': message '%s' lacks '%s'", bad[i].text, why, bad[i].reason);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i].text);
        cr_assert(strstr(why, quoted), "'%s': message '%s' does not quote it", bad[i].text, why);
    }
}

/* -------------------------------------------------------------- ranges */

Test(shard, ranges_tile_the_count_exactly)
{
    for (uint64_t count = 0; count <= 64; count++) {
        for (uint64_t n = 1; n <= count + 6; n++) {
            uint64_t next = 0, smallest = UINT64_MAX, largest = 0;
            for (uint64_t k = 0; k < n; k++) {
                uint64_t b, e;
                wsrt_shard_range(count, k, n, &b, &e);
                cr_assert_eq(b, next, "count %llu shard %llu/%llu starts at %llu, not %llu",
                             (unsigned long long)count, (unsigned long long)k,
                             (unsigned long long)n, (unsigned long long)b,
                             (unsigned long long)next);
                cr_assert_geq(e, b);
                next = e;
                smallest = e - b < smallest ? e - b : smallest;
                largest = e - b > largest ? e - b : largest;
            }
            cr_assert_eq(next, count, "count %llu over %llu shards ends at %llu",
                         (unsigned long long)count, (unsigned long long)n,
                         (unsigned long long)next);
            cr_assert_leq(largest - smallest, 1, "count %llu over %llu shards: sizes %llu..%llu",
                          (unsigned long long)count, (unsigned long long)n,
                          (unsigned long long)smallest, (unsigned long long)largest);
        }
    }
}

Test(shard, ranges_do_not_overflow_near_the_top)
{
    const uint64_t counts[] = {UINT64_MAX, UINT64_MAX - 1, (uint64_t)INT64_MAX};
    const uint64_t ns[] = {1, 2, 3, 7, 1000003, UINT64_MAX};
    for (size_t c = 0; c < 3; c++)
        for (size_t j = 0; j < 6; j++) {
            uint64_t n = ns[j], b, e, prev_end;
            wsrt_shard_range(counts[c], 0, n, &b, &prev_end);
            cr_assert_eq(b, 0);
            /* spot-check neighbours across the whole span */
            for (uint64_t k = 1; k < n && k < 50; k++) {
                wsrt_shard_range(counts[c], k, n, &b, &e);
                cr_assert_eq(b, prev_end);
                prev_end = e;
            }
            wsrt_shard_range(counts[c], n - 1, n, &b, &e);
            cr_assert_eq(e, counts[c], "last of %llu shards ends at %llu", (unsigned long long)n,
                         (unsigned long long)e);
            cr_assert_leq(b, e);
        }
}

/* -------------------------------------------------------------- guided */

static void check_guided(uint64_t begin, uint64_t end, uint64_t divisor, uint64_t min_block)
{
    wsrt_guided g;
    wsrt_guided_init(&g, begin, end, divisor, min_block);
    uint64_t next = begin, prev_size = UINT64_MAX, t = 0, b, e;
    while (wsrt_guided_block(&g, t, &b, &e)) {
        cr_assert_eq(b, next, "[%llu,%llu)/%llu: block %llu starts at %llu, not %llu",
                     (unsigned long long)begin, (unsigned long long)end,
                     (unsigned long long)divisor, (unsigned long long)t, (unsigned long long)b,
                     (unsigned long long)next);
        cr_assert_gt(e, b, "empty block %llu", (unsigned long long)t);
        uint64_t size = e - b;
        if (e != end) {
            cr_assert_leq(size, prev_size, "block %llu grew", (unsigned long long)t);
            cr_assert_geq(size, min_block, "block %llu below the minimum", (unsigned long long)t);
            uint64_t remaining = end - b;
            uint64_t want = remaining / divisor + (remaining % divisor != 0);
            cr_assert_eq(size, want > min_block ? want : min_block, "block %llu size",
                         (unsigned long long)t);
        }
        prev_size = size;
        next = e;
        t++;
    }
    cr_assert_eq(next, end > begin ? end : begin, "blocks end at %llu, not %llu",
                 (unsigned long long)next, (unsigned long long)end);
    cr_assert_eq(wsrt_guided_count(begin, end, divisor, min_block), t, "block count");
    /* any later ticket is past the end too */
    cr_assert_eq(wsrt_guided_block(&g, t + 5, &b, &e), 0);
}

Test(shard, guided_blocks_cover_exactly_and_shrink)
{
    const uint64_t sizes[] = {0, 1, 2, 7, 100, 1000, 20000, 1000003};
    const uint64_t divisors[] = {1, 2, 3, 8, 64, 4096};
    const uint64_t mins[] = {1, 4, 100};
    for (size_t i = 0; i < 8; i++)
        for (size_t j = 0; j < 6; j++)
            for (size_t k = 0; k < 3; k++)
                check_guided(12345, 12345 + sizes[i], divisors[j], mins[k]);
}

Test(shard, guided_answers_any_ticket_order_the_same)
{
    uint64_t n = wsrt_guided_count(0, 50000, 12, 1);
    cr_assert_gt(n, 12);
    uint64_t *bs = calloc(n, sizeof *bs), *es = calloc(n, sizeof *es);
    wsrt_guided seq, any;
    wsrt_guided_init(&seq, 0, 50000, 12, 1);
    for (uint64_t t = 0; t < n; t++)
        cr_assert(wsrt_guided_block(&seq, t, &bs[t], &es[t]));
    wsrt_guided_init(&any, 0, 50000, 12, 1);
    uint64_t x = 7;
    for (int i = 0; i < 2000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        uint64_t t = (x >> 33) % n, b, e;
        cr_assert(wsrt_guided_block(&any, t, &b, &e));
        cr_assert(b == bs[t] && e == es[t], "ticket %llu out of order gave [%llu,%llu)",
                  (unsigned long long)t, (unsigned long long)b, (unsigned long long)e);
    }
    free(bs);
    free(es);
}

Test(shard, guided_is_cheap_for_huge_ranges)
{
    /* 2^62 indices over 64 ranks x 64 workers: a few hundred thousand
     * shrinking blocks, then a tail of one-index blocks jumped over. */
    uint64_t end = (uint64_t)1 << 62, divisor = 2 * 64 * 64;
    uint64_t n = wsrt_guided_count(0, end, divisor, 1);
    cr_assert_lt(n, (uint64_t)1 << 20, "%llu blocks", (unsigned long long)n);
    wsrt_guided g;
    wsrt_guided_init(&g, 0, end, divisor, 1);
    uint64_t b, e;
    cr_assert(wsrt_guided_block(&g, n - 1, &b, &e));
    cr_assert_eq(e, end);
    cr_assert_eq(wsrt_guided_block(&g, n, &b, &e), 0);
    cr_assert(wsrt_guided_block(&g, 0, &b, &e));
    cr_assert_eq(b, 0);
    cr_assert_eq(e, end / divisor);
}

/* ----------------------------------------------------- wsrun --shard */

static du_result res; /* large: one per test process */

static void run_noise_parts(uint64_t count, unsigned n)
{
    du_mkdir("full");
    du_run(&res, "'%s/wsrun' --plugin noise --count %llu --seed 5 -j2 -o prefix=full/image_",
           work_build, (unsigned long long)count);
    cr_assert_eq(res.status, 0, "full run: exit %d: %s", res.status, res.err);
    const char *parts[65];
    char names[64][16];
    for (unsigned k = 0; k < n; k++) {
        snprintf(names[k], sizeof names[k], "part%u", k);
        du_mkdir(names[k]);
        du_run(&res, "'%s/wsrun' --plugin noise --count %llu --seed 5 -j2 --shard %u/%u "
                     "-o prefix=%s/image_",
               work_build, (unsigned long long)count, k, n, names[k]);
        cr_assert_eq(res.status, 0, "shard %u/%u: exit %d: %s", k, n, res.status, res.err);
        parts[k] = names[k];
    }
    parts[n] = NULL;
    cr_assert_eq(du_assert_partition("full", parts), count);
}

Test(shard_cli, parts_make_exactly_the_full_run, .init = du_setup, .fini = work_teardown)
{
    run_noise_parts(101, 4);
}

Test(shard_cli, more_parts_than_indices, .init = du_setup, .fini = work_teardown)
{
    run_noise_parts(5, 8);
}

Test(shard_cli, bad_shard_is_a_usage_error, .init = du_setup, .fini = work_teardown)
{
    static const char *const bad[] = {"4/4", "1/0", "x", "1/"};
    for (size_t i = 0; i < 4; i++) {
        du_run(&res, "'%s/wsrun' --plugin noise --count 10 --shard '%s' -o prefix=x_", work_build,
               bad[i]);
        cr_assert_eq(res.status, 2, "--shard %s: exit %d", bad[i], res.status);
        cr_assert(strstr(res.err, "wsrun: --shard: ") && strstr(res.err, bad[i]),
                  "--shard %s: stderr: %s", bad[i], res.err);
        size_t n;
        char **left = du_list(".", &n);
        du_free_list(left, n);
        cr_assert_eq(n, 0, "--shard %s wrote files", bad[i]);
    }
}

Test(shard_cli, shard_with_journal_resumes_only_its_part, .init = du_setup, .fini = work_teardown)
{
    du_mkdir("out");
    du_run(&res, "'%s/wsrun' --plugin noise --count 60 --shard 1/3 -o prefix=out/image_ "
                 "--journal j1 --stats",
           work_build);
    cr_assert_eq(res.status, 0, "%s", res.err);
    cr_assert(strstr(res.err, "20 indices (20 ok, 0 failed)"), "stats: %s", res.err);
    du_run(&res, "'%s/wsrun' --plugin noise --count 60 --shard 1/3 -o prefix=out/image_ "
                 "--journal j1 --resume --stats",
           work_build);
    cr_assert_eq(res.status, 0, "resume of a finished shard: exit %d: %s", res.status, res.err);
    cr_assert(strstr(res.err, "20 indices (0 ok, 0 failed)"), "stats: %s", res.err);
    size_t n;
    char **names = du_list("out", &n);
    cr_assert_eq(n, 20);
    cr_assert_str_eq(names[0], "image_20.png");
    cr_assert_str_eq(names[n - 1], "image_39.png");
    du_free_list(names, n);
}

Test(shard_cli, plugin_that_combines_all_indices_is_refused, .init = du_setup,
     .fini = work_teardown)
{
    /* failat's finish reports on all indices together: it has no
     * WS_PLUGIN_RESUMABLE, so one part of it alone would be incomplete. */
    du_run(&res, "'%s/wsrun' --plugin '%s/test-plugins/failat.so' --count 10 --shard 0/2",
           work_build, work_build);
    cr_assert_eq(res.status, 2, "exit %d: %s", res.status, res.err);
    cr_assert(strstr(res.err, "wsrun: --shard: plugin failat cannot run in parts"), "%s",
              res.err);
    cr_assert_null(strstr(res.err, "failat: finish"), "init ran: %s", res.err);
}
