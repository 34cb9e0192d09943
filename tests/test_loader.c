/*
 * test_loader.c - the plugin loader (runtime/plugin/loader.c): each bad descriptor
 * is refused with its own message (fixtures in tests/plugins/, built into
 * $WSRUN_BUILD/test-plugins), good ones are copied whole, and the lookup
 * order is $WSRUN_PLUGIN_PATH, then plugins/ beside the executable, then
 * ../lib/wsrun, never the current directory; "x" and "x.so" both work.
 *
 * Never writes outside a fresh folder under /tmp, which it removes.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "run.h"

static char fixtures[PATH_MAX]; /* $WSRUN_BUILD/test-plugins, absolute */
static char build_dir[PATH_MAX];
static char scratch[PATH_MAX];  /* this test's temporary folder */
static char err[2048];

/* snprintf that fails the test instead of truncating a path. */
static void fmt(char *buf, size_t size, const char *format, ...) WS_PRINTF(3, 4);
static void fmt(char *buf, size_t size, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(buf, size, format, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < size, "path too long for the test buffer");
}

static void setup(void)
{
    const char *b = getenv("WSRUN_BUILD");
    cr_assert_not_null(realpath(b ? b : "build", build_dir),
                       "build folder %s missing (set WSRUN_BUILD)", b ? b : "build");
    fmt(fixtures, sizeof fixtures, "%s/test-plugins", build_dir);
    fmt(scratch, sizeof scratch, "/tmp/wsrun-test-loader.XXXXXX");
    cr_assert_not_null(mkdtemp(scratch));
    err[0] = '\0';
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    fmt(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", scratch);
}

TestSuite(loader, .init = setup, .fini = teardown);
TestSuite(lookup, .init = setup, .fini = teardown);

#define assert_err_has(fragment)                                                            \
    cr_assert(strstr(err, fragment) != NULL, "message '%s' lacks '%s'", err, fragment)

/* Open fixture `name`.so expecting a refusal whose message has `fragment`. */
static void expect_refused(const char *name, const char *fragment)
{
    char path[PATH_MAX];
    fmt(path, sizeof path, "%s/%s.so", fixtures, name);
    ws_run run;
    memset(&run, 0, sizeof run);
    err[0] = '\0';
    cr_assert_eq(wsrt_loader_open(&run, path, err, sizeof err), -1, "%s was accepted", name);
    cr_assert_null(run.dl_handle, "a refused plugin stays closed");
    cr_assert_null(run.plugin);
    assert_err_has(fragment);
    assert_err_has(path); /* every refusal names the file */
}

Test(loader, no_descriptor_symbol)
{
    expect_refused("nodesc", "is not a wsrun plugin: it has no ws_plugin_descriptor symbol");
}

Test(loader, abi_major_mismatch_says_expected_and_found)
{
    expect_refused("badabi", "plugin ABI major mismatch: expected 1, found 99");
}

Test(loader, struct_size_below_v1)
{
    char want[128];
    fmt(want, sizeof want, "below the ABI 1 minimum of %u", (unsigned)WS_PLUGIN_V1_SIZE);
    expect_refused("shortdesc", want);
}

Test(loader, null_name)
{
    expect_refused("noname", "descriptor has no name");
}

Test(loader, null_run_one)
{
    expect_refused("norunone", "descriptor has no run_one callback");
}

Test(loader, name_must_match_file)
{
    expect_refused("misnamed",
                   "descriptor name 'othername' does not match the file name (expected "
                   "'misnamed')");
}

Test(loader, dlopen_failure_carries_dlerror)
{
    char path[PATH_MAX];
    fmt(path, sizeof path, "%s/garbage.so", scratch);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("this is not an ELF file\n", f);
    fclose(f);
    ws_run run;
    memset(&run, 0, sizeof run);
    cr_assert_eq(wsrt_loader_open(&run, path, err, sizeof err), -1);
    assert_err_has("cannot load plugin");
    /* dlerror's own words, e.g. "invalid ELF header" or "file too short". */
    cr_assert(strstr(err, "ELF") || strstr(err, "too short"), "no dlerror text in '%s'", err);
}

Test(loader, good_plugin_is_copied_whole)
{
    char path[PATH_MAX];
    fmt(path, sizeof path, "%s/failat.so", fixtures);
    ws_run run;
    memset(&run, 0, sizeof run);
    cr_assert_eq(wsrt_loader_open(&run, path, err, sizeof err), 0, "%s", err);
    cr_assert_eq(run.plugin, &run.desc, "run->plugin points at the copy");
    cr_assert_str_eq(run.desc.name, "failat");
    cr_assert_str_eq(run.desc.version, "0.1");
    cr_assert_eq(run.desc.struct_size, sizeof(ws_plugin));
    cr_assert_not_null(run.desc.init);
    cr_assert_not_null(run.desc.run_one);
    cr_assert_not_null(run.desc.finish);
    cr_assert_str_eq(run.desc.options[0].name, "at");
    cr_assert_str_eq(run.plugin_path, path);
    cr_assert_not_null(run.dl_handle);
    wsrt_loader_close(&run);
    cr_assert_null(run.dl_handle);
    cr_assert_null(run.plugin_path);
}

Test(loader, newer_minor_with_longer_descriptor_loads)
{
    char path[PATH_MAX];
    fmt(path, sizeof path, "%s/newer.so", fixtures);
    ws_run run;
    memset(&run, 0, sizeof run);
    cr_assert_eq(wsrt_loader_open(&run, path, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(run.desc.version, "9.9");
    cr_assert_eq(run.desc.abi_minor, WS_ABI_MINOR + 1);
    cr_assert_gt(run.desc.struct_size, sizeof(ws_plugin));
    cr_assert_eq(run.desc.run_one(NULL, 0, NULL), WS_OK);
    wsrt_loader_close(&run);
}

static int run_nothing(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    (void)index;
    (void)ctx;
    return WS_OK;
}

/* wsrt_loader_check on descriptors built here: cases no fixture file needs. */
Test(loader, check_descriptor_fields)
{
    ws_plugin d;
    memset(&d, 0, sizeof d);
    d.abi_major = WS_ABI_MAJOR;
    d.struct_size = WS_PLUGIN_V1_SIZE;
    d.name = "thing";
    d.run_one = run_nothing;
    cr_assert_eq(wsrt_loader_check(&d, "/x/thing.so", err, sizeof err), 0, "%s", err);
    cr_assert_eq(wsrt_loader_check(&d, "thing", err, sizeof err), 0, "no .so suffix: %s", err);
    cr_assert_eq(wsrt_loader_check(NULL, "/x/thing.so", err, sizeof err), -1);
    assert_err_has("ws_plugin_descriptor() returned NULL");
    d.flags = 8; /* 0x1, 0x2, 0x4 are known (ABI 1.4: issue 24) */
    cr_assert_eq(wsrt_loader_check(&d, "/x/thing.so", err, sizeof err), -1);
    assert_err_has("descriptor flags 0x8 are unknown");
    d.flags = 0;
    d.struct_size = WS_PLUGIN_V1_SIZE - 1;
    cr_assert_eq(wsrt_loader_check(&d, "/x/thing.so", err, sizeof err), -1);
    assert_err_has("struct_size");
    d.struct_size = WS_PLUGIN_V1_SIZE;
    cr_assert_eq(wsrt_loader_check(&d, "/x/thing.so.1", err, sizeof err), -1);
    assert_err_has("expected 'thing.so.1'");
}

/* ------------------------------------------------------------ lookup */

/* Copy fixture `name`.so into folder `dir` (created) under scratch. */
static void plant(const char *dir, const char *name, char *dir_path, size_t size)
{
    fmt(dir_path, size, "%s/%s", scratch, dir);
    char cmd[3 * PATH_MAX];
    fmt(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s/%s.so' '%s/'", dir_path, fixtures, name,
             dir_path);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static const char *find(const char *spec, const char *search, const char *exe)
{
    static char path[PATH_MAX];
    err[0] = '\0';
    path[0] = '\0';
    if (wsrt_loader_find(spec, search, exe, path, sizeof path, err, sizeof err) != 0)
        return NULL;
    return path;
}

Test(lookup, name_with_or_without_so_suffix)
{
    const char *p = find("failat", fixtures, "/nowhere/wsrun");
    cr_assert_not_null(p, "%s", err);
    char want[PATH_MAX];
    fmt(want, sizeof want, "%s/failat.so", fixtures);
    cr_assert_str_eq(p, want);
    p = find("failat.so", fixtures, "/nowhere/wsrun");
    cr_assert_not_null(p, "%s", err);
    cr_assert_str_eq(p, want);
}

Test(lookup, search_path_in_order_skipping_empty_entries)
{
    char a[PATH_MAX], b[PATH_MAX], search[3 * PATH_MAX], want[PATH_MAX + 16];
    plant("a", "failat", a, sizeof a);
    plant("b", "failat", b, sizeof b);
    fmt(search, sizeof search, "::%s:%s", a, b);
    fmt(want, sizeof want, "%s/failat.so", a);
    cr_assert_str_eq(find("failat", search, "/nowhere/wsrun"), want);
    fmt(search, sizeof search, "%s:%s:", b, a);
    fmt(want, sizeof want, "%s/failat.so", b);
    cr_assert_str_eq(find("failat", search, "/nowhere/wsrun"), want);
}

Test(lookup, search_path_before_exe_plugins_before_lib)
{
    /* A fake install: <scratch>/bin/wsrun, <scratch>/bin/plugins and
     * <scratch>/lib/wsrun, plus a search-path folder; each holds failat. */
    char env_dir[PATH_MAX], beside[PATH_MAX], lib[PATH_MAX], exe[PATH_MAX + 16];
    char want[PATH_MAX + 32];
    plant("env", "failat", env_dir, sizeof env_dir);
    plant("bin/plugins", "failat", beside, sizeof beside);
    plant("lib/wsrun", "failat", lib, sizeof lib);
    fmt(exe, sizeof exe, "%s/bin/wsrun", scratch);

    fmt(want, sizeof want, "%s/failat.so", env_dir);
    cr_assert_str_eq(find("failat", env_dir, exe), want);

    fmt(want, sizeof want, "%s/bin/plugins/failat.so", scratch);
    cr_assert_str_eq(find("failat", NULL, exe), want);
    cr_assert_str_eq(find("failat", "", exe), want);

    cr_assert_eq(unlink(want), 0);
    fmt(want, sizeof want, "%s/bin/../lib/wsrun/failat.so", scratch);
    cr_assert_str_eq(find("failat", NULL, exe), want);
}

Test(lookup, not_found_lists_every_folder_tried)
{
    char exe[PATH_MAX + 16], want[4 * PATH_MAX];
    fmt(exe, sizeof exe, "%s/bin/wsrun", scratch);
    cr_assert_null(find("nosuch", ":/p1::/p2:", exe));
    fmt(want, sizeof want,
             "plugin 'nosuch' not found (looked in: /p1, /p2, %s/bin/plugins, "
             "%s/bin/../lib/wsrun)",
             scratch, scratch);
    cr_assert_str_eq(err, want);
}

Test(lookup, current_directory_is_never_searched)
{
    char here[PATH_MAX];
    plant("cwd", "failat", here, sizeof here);
    cr_assert_eq(chdir(here), 0);
    cr_assert_null(find("failat", NULL, "/nowhere/bin/wsrun"), "found %s in the cwd", err);
    assert_err_has("plugin 'failat' not found");
    /* ...unless the user writes a path. */
    cr_assert_str_eq(find("./failat.so", NULL, "/nowhere/bin/wsrun"), "./failat.so");
}

Test(lookup, explicit_paths)
{
    cr_assert_null(find("./nosuch.so", NULL, NULL));
    cr_assert_str_eq(err, "plugin './nosuch.so' not found: No such file or directory");
    cr_assert_null(find(scratch, NULL, NULL), "a folder is no plugin");
    assert_err_has("is not a regular file");
}

Test(lookup, a_folder_named_like_the_plugin_is_skipped)
{
    char a[PATH_MAX], b[PATH_MAX], search[3 * PATH_MAX], want[PATH_MAX + 16];
    fmt(a, sizeof a, "%s/a/failat.so", scratch);
    cr_assert_eq(system((fmt(search, sizeof search, "mkdir -p '%s'", a), search)), 0);
    fmt(a, sizeof a, "%s/a", scratch);
    plant("b", "failat", b, sizeof b);
    fmt(search, sizeof search, "%s:%s", a, b);
    fmt(want, sizeof want, "%s/failat.so", b);
    cr_assert_str_eq(find("failat", search, "/nowhere/wsrun"), want);
}

Test(lookup, load_uses_environment_and_real_executable)
{
    ws_run run;
    memset(&run, 0, sizeof run);
    setenv("WSRUN_PLUGIN_PATH", fixtures, 1);
    cr_assert_eq(wsrt_loader_load(&run, "opts", err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(run.desc.name, "opts");
    wsrt_loader_close(&run);
    unsetenv("WSRUN_PLUGIN_PATH");
    cr_assert_eq(wsrt_loader_load(&run, "opts", err, sizeof err), -1);
    /* This test binary lives in $WSRUN_BUILD/tests, so /proc/self/exe
     * leads to $WSRUN_BUILD/tests/plugins. */
    char want[PATH_MAX + 64];
    fmt(want, sizeof want, "(looked in: %s/tests/plugins, %s/tests/../lib/wsrun)",
             build_dir, build_dir);
    assert_err_has(want);
}
