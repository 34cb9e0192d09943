/*
 * work_util.h - one test's scratch folder, shared by dist_util.h and
 * readfill_util.h: a fresh /tmp/<prefix>XXXXXX folder, the absolute build
 * folder ($WSRUN_BUILD, else build), paths inside the scratch folder, and
 * its removal after the test.
 *
 * Never removes a folder it did not make (the name must still carry the
 * prefix work_setup was given).
 */
#ifndef WSTEST_WORK_UTIL_H
#define WSTEST_WORK_UTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char work_dir[PATH_MAX];   /* this test's folder */
static char work_build[PATH_MAX]; /* absolute $WSRUN_BUILD */
static const char *work_prefix;   /* what work_dir starts with, e.g. "/tmp/test_dist." */

static inline void work_setup(const char *prefix)
{
    const char *build = getenv("WSRUN_BUILD");
    const char *rel = build && *build ? build : "build";
    cr_assert_not_null(realpath(rel, work_build), "cannot find build folder %s (set WSRUN_BUILD)",
                       rel);
    work_prefix = prefix;
    snprintf(work_dir, sizeof work_dir, "%sXXXXXX", prefix);
    cr_assert_not_null(mkdtemp(work_dir), "mkdtemp: %s", strerror(errno));
}

static inline void work_teardown(void)
{
    if (!work_prefix || strncmp(work_dir, work_prefix, strlen(work_prefix)) != 0)
        return;
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", work_dir);
}

/* work_dir/name, in a rotating set of static buffers. */
static inline const char *work_path(const char *fmt, ...)
{
    static char bufs[8][PATH_MAX * 2];
    static int next;
    char name[PATH_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    char *out = bufs[next++ % 8];
    snprintf(out, PATH_MAX * 2, "%s/%s", work_dir, name);
    return out;
}

#endif
