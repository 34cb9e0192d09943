/*
 * test_journal.c - the --journal writer and --resume reader
 * (runtime/reports/journal.c, journal_format.c): header round trip, skip bits
 * from records, torn and damaged records ignored (and cut before
 * appending), another command's journal refused with a message naming
 * what differs, a file that is not a journal never overwritten, concurrent
 * writers never interleaving within a record, and the signal-time flush.
 *
 * Never writes outside a fresh folder under /tmp, which it removes.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "options.h"
#include "run.h"

static const ws_option table[] = {
    {.name = "width", .type = WS_OPT_INT, .default_value = "100", .min = 1, .max = 1000},
    {.name = "prefix", .type = WS_OPT_STRING, .default_value = "img_"},
    {.name = "ratio", .type = WS_OPT_DOUBLE, .default_value = "0.5", .min = 0, .max = 1},
    {.name = "mode", .type = WS_OPT_ENUM, .default_value = "gray", .choices = "gray|rgb"},
    {.name = "fast", .type = WS_OPT_BOOL, .default_value = "no"},
    {.name = "label", .type = WS_OPT_STRING},
    {.name = NULL},
};

static char scratch[256];
static char path[300];
static char err[2048];
static ws_run run;

static void make_run(uint64_t count, uint64_t seed, unsigned jobs)
{
    wsrt_opts_free(&run);
    memset(&run, 0, sizeof run);
    run.desc.name = "noise";
    run.desc.options = table;
    run.count = count;
    run.seed = seed;
    run.jobs = jobs;
    cr_assert_eq(wsrt_opts_setup(&run, err, sizeof err), 0, "%s", err);
}

static void apply(const char *assignment)
{
    cr_assert_eq(wsrt_opts_apply(&run, assignment, err, sizeof err), 0, "%s", err);
}

/* The batches' clock, moved by the test alone: nothing here races time. */
static uint64_t fake_now_ns;
static uint64_t fake_clock(void)
{
    return fake_now_ns;
}

static void setup(void)
{
    fake_now_ns = 1000000000u; /* batches age only when a test says so */
    wsrt_journal_set_clock(fake_clock);
    snprintf(scratch, sizeof scratch, "/tmp/wsrun-test-journal.XXXXXX");
    cr_assert_not_null(mkdtemp(scratch));
    snprintf(path, sizeof path, "%s/j", scratch);
    memset(&run, 0, sizeof run);
    make_run(1000, 7, 3);
    err[0] = '\0';
}

static void teardown(void)
{
    wsrt_journal_set_clock(NULL);
    wsrt_opts_free(&run);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", scratch);
}

TestSuite(journal, .init = setup, .fini = teardown);

#define assert_err_has(fragment)                                                            \
    cr_assert(strstr(err, fragment) != NULL, "message '%s' lacks '%s'", err, fragment)

static size_t file_size(const char *p)
{
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    return (size_t)st.st_size;
}

static unsigned char *slurp(const char *p, size_t *len)
{
    *len = file_size(p);
    unsigned char *data = malloc(*len + 1);
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fread(data, 1, *len, f), *len);
    fclose(f);
    return data;
}

static void append_bytes(const char *p, const void *data, size_t len)
{
    FILE *f = fopen(p, "ab");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void write_bytes(const char *p, const void *data, size_t len)
{
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* A record for `index` under `id`, as the writer makes it. */
static void make_record(unsigned char rec[16], uint64_t index, uint64_t id)
{
    uint64_t check = ws_mix64(index ^ id);
    for (int k = 0; k < 8; k++) {
        rec[k] = (unsigned char)(index >> (8 * k));
        rec[8 + k] = (unsigned char)(check >> (8 * k));
    }
}

/* Journal the given indices through the hook, as workers would. */
static void journal_indices(int resume, const uint64_t *indices, size_t n)
{
    wsrt_journal *j = wsrt_journal_open(path, resume, &run, err, sizeof err);
    cr_assert_not_null(j, "open failed: %s", err);
    wsrt_journal_attach(j, &run);
    for (size_t k = 0; k < n; k++)
        run.hooks.index_done(run.hooks.done_arg, (unsigned)(k % run.jobs), indices[k]);
    cr_assert_eq(wsrt_journal_close(j, err, sizeof err), 0, "%s", err);
    memset(&run.hooks, 0, sizeof run.hooks);
}

static int bit(const uint64_t *bits, uint64_t i)
{
    return (int)((bits[i / 64] >> (i % 64)) & 1);
}

Test(journal, header_names_the_command)
{
    apply("width=64");
    apply("label=a b,c%");
    char *text = wsrt_journal_options_text(&run);
    cr_assert_str_eq(text, "width=64,prefix=img_,ratio=0.5,mode=gray,fast=false,label=a%20b%2Cc%25");
    wsrt_journal_key key;
    cr_assert_eq(wsrt_journal_key_build("noise", 1000, 7, text, &key), 0);
    cr_assert(strncmp(key.header, "wsrun-journal 1 id=", 19) == 0, "%s", key.header);
    cr_assert(strstr(key.header, " plugin=noise count=1000 seed=7 options=width=64,") != NULL,
              "%s", key.header);
    cr_assert_eq(key.header[key.header_len - 1], '\n');
    cr_assert_eq(strlen(key.header), key.header_len);
    wsrt_journal_key_free(&key);
    free(text);
}

Test(journal, options_compare_by_value_not_spelling)
{
    apply("width=0100");
    char *a = wsrt_journal_options_text(&run);
    make_run(1000, 7, 3);
    char *b = wsrt_journal_options_text(&run); /* width defaults to 100 */
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
}

Test(journal, key_refuses_text_that_would_break_the_header)
{
    wsrt_journal_key key;
    cr_assert_eq(wsrt_journal_key_build("noise", 1, 0, "a=b c", &key), -1);
    cr_assert_eq(wsrt_journal_key_build("noise", 1, 0, "a=b\n", &key), -1);
}

Test(journal, round_trip_sets_exactly_the_recorded_bits)
{
    const uint64_t done[] = {0, 5, 63, 64, 65, 999, 500, 1, 2, 3};
    journal_indices(0, done, sizeof done / sizeof done[0]);

    wsrt_journal *j = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cr_assert_eq(wsrt_journal_done(j), 10);
    cr_assert_eq(wsrt_journal_ignored(j), 0);
    wsrt_journal_attach(j, &run);
    const uint64_t *bits = run.hooks.skip_bits;
    cr_assert_not_null(bits);
    uint64_t set = 0;
    for (uint64_t i = 0; i < 1000; i++)
        set += (uint64_t)bit(bits, i);
    cr_assert_eq(set, 10);
    for (size_t k = 0; k < 10; k++)
        cr_assert(bit(bits, done[k]), "index %llu not marked", (unsigned long long)done[k]);
    cr_assert_eq(wsrt_journal_close(j, err, sizeof err), 0);
}

Test(journal, file_is_header_plus_whole_records)
{
    const uint64_t done[] = {10, 20, 30, 40, 50};
    journal_indices(0, done, 5);
    size_t len;
    unsigned char *data = slurp(path, &len);
    unsigned char *nl = memchr(data, '\n', len);
    cr_assert_not_null(nl);
    size_t header = (size_t)(nl - data) + 1;
    cr_assert_eq(len, header + 5 * WSRT_JOURNAL_RECORD);
    free(data);
}

Test(journal, resume_without_records_skips_nothing)
{
    journal_indices(0, NULL, 0);
    wsrt_journal *j = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cr_assert_eq(wsrt_journal_done(j), 0);
    wsrt_journal_attach(j, &run);
    cr_assert_null(run.hooks.skip_bits); /* the pool's plain loop then */
    wsrt_journal_close(j, err, sizeof err);
}

Test(journal, torn_last_record_is_ignored_and_cut_before_appending)
{
    const uint64_t first[] = {1, 2, 3};
    journal_indices(0, first, 3);
    size_t whole = file_size(path);
    unsigned char rec[16];
    make_record(rec, 4, 0); /* content does not matter: only 9 bytes land */
    append_bytes(path, rec, 9);

    const uint64_t more[] = {7, 8};
    journal_indices(1, more, 2);
    cr_assert_eq(file_size(path), whole + 2 * WSRT_JOURNAL_RECORD, "torn tail not cut");

    wsrt_journal *j = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cr_assert_eq(wsrt_journal_done(j), 5);
    cr_assert_eq(wsrt_journal_ignored(j), 0);
    wsrt_journal_attach(j, &run);
    cr_assert(bit(run.hooks.skip_bits, 7) && bit(run.hooks.skip_bits, 8));
    cr_assert(!bit(run.hooks.skip_bits, 4));
    wsrt_journal_close(j, err, sizeof err);
}

Test(journal, records_that_fail_their_check_are_ignored)
{
    const uint64_t done[] = {1, 2};
    journal_indices(0, done, 2);
    size_t len;
    unsigned char *data = slurp(path, &len);
    data[len - 1] ^= 0x40; /* damage the check word of index 2 */
    write_bytes(path, data, len);
    free(data);
    unsigned char rec[16];
    make_record(rec, 5000, 0); /* wrong id */
    append_bytes(path, rec, 16);

    wsrt_journal *j = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cr_assert_eq(wsrt_journal_done(j), 1);
    cr_assert_eq(wsrt_journal_ignored(j), 2);
    wsrt_journal_attach(j, &run);
    cr_assert(bit(run.hooks.skip_bits, 1));
    cr_assert(!bit(run.hooks.skip_bits, 2));
    wsrt_journal_close(j, err, sizeof err);
}

Test(journal, scan_ignores_out_of_range_and_repeated_indices)
{
    char *text = wsrt_journal_options_text(&run);
    wsrt_journal_key key;
    cr_assert_eq(wsrt_journal_key_build("noise", 100, 7, text, &key), 0);
    free(text);
    size_t len = key.header_len + 4 * 16 + 3;
    unsigned char *data = calloc(1, len);
    memcpy(data, key.header, key.header_len);
    make_record(data + key.header_len, 99, key.id);
    make_record(data + key.header_len + 16, 100, key.id); /* >= count */
    make_record(data + key.header_len + 32, 99, key.id);  /* repeated */
    make_record(data + key.header_len + 48, 0, key.id);
    uint64_t bits[2] = {0, 0};
    wsrt_journal_scan scan;
    cr_assert_eq(wsrt_journal_scan_data(data, len, &key, bits, &scan, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(scan.done, 2);
    cr_assert_eq(scan.ignored, 2);
    cr_assert_eq(scan.keep_len, key.header_len + 64);
    cr_assert_eq(bits[0], 1);
    cr_assert_eq(bits[1], UINT64_C(1) << 35);
    free(data);
    wsrt_journal_key_free(&key);
}

Test(journal, another_commands_journal_is_refused_naming_the_difference)
{
    journal_indices(0, NULL, 0);
    struct {
        uint64_t count, seed;
        const char *option, *fragment;
    } cases[] = {
        {999, 7, NULL, "--count 1000 there, 999 here"},
        {1000, 8, NULL, "--seed 7 there, 8 here"},
        {1000, 7, "width=64", "-o width=100 there, width=64 here"},
        {1000, 7, "label=x", "option label not there"},
        {1000, 7, "mode=rgb", "-o mode=gray there, mode=rgb here"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        make_run(cases[k].count, cases[k].seed, 3);
        if (cases[k].option)
            apply(cases[k].option);
        err[0] = '\0';
        wsrt_journal *j = wsrt_journal_open(path, 1, &run, err, sizeof err);
        cr_assert_null(j, "case %zu accepted", k);
        assert_err_has("--resume: journal ");
        assert_err_has("was written by another command");
        assert_err_has(cases[k].fragment);
    }
    make_run(1000, 7, 3);
    run.desc.name = "fill";
    wsrt_journal *j = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_null(j);
    assert_err_has("plugin 'noise' there, 'fill' here");
}

/* ws_set_run_key (ABI 1.4): the python plugin's script hash is part of
 * the key, so a journal written under another key is refused. */
Test(journal, run_key_is_part_of_the_key)
{
    snprintf(run.run_key, sizeof run.run_key, "script-xxh64=00ff");
    char *text = wsrt_journal_options_text(&run);
    cr_assert_str_eq(text, "width=100,prefix=img_,ratio=0.5,mode=gray,fast=false,+key=script-xxh64=00ff");
    free(text);
    journal_indices(0, NULL, 0);
    snprintf(run.run_key, sizeof run.run_key, "script-xxh64=00fe");
    wsrt_journal *j = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_null(j, "a journal of another run key was accepted");
    assert_err_has("+key=script-xxh64=00ff there, +key=script-xxh64=00fe here");
    snprintf(run.run_key, sizeof run.run_key, "script-xxh64=00ff");
    j = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_not_null(j, "the same run key was refused: %s", err);
    cr_assert_eq(wsrt_journal_close(j, err, sizeof err), 0, "%s", err);
    run.run_key[0] = '\0';
}

Test(journal, existing_journal_needs_resume)
{
    journal_indices(0, NULL, 0);
    wsrt_journal *j = wsrt_journal_open(path, 0, &run, err, sizeof err);
    cr_assert_null(j);
    assert_err_has(path);
    assert_err_has("already exists; add --resume");
}

Test(journal, a_file_that_is_not_a_journal_is_never_touched)
{
    const char text[] = "\x89PNG\r\n\x1a\n not a journal";
    write_bytes(path, text, sizeof text);
    wsrt_journal *j = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_null(j);
    assert_err_has("is not a wsrun journal");
    size_t len;
    unsigned char *data = slurp(path, &len);
    cr_assert_eq(len, sizeof text);
    cr_assert(memcmp(data, text, len) == 0);
    free(data);
}

Test(journal, other_version_is_refused)
{
    write_bytes(path, "wsrun-journal 9 id=0 plugin=noise\n", 34);
    cr_assert_null(wsrt_journal_open(path, 1, &run, err, sizeof err));
    assert_err_has("format version 9");
}

Test(journal, torn_header_starts_over)
{
    write_bytes(path, "wsrun-jour", 10);
    wsrt_journal *j = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cr_assert_eq(wsrt_journal_done(j), 0);
    wsrt_journal_close(j, err, sizeof err);
    size_t len;
    unsigned char *data = slurp(path, &len);
    cr_assert(len > 20 && memcmp(data, "wsrun-journal 1 ", 16) == 0 && data[len - 1] == '\n');
    free(data);
}

Test(journal, resume_with_no_file_starts_fresh)
{
    wsrt_journal *j = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cr_assert_eq(wsrt_journal_done(j), 0);
    wsrt_journal_close(j, err, sizeof err);
    cr_assert(file_size(path) > 0);
}

Test(journal, two_opens_of_one_journal_conflict)
{
    wsrt_journal *a = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_not_null(a, "%s", err);
    wsrt_journal *b = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_null(b);
    assert_err_has("in use by another wsrun");
    wsrt_journal_close(a, err, sizeof err);
}

Test(journal, count_above_the_limit_is_refused)
{
    make_run(WSRT_JOURNAL_MAX_COUNT + 1, 0, 1);
    cr_assert_null(wsrt_journal_open(path, 0, &run, err, sizeof err));
    assert_err_has("above the journal's limit");
}

Test(journal, not_a_regular_file)
{
    snprintf(path, sizeof path, "%s", scratch);
    cr_assert_null(wsrt_journal_open(path, 1, &run, err, sizeof err));
    assert_err_has(scratch);
}

/* Workers flushing at once: every record lands whole. */
typedef struct writer_arg {
    wsrt_run_hooks *hooks;
    unsigned worker;
    uint64_t first, n;
} writer_arg;

static void *writer_main(void *p)
{
    writer_arg *a = p;
    for (uint64_t i = 0; i < a->n; i++)
        a->hooks->index_done(a->hooks->done_arg, a->worker, a->first + i);
    return NULL;
}

Test(journal, concurrent_workers_never_interleave_records)
{
    enum { WORKERS = 4, PER = 25000 };
    make_run(WORKERS * PER, 1, WORKERS);
    wsrt_journal *j = wsrt_journal_open(path, 0, &run, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    wsrt_journal_attach(j, &run);
    pthread_t t[WORKERS];
    writer_arg args[WORKERS];
    for (unsigned w = 0; w < WORKERS; w++) {
        args[w] = (writer_arg){&run.hooks, w, (uint64_t)w * PER, PER};
        pthread_create(&t[w], NULL, writer_main, &args[w]);
    }
    for (unsigned w = 0; w < WORKERS; w++)
        pthread_join(t[w], NULL);
    cr_assert_eq(wsrt_journal_close(j, err, sizeof err), 0, "%s", err);
    memset(&run.hooks, 0, sizeof run.hooks);

    j = wsrt_journal_open(path, 1, &run, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cr_assert_eq(wsrt_journal_done(j), WORKERS * PER);
    cr_assert_eq(wsrt_journal_ignored(j), 0);
    wsrt_journal_close(j, err, sizeof err);
}

Test(journal, batches_are_written_before_close)
{
    make_run(1000, 7, 1);
    wsrt_journal *j = wsrt_journal_open(path, 0, &run, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    wsrt_journal_attach(j, &run);
    size_t header = file_size(path);
    const uint64_t batch = WSRT_JOURNAL_BATCH;
    for (uint64_t i = 0; i < batch - 1; i++)
        run.hooks.index_done(run.hooks.done_arg, 0, i);
    cr_assert_eq(file_size(path), header, "written before the batch was full");
    run.hooks.index_done(run.hooks.done_arg, 0, batch - 1);
    /* One whole batch: on disk now, not at close. */
    cr_assert_eq(file_size(path), header + batch * WSRT_JOURNAL_RECORD);
    cr_assert_eq(wsrt_journal_written(j), batch);
    run.hooks.index_done(run.hooks.done_arg, 0, batch);
    cr_assert_eq(file_size(path), header + batch * WSRT_JOURNAL_RECORD);
    fake_now_ns += (WSRT_JOURNAL_BATCH_MS - 1) * 1000000ull;
    run.hooks.index_done(run.hooks.done_arg, 0, batch + 1); /* not yet aged */
    cr_assert_eq(file_size(path), header + batch * WSRT_JOURNAL_RECORD);
    fake_now_ns += 1000000ull;
    run.hooks.index_done(run.hooks.done_arg, 0, batch + 2); /* the batch has aged */
    cr_assert_eq(file_size(path), header + (batch + 3) * WSRT_JOURNAL_RECORD);
    wsrt_journal_close(j, err, sizeof err);
}

Test(journal, signal_flush_writes_buffered_records)
{
    make_run(1000, 7, 2);
    wsrt_journal *j = wsrt_journal_open(path, 0, &run, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    wsrt_journal_attach(j, &run);
    size_t header = file_size(path);
    run.hooks.index_done(run.hooks.done_arg, 0, 11);
    run.hooks.index_done(run.hooks.done_arg, 1, 12);
    run.hooks.index_done(run.hooks.done_arg, 1, 13);
    cr_assert_eq(file_size(path), header, "a partial batch was written early");
    wsrt_journal_flush_from_signal();
    cr_assert_eq(file_size(path), header + 3 * WSRT_JOURNAL_RECORD);
    /* What a process killed right here leaves: the three indices. */
    size_t len;
    unsigned char *data = slurp(path, &len);
    char *text = wsrt_journal_options_text(&run);
    wsrt_journal_key key;
    cr_assert_eq(wsrt_journal_key_build("noise", 1000, 7, text, &key), 0);
    uint64_t bits[16] = {0};
    wsrt_journal_scan scan;
    cr_assert_eq(wsrt_journal_scan_data(data, len, &key, bits, &scan, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(scan.done, 3);
    cr_assert_eq(bits[0], (UINT64_C(1) << 11) | (UINT64_C(1) << 12) | (UINT64_C(1) << 13));
    wsrt_journal_key_free(&key);
    free(text);
    free(data);
    wsrt_journal_close(j, err, sizeof err);
}
