/*
 * test_plugin_file.c - ws_plugin_open (include/wsrun_embed.h,
 * runtime/embed/plugin_file.c): a built-in plugin opened by name and a
 * fixture opened by path run on a pool with ws_pool_run_plugin, and each
 * refusal (missing name or path, not a shared object, not a plugin, wrong
 * ABI, misnamed, no name) gives the command's one-line message.  A program
 * that loads libwsrun.so RTLD_LOCAL is checked by tests/embed.sh (it needs
 * the shared library, not this binary's static runtime).
 *
 * Outcomes are counts and message texts.  Writes only into a fresh folder
 * under /tmp, which it removes.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_util.h"
#include "wsrun_embed.h"

static char build_dir[PATH_MAX];
static char fixtures[PATH_MAX]; /* $WSRUN_BUILD/test-plugins */
static char plugins[PATH_MAX];  /* $WSRUN_BUILD/plugins: the built-in ones */
static char scratch[PATH_MAX];
static char err[2048];
static ws_pool *pool;

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
    fmt(plugins, sizeof plugins, "%s/plugins", build_dir);
    fmt(scratch, sizeof scratch, "/tmp/wsrun-test-plugin-file.XXXXXX");
    cr_assert_not_null(mkdtemp(scratch));
    setenv("WSRUN_PLUGIN_PATH", plugins, 1);
    pool = ws_pool_create(2, 7);
    cr_assert_not_null(pool);
    memset(err, 'x', sizeof err - 1); /* a message must overwrite it whole */
    err[sizeof err - 1] = '\0';
}

static void teardown(void)
{
    ws_pool_destroy(pool);
    char cmd[PATH_MAX + 16];
    fmt(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", scratch);
}

TestSuite(plugin_file, .init = setup, .fini = teardown);

#define assert_err_has(fragment)                                                            \
    cr_assert(strstr(err, fragment) != NULL, "message '%s' lacks '%s'", err, fragment)

static void assert_one_line(void)
{
    cr_assert(strlen(err) > 0 && !strchr(err, '\n'), "not one line: '%s'", err);
}

Test(plugin_file, builtin_by_name_runs_every_index)
{
    ws_plugin_file *f = ws_plugin_open("empty", err, sizeof err);
    cr_assert_not_null(f, "%s", err);
    cr_assert_str_empty(err);
    const ws_plugin *p = ws_plugin_file_plugin(f);
    cr_assert_not_null(p);
    cr_assert_str_eq(p->name, "empty");
    ws_pool_stats st;
    st.struct_size = sizeof st;
    cr_assert_eq(ws_pool_run_plugin(pool, p, 5000, NULL, 0, &st), WS_POOL_OK, "%s",
                 ws_pool_error(pool));
    cr_assert_eq(st.count, 5000);
    cr_assert_eq(st.done, 5000);
    cr_assert_eq(st.failed, 0);
    /* The same file runs again, and "NAME.so" finds the same plugin. */
    cr_assert_eq(ws_pool_run_plugin(pool, p, 10, NULL, 0, &st), WS_POOL_OK);
    cr_assert_eq(st.done, 10);
    ws_plugin_close(f);
    f = ws_plugin_open("empty.so", err, sizeof err);
    cr_assert_not_null(f, "%s", err);
    cr_assert_str_eq(ws_plugin_file_plugin(f)->name, "empty");
    ws_plugin_close(f);
}

static const ws_plugin *failat;
static int captured_rc;
static ws_pool_stats captured_st;

static void run_failat_at_7(void)
{
    const char *opts[] = {"at=7"};
    captured_rc = ws_pool_run_plugin(pool, failat, 20, opts, 1, &captured_st);
}

Test(plugin_file, fixture_by_path_runs_with_options_and_fails_its_index)
{
    char path[PATH_MAX];
    fmt(path, sizeof path, "%s/failat.so", fixtures);
    ws_plugin_file *f = ws_plugin_open(path, err, sizeof err);
    cr_assert_not_null(f, "%s", err);
    failat = ws_plugin_file_plugin(f);
    cr_assert_str_eq(failat->name, "failat");
    ws_pool_stats st;
    st.struct_size = sizeof st;
    cr_assert_eq(ws_pool_run_plugin(pool, failat, 300, NULL, 0, &st), WS_POOL_OK, "%s",
                 ws_pool_error(pool));
    cr_assert_eq(st.done, 300);
    captured_st.struct_size = sizeof captured_st;
    char *text = test_capture_stderr(run_failat_at_7);
    cr_assert_eq(captured_rc, WS_POOL_FAILED);
    cr_assert(strstr(text, "index 7 failed") != NULL, "stderr: %s", text);
    free(text);
    cr_assert(strstr(ws_pool_error(pool),
                     "failat: index 7 failed: deliberate failure at index 7") != NULL,
              "got: %s", ws_pool_error(pool));
    cr_assert_eq(captured_st.failed, 1);
    /* A bad option is refused by the plugin's own option table. */
    const char *bad[] = {"at=abc"};
    cr_assert_eq(ws_pool_run_plugin(pool, failat, 3, bad, 1, NULL), WS_POOL_REFUSED);
    cr_assert(strstr(ws_pool_error(pool), "'at'") != NULL, "got: %s", ws_pool_error(pool));
    ws_plugin_close(f);
}

Test(plugin_file, missing_name_lists_the_folders_searched)
{
    cr_assert_null(ws_plugin_open("nosuchplugin", err, sizeof err));
    char want[PATH_MAX + 64];
    /* $WSRUN_PLUGIN_PATH first, then beside this static program (a test
     * binary in $WSRUN_BUILD/tests), as wsrun looks beside itself. */
    fmt(want, sizeof want,
        "plugin 'nosuchplugin' not found (looked in: %s, %s/tests/plugins, "
        "%s/tests/../lib/wsrun)",
        plugins, build_dir, build_dir);
    cr_assert_str_eq(err, want);
}

Test(plugin_file, missing_path_says_so)
{
    char path[PATH_MAX];
    fmt(path, sizeof path, "%s/none/x.so", scratch);
    cr_assert_null(ws_plugin_open(path, err, sizeof err));
    char want[PATH_MAX + 64];
    fmt(want, sizeof want, "plugin '%s' not found: No such file or directory", path);
    cr_assert_str_eq(err, want);
}

Test(plugin_file, not_a_shared_object)
{
    char path[PATH_MAX];
    fmt(path, sizeof path, "%s/text.so", scratch);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("not an ELF file\n", f);
    fclose(f);
    cr_assert_null(ws_plugin_open(path, err, sizeof err));
    char want[PATH_MAX + 64];
    fmt(want, sizeof want, "cannot load plugin %s: ", path);
    cr_assert(strncmp(err, want, strlen(want)) == 0, "got '%s'", err);
    assert_one_line();
}

Test(plugin_file, not_a_plugin)
{
    char path[PATH_MAX];
    fmt(path, sizeof path, "%s/nodesc.so", fixtures);
    cr_assert_null(ws_plugin_open(path, err, sizeof err));
    char want[PATH_MAX + 80];
    fmt(want, sizeof want, "%s is not a wsrun plugin: it has no ws_plugin_descriptor symbol",
        path);
    cr_assert_str_eq(err, want);
}

Test(plugin_file, wrong_abi_by_name)
{
    setenv("WSRUN_PLUGIN_PATH", fixtures, 1); /* a name, found on the path */
    cr_assert_null(ws_plugin_open("badabi", err, sizeof err));
    char want[PATH_MAX + 80];
    fmt(want, sizeof want, "plugin %s/badabi.so: plugin ABI major mismatch: expected 1, found 99",
        fixtures);
    cr_assert(strncmp(err, want, strlen(want)) == 0, "got '%s'", err);
    assert_one_line();
}

Test(plugin_file, misnamed_descriptor)
{
    char path[PATH_MAX];
    fmt(path, sizeof path, "%s/misnamed.so", fixtures);
    cr_assert_null(ws_plugin_open(path, err, sizeof err));
    assert_err_has("descriptor name 'othername' does not match the file name (expected "
                   "'misnamed')");
}

Test(plugin_file, no_name_and_small_buffers)
{
    cr_assert_null(ws_plugin_open("", err, sizeof err));
    cr_assert_str_eq(err, "ws_plugin_open: no plugin name or path (empty)");
    cr_assert_null(ws_plugin_open(NULL, err, sizeof err));
    cr_assert_str_eq(err, "ws_plugin_open: no plugin name or path (NULL)");
    /* No buffer, or a tiny one: refused all the same, nothing overrun. */
    cr_assert_null(ws_plugin_open("nosuchplugin", NULL, 0));
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    cr_assert_null(ws_plugin_open("nosuchplugin", tiny, 5));
    cr_assert_str_eq(tiny, "plug");
    cr_assert_eq(tiny[5], 'x');
    cr_assert_null(ws_plugin_file_plugin(NULL));
    ws_plugin_close(NULL);
}
