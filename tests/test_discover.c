/*
 * test_discover.c - --list-plugins (runtime/cmd/discover.c): every plugin on
 * the search path is listed with the version and description its own
 * descriptor gives, without any callback being called (a fixture whose
 * init aborts is listed), broken files are skipped with a message naming
 * them, a name found twice is marked shadowed, and a folder named twice
 * is listed once.
 *
 * Needs $WSRUN_BUILD (plugins and test-plugins built).  Writes only into a
 * fresh folder under /tmp, which it removes.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "wsrun.h"

static char build[PATH_MAX];
static char scratch[256];
static char listing[1 << 16];

static void setup(void)
{
    const char *b = getenv("WSRUN_BUILD");
    cr_assert_not_null(realpath(b && *b ? b : "build", build), "build folder missing");
    snprintf(scratch, sizeof scratch, "/tmp/wsrun-test-discover.XXXXXX");
    cr_assert_not_null(mkdtemp(scratch));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    cr_assert_eq(system(cmd), 0);
}

/* Run the listing into `listing`; returns what wsrt_discover_list did. */
static int list(const char *search_path, const char *exe)
{
    FILE *out = fmemopen(listing, sizeof listing, "w");
    cr_assert_not_null(out);
    int n = wsrt_discover_list(out, search_path, exe);
    fclose(out);
    return n;
}

/* The line of `listing` that names plugin `name` first ("  name  ..."). */
static const char *line_of(const char *name, char *line, size_t size)
{
    char head[128];
    snprintf(head, sizeof head, "\n  %s ", name);
    const char *p = strstr(listing, head);
    if (!p)
        return NULL;
    p += 1;
    size_t len = strcspn(p, "\n");
    snprintf(line, size, "%.*s", (int)len, p);
    return line;
}

static void read_stderr(char *buf, size_t size)
{
    fflush(stderr);
    FILE *f = cr_get_redirected_stderr();
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
}

Test(discover, lists_build_plugins_with_their_descriptors, .init = setup, .fini = teardown)
{
    char exe[PATH_MAX + 8];
    snprintf(exe, sizeof exe, "%s/wsrun", build);
    int n = list(NULL, exe);
    cr_assert_geq(n, 2, "%s", listing);
    char header[PATH_MAX + 16];
    snprintf(header, sizeof header, "%s/plugins:\n", build);
    cr_assert(strncmp(listing, header, strlen(header)) == 0, "%s", listing);

    /* What noise.so says about itself, read here independently. */
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/plugins/noise.so", build);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(h, "%s", dlerror());
    const ws_plugin *(*get)(void);
    void *sym = dlsym(h, WS_PLUGIN_SYMBOL);
    cr_assert_not_null(sym);
    memcpy(&get, &sym, sizeof get);
    const ws_plugin *d = get();
    char line[1024];
    cr_assert_not_null(line_of("noise", line, sizeof line), "%s", listing);
    const char *v = strstr(line, d->version);
    cr_assert_not_null(v, "%s", line);
    const char *desc = strstr(v, d->description);
    cr_assert_not_null(desc, "%s", line);
    cr_assert_str_eq(desc, d->description, "the description ends the line");
    dlclose(h);
}

Test(discover, descriptors_only_broken_files_skipped, .init = setup, .fini = teardown)
{
    char fixtures[PATH_MAX + 16];
    snprintf(fixtures, sizeof fixtures, "%s/test-plugins", build);
    cr_redirect_stderr();
    int n = list(fixtures, "/nonexistent/bin/wsrun");
    char err[8192];
    read_stderr(err, sizeof err);
    char line[1024];
    cr_assert_not_null(line_of("initabort", line, sizeof line), "%s", listing);
    cr_assert(strstr(line, "0.3") && strstr(line, "test fixture: every callback aborts"), "%s",
              line);
    cr_assert_not_null(line_of("opts", line, sizeof line), "%s", listing);
    cr_assert(strstr(line, " 0.2 ") && strstr(line, "  test fixture: one option of each type"), "%s",
              line);
    cr_assert(strstr(err, "/badabi.so: plugin ABI major mismatch: expected 1, found 99"), "%s",
              err);
    cr_assert(strstr(err, "/nodesc.so is not a wsrun plugin"), "%s", err);
    cr_assert(strstr(err, "wsrun: skipping plugin "), "%s", err);
    cr_assert_null(strstr(listing, "badabi"));
    cr_assert_null(strstr(listing, "nodesc"));
    int lines = 0;
    for (const char *p = listing; (p = strstr(p, "\n  ")); p++)
        lines++;
    cr_assert_eq(n, lines, "returns the number listed");
}

Test(discover, shadowed_names_and_repeated_folders, .init = setup, .fini = teardown)
{
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd, "cp '%s/plugins/hello.so' '%s/'", build, scratch);
    cr_assert_eq(system(cmd), 0);
    char exe[PATH_MAX + 8], search[PATH_MAX * 3];
    snprintf(exe, sizeof exe, "%s/wsrun", build);
    /* scratch first, then the build's own folder again (listed once). */
    snprintf(search, sizeof search, "%s:%s/plugins:%s", scratch, build, scratch);
    list(search, exe);
    char first[300];
    snprintf(first, sizeof first, "%s:\n  hello ", scratch);
    cr_assert_not_null(strstr(listing, first), "%s", listing);
    char shadow[PATH_MAX + 64];
    snprintf(shadow, sizeof shadow, "(shadowed by %s/hello.so)\n", scratch);
    cr_assert_not_null(strstr(listing, shadow), "%s", listing);
    char header[PATH_MAX + 16];
    snprintf(header, sizeof header, "%s/plugins:\n", build);
    const char *h = strstr(listing, header);
    cr_assert_not_null(h);
    cr_assert_null(strstr(h + 1, header), "folder listed twice:\n%s", listing);
}

Test(discover, nothing_found_says_so, .init = setup, .fini = teardown)
{
    cr_redirect_stderr();
    cr_assert_eq(list(scratch, "/nonexistent/bin/wsrun"), 0);
    cr_assert_str_eq(listing, "");
    char err[1024];
    read_stderr(err, sizeof err);
    cr_assert_str_eq(err, "wsrun: no plugins found (set WSRUN_PLUGIN_PATH to a folder of .so "
                          "files)\n");
}
