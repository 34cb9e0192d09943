/*
 * test_options.c - the plugin option parser (runtime/plugin/options.c): every
 * type, ranges, enum and bool spellings, defaults, "last one wins", the
 * error text for each kind of bad input, the option table checks, the
 * ws_opt_* queries (including their abort on a plugin bug), the help table,
 * and the CLI's whole-number parser.
 *
 * Never depends on a built plugin: tables are declared right here.
 */
#include <criterion/criterion.h>
#include "expect_abort.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "run.h"

static const ws_option table[] = {
    {.name = "n", .type = WS_OPT_INT, .default_value = "10", .min = 1, .max = 100,
     .help = "an int"},
    {.name = "big", .type = WS_OPT_INT, .help = "an int without range or default"},
    {.name = "ratio", .type = WS_OPT_DOUBLE, .default_value = "0.5", .min = 0, .max = 1,
     .help = "a double"},
    {.name = "label", .type = WS_OPT_STRING, .help = "a string"},
    {.name = "fast", .type = WS_OPT_BOOL, .default_value = "no", .help = "a bool"},
    {.name = "mode", .type = WS_OPT_ENUM, .default_value = "rgb", .choices = "gray|rgb|cmyk",
     .help = "an enum"},
    {.name = NULL},
};

static ws_run run;
static wsrt_ctx_base base;
static char err[1024];

static void setup_with(const ws_option *options)
{
    memset(&run, 0, sizeof run);
    run.desc.name = "t";
    run.desc.options = options;
    err[0] = '\0';
    cr_assert_eq(wsrt_opts_setup(&run, err, sizeof err), 0, "setup failed: %s", err);
    wsrt_ctx_base_init(&base, &run, UINT32_MAX);
}

static void setup(void)
{
    setup_with(table);
}

static void teardown(void)
{
    wsrt_opts_free(&run);
}

#define assert_err_has(fragment)                                                            \
    cr_assert(strstr(err, fragment) != NULL, "message '%s' lacks '%s'", err, fragment)

/* Apply one assignment expecting failure; the message must name `key`. */
static void expect_reject(const char *assignment, const char *fragment)
{
    err[0] = '\0';
    cr_assert_eq(wsrt_opts_apply(&run, assignment, err, sizeof err), -1, "'%s' was accepted",
                 assignment);
    cr_assert(strstr(err, fragment) != NULL, "for '%s': message '%s' lacks '%s'", assignment,
              err, fragment);
}

static void apply_ok(const char *assignment)
{
    err[0] = '\0';
    cr_assert_eq(wsrt_opts_apply(&run, assignment, err, sizeof err), 0, "'%s' rejected: %s",
                 assignment, err);
}

#define CTX (&base.ctx)

TestSuite(options, .init = setup, .fini = teardown);

Test(options, defaults_apply_and_nothing_is_given)
{
    cr_assert_eq(run.n_opts, 6);
    cr_assert_eq(ws_opt_int(CTX, "n"), 10);
    cr_assert_eq(ws_opt_int(CTX, "big"), 0, "unset int reads as 0");
    cr_assert_float_eq(ws_opt_double(CTX, "ratio"), 0.5, 1e-12);
    cr_assert_null(ws_opt_str(CTX, "label"), "unset string reads as NULL");
    cr_assert_eq(ws_opt_bool(CTX, "fast"), 0);
    cr_assert_eq(ws_opt_enum(CTX, "mode"), 1);
    for (size_t k = 0; k < run.n_opts; k++)
        cr_assert_eq(ws_opt_given(CTX, run.opts[k].decl->name), 0);
}

Test(options, int_values_and_range_bounds)
{
    apply_ok("n=1");
    cr_assert_eq(ws_opt_int(CTX, "n"), 1);
    apply_ok("n=100");
    cr_assert_eq(ws_opt_int(CTX, "n"), 100);
    apply_ok("n=+7");
    cr_assert_eq(ws_opt_int(CTX, "n"), 7);
    cr_assert_eq(ws_opt_given(CTX, "n"), 1);
    apply_ok("big=-9223372036854775808");
    cr_assert_eq(ws_opt_int(CTX, "big"), INT64_MIN);
    apply_ok("big=9223372036854775807");
    cr_assert_eq(ws_opt_int(CTX, "big"), INT64_MAX);
}

Test(options, int_rejects_junk_and_out_of_range)
{
    expect_reject("n=0", "option 'n': 0 is out of range 1..100");
    expect_reject("n=101", "option 'n': 101 is out of range 1..100");
    expect_reject("n=12x", "option 'n': expected a whole number, got '12x'");
    expect_reject("n= 12", "expected a whole number");
    expect_reject("n=0x10", "expected a whole number, got '0x10'");
    expect_reject("n=1.5", "expected a whole number");
    expect_reject("n=-", "expected a whole number");
    expect_reject("big=9223372036854775808", "does not fit in a 64-bit integer");
    /* A rejected value leaves the previous one in place. */
    cr_assert_eq(ws_opt_int(CTX, "n"), 10);
    cr_assert_eq(ws_opt_given(CTX, "n"), 0);
}

Test(options, double_values_and_errors)
{
    apply_ok("ratio=0.25");
    cr_assert_float_eq(ws_opt_double(CTX, "ratio"), 0.25, 1e-12);
    apply_ok("ratio=1e-3");
    cr_assert_float_eq(ws_opt_double(CTX, "ratio"), 0.001, 1e-15);
    apply_ok("ratio=1");
    cr_assert_float_eq(ws_opt_double(CTX, "ratio"), 1.0, 1e-15);
    expect_reject("ratio=abc", "option 'ratio': expected a number, got 'abc'");
    expect_reject("ratio=0.5x", "expected a number, got '0.5x'");
    expect_reject("ratio=nan", "expected a finite number");
    expect_reject("ratio=inf", "expected a finite number");
    expect_reject("ratio=1.5", "option 'ratio': 1.5 is out of range 0..1");
    expect_reject("ratio=-0.1", "out of range 0..1");
    cr_assert_float_eq(ws_opt_double(CTX, "ratio"), 1.0, 1e-15);
}

Test(options, bool_spellings)
{
    static const char *const yes[] = {"fast=true", "fast=YES", "fast=on", "fast=1"};
    static const char *const no[] = {"fast=false", "fast=No", "fast=OFF", "fast=0"};
    for (int k = 0; k < 4; k++) {
        apply_ok(yes[k]);
        cr_assert_eq(ws_opt_bool(CTX, "fast"), 1, "%s", yes[k]);
        apply_ok(no[k]);
        cr_assert_eq(ws_opt_bool(CTX, "fast"), 0, "%s", no[k]);
    }
    expect_reject("fast=maybe",
                  "option 'fast': expected true/false, yes/no, on/off or 1/0, got 'maybe'");
    expect_reject("fast=2", "got '2'");
}

Test(options, enum_choices)
{
    apply_ok("mode=gray");
    cr_assert_eq(ws_opt_enum(CTX, "mode"), 0);
    apply_ok("mode=cmyk");
    cr_assert_eq(ws_opt_enum(CTX, "mode"), 2);
    expect_reject("mode=RGB", "option 'mode': expected one of gray|rgb|cmyk, got 'RGB'");
    expect_reject("mode=gra", "got 'gra'");
    expect_reject("mode=rgb|cmyk", "expected one of");
    cr_assert_eq(ws_opt_enum(CTX, "mode"), 2);
}

Test(options, strings_keep_text_and_equals_signs)
{
    apply_ok("label=a=b c");
    cr_assert_str_eq(ws_opt_str(CTX, "label"), "a=b c");
    cr_assert_eq(ws_opt_given(CTX, "label"), 1);
}

Test(options, repeated_key_last_wins)
{
    apply_ok("n=5");
    apply_ok("n=6");
    cr_assert_eq(ws_opt_int(CTX, "n"), 6);
    apply_ok("mode=gray");
    apply_ok("mode=cmyk");
    cr_assert_eq(ws_opt_enum(CTX, "mode"), 2);
}

Test(options, malformed_assignments)
{
    expect_reject("n", "-o 'n': expected key=value");
    expect_reject("=5", "missing option name before '='");
    expect_reject("n=", "option 'n': missing value after '='");
    expect_reject("label=", "option 'label': missing value");
}

Test(options, unknown_key_lists_valid_keys)
{
    expect_reject("size=3", "unknown option 'size' for plugin t");
    assert_err_has("(valid: n, big, ratio, label, fast, mode)");
    /* Prefixes and case variants are not guesses wsrun makes. */
    expect_reject("N=3", "unknown option 'N'");
    expect_reject("nn=3", "unknown option 'nn'");
}

Test(options, plugin_without_options)
{
    wsrt_opts_free(&run);
    setup_with(NULL);
    cr_assert_eq(run.n_opts, 0);
    expect_reject("x=1", "unknown option 'x': plugin t takes no options");
}

Test(options, help_table_lists_every_column)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    wsrt_opts_print_table(out, table);
    fclose(out);
    cr_assert(strstr(text, "range/choices") != NULL, "%s", text);
    /* Each row: name, type, default, range or choices, help. */
    const char *rows[][5] = {
        {"n ", "int", "10", "1..100", "an int"},
        {"ratio", "double", "0.5", "0..1", "a double"},
        {"label", "string", "-", "-", "a string"},
        {"fast", "bool", "no", "true|false", "a bool"},
        {"mode", "enum", "rgb", "gray|rgb|cmyk", "an enum"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const char *line = strstr(text, rows[r][0]);
        cr_assert_not_null(line, "no row for %s in:\n%s", rows[r][0], text);
        const char *end = strchr(line, '\n');
        const char *at = line;
        for (int c = 1; c < 5; c++) {
            at = strstr(at, rows[r][c]);
            cr_assert(at && at < end, "row %s lacks '%s' in order:\n%s", rows[r][0],
                      rows[r][c], text);
        }
    }
    free(text);
}

Test(options, help_table_without_options)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    wsrt_opts_print_table(out, NULL);
    fclose(out);
    cr_assert_str_eq(text, "  (no options)\n");
    free(text);
}

/* ------------------------------------------------------ table checks */

static void expect_bad_table(const ws_option *options, const char *fragment)
{
    ws_run r;
    memset(&r, 0, sizeof r);
    r.desc.name = "t";
    r.desc.options = options;
    err[0] = '\0';
    cr_assert_eq(wsrt_opts_setup(&r, err, sizeof err), -1, "bad table accepted");
    cr_assert_null(r.opts, "a refused table leaves no values behind");
    cr_assert(strstr(err, fragment) != NULL, "message '%s' lacks '%s'", err, fragment);
}

Test(option_table, plugin_bugs_are_refused)
{
    const ws_option dup[] = {{.name = "a", .type = WS_OPT_INT},
                             {.name = "a", .type = WS_OPT_BOOL},
                             {.name = NULL}};
    expect_bad_table(dup, "plugin t: option 'a' is declared twice");
    const ws_option no_choices[] = {{.name = "m", .type = WS_OPT_ENUM}, {.name = NULL}};
    expect_bad_table(no_choices, "plugin t: enum option 'm' declares no choices");
    const ws_option bad_default[] = {
        {.name = "k", .type = WS_OPT_INT, .default_value = "0", .min = 1, .max = 9},
        {.name = NULL}};
    expect_bad_table(bad_default, "plugin t: default of option 'k' is invalid: option 'k': 0 "
                                  "is out of range 1..9");
    const ws_option bad_type[] = {{.name = "z", .type = (ws_opt_type)42}, {.name = NULL}};
    expect_bad_table(bad_type, "option 'z' has unknown type 42");
    const ws_option bad_range[] = {{.name = "r", .type = WS_OPT_DOUBLE, .min = 2, .max = 1},
                                   {.name = NULL}};
    expect_bad_table(bad_range, "option 'r' has min 2 above max 1");
    const ws_option bad_name[] = {{.name = "a=b", .type = WS_OPT_STRING}, {.name = NULL}};
    expect_bad_table(bad_name, "invalid name 'a=b'");
}

/* ------------------------------------------- queries on a plugin bug */

static void query_undeclared(void *arg)
{
    (void)arg;
    ws_opt_int(CTX, "nope");
}

static void query_wrong_type(void *arg)
{
    (void)arg;
    ws_opt_str(CTX, "n");
}

Test(options, undeclared_name_aborts)
{
    expect_abort_saying(query_undeclared, NULL,
                        "wsrun: plugin bug: t: ws_opt_int(\"nope\"): the plugin declares no "
                        "such option");
}

Test(options, wrong_type_aborts)
{
    expect_abort_saying(query_wrong_type, NULL,
                        "wsrun: plugin bug: t: ws_opt_str(\"n\"): the option is of type int, "
                        "not string");
}

/* ---------------------------------------------------- wsrt_parse_u64 */

Test(parse_u64, accepts_plain_decimal_up_to_max)
{
    uint64_t v = 99;
    cr_assert_eq(wsrt_parse_u64("0", 10, &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(wsrt_parse_u64("007", 10, &v), 0);
    cr_assert_eq(v, 7);
    cr_assert_eq(wsrt_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
    cr_assert_eq(v, UINT64_MAX);
    cr_assert_eq(wsrt_parse_u64("9223372036854775807", INT64_MAX, &v), 0);
    cr_assert_eq(v, (uint64_t)INT64_MAX);
}

Test(parse_u64, rejects_everything_else)
{
    static const char *const bad[] = {"", "-1", "+1", " 1", "1 ", "1e3", "0x10", "12abc",
                                      "18446744073709551616", "99999999999999999999999"};
    uint64_t v = 5;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        cr_assert_eq(wsrt_parse_u64(bad[k], UINT64_MAX, &v), -1, "'%s' accepted", bad[k]);
    cr_assert_eq(wsrt_parse_u64("9223372036854775808", INT64_MAX, &v), -1, "above max");
    cr_assert_eq(wsrt_parse_u64("11", 10, &v), -1);
    cr_assert_eq(v, 5, "a rejected number leaves the output alone");
}
