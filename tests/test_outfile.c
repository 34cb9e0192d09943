/*
 * test_outfile.c - ws_outfile_* (runtime/plugin/outfile.c): a file appears under
 * its final name only on commit, with exactly the bytes written; abort and
 * every failure leave neither the file nor its temporary behind; messages
 * name the path and the system's reason.  Both ways are covered: the
 * anonymous file (O_TMPFILE, linked at commit; the default where the file
 * system has it, as /tmp here) and the named temporary renamed into place
 * (forced by wsrt_outfile_test_force_named, as on a file system without
 * O_TMPFILE).
 *
 * Never writes outside a fresh folder under /tmp, which it removes.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include "outfile.h"
#include "run.h"

static char scratch[256];
static wsrt_ctx_base base;
static ws_run run;

static void setup(void)
{
    snprintf(scratch, sizeof scratch, "/tmp/wsrun-test-outfile.XXXXXX");
    cr_assert_not_null(mkdtemp(scratch));
    memset(&run, 0, sizeof run);
    run.desc.name = "t";
    wsrt_ctx_base_init(&base, &run, 0);
    wsrt_outfile_test_force_named(0);
    wsrt_outfile_test_force_proc_link(0);
}

static void teardown(void)
{
    wsrt_outfile_test_force_named(0);
    wsrt_outfile_test_force_proc_link(0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", scratch);
}

TestSuite(outfile, .init = setup, .fini = teardown);

#define CTX (&base.ctx)

static void path_in(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", scratch, name);
    cr_assert(n > 0 && (size_t)n < size);
}

/* Number of entries in `dir` whose name contains `part`. */
static int count_entries(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot list %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, part))
            n++;
    closedir(d);
    return n;
}

static void write_all(int fd, const char *text)
{
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void assert_file_is(const char *path, const char *want)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s missing", path);
    char got[256] = "";
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    cr_assert_str_eq(got, want, "%s", path);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

Test(outfile, appears_only_on_commit)
{
    wsrt_outfile_test_force_named(1);
    char target[300];
    path_in(target, sizeof target, "a.txt");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_OK, "%s", wsrt_ctx_error(CTX));
    cr_assert_geq(out.fd, 0);
    cr_assert_str_eq(out.final_path, target);
    /* The temporary sits in the same folder: .<name>.tmp.<pid>.<n> */
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s/.a.txt.tmp.%ld.", scratch, (long)getpid());
    cr_assert(strncmp(out.temp_path, prefix, strlen(prefix)) == 0, "temp %s", out.temp_path);
    write_all(out.fd, "payload");
    cr_assert(!exists(target), "final name exists before commit");
    cr_assert(exists(out.temp_path));
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(target, "payload");
    cr_assert_eq(count_entries(scratch, ".tmp."), 0, "temporary left behind");
    cr_assert_eq(out.fd, -1);
}

/* The registry a command's crash handler gives (outfile.h) hears of each
 * named temporary while it exists, so the handler can remove it; nothing
 * calls the crash layer by name any more. */
static char tracked[4096], untracked[4096];
static int n_track, n_untrack;
static void record_track(const char *path)
{
    n_track++;
    snprintf(tracked, sizeof tracked, "%s", path);
}
static void record_untrack(const char *path)
{
    n_untrack++;
    snprintf(untracked, sizeof untracked, "%s", path);
}

Test(outfile, temp_registry_hears_of_each_named_temporary)
{
    static const wsrt_temp_registry registry = {record_track, record_untrack};
    wsrt_outfile_set_temp_registry(&registry);
    wsrt_outfile_test_force_named(1);
    char target[300];
    path_in(target, sizeof target, "r.txt");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_OK, "%s", wsrt_ctx_error(CTX));
    cr_assert_eq(n_track, 1);
    cr_assert_str_eq(tracked, out.temp_path);
    cr_assert_eq(n_untrack, 0, "untracked while the temporary exists");
    char temp[sizeof out.temp_path];
    memcpy(temp, out.temp_path, sizeof temp);
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    cr_assert_eq(n_untrack, 1);
    cr_assert_str_eq(untracked, temp);
    /* None set: nothing is told (libwsrun's case). */
    wsrt_outfile_set_temp_registry(NULL);
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_OK, "%s", wsrt_ctx_error(CTX));
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    cr_assert_eq(n_track, 1);
    cr_assert_eq(n_untrack, 1);
}

Test(outfile, replaces_old_content_atomically)
{
    char target[300];
    path_in(target, sizeof target, "b.txt");
    FILE *f = fopen(target, "w");
    fputs("old", f);
    fclose(f);
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_OK);
    write_all(out.fd, "new content");
    assert_file_is(target, "old");
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK);
    assert_file_is(target, "new content");
}

Test(outfile, abort_leaves_nothing)
{
    char target[300];
    path_in(target, sizeof target, "c.txt");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_OK);
    write_all(out.fd, "half");
    ws_outfile_abort(&out);
    cr_assert(!exists(target));
    cr_assert_eq(count_entries(scratch, "c.txt"), 0);
    ws_outfile_abort(&out); /* twice is harmless */
}

Test(outfile, missing_folder_is_named_with_reason)
{
    char target[300];
    path_in(target, sizeof target, "no/such/dir/d.png");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_ERR);
    cr_assert_eq(out.fd, -1);
    const char *msg = wsrt_ctx_error(CTX);
    cr_assert(strstr(msg, target) != NULL, "'%s' does not name the path", msg);
    cr_assert(strstr(msg, "No such file or directory") != NULL, "'%s' gives no reason", msg);
}

Test(outfile, failed_rename_removes_temporary)
{
    wsrt_outfile_test_force_named(1);
    char target[300], inside[320];
    path_in(target, sizeof target, "taken");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_OK);
    /* the folder appears after the open, so only the rename can fail */
    cr_assert_eq(mkdir(target, 0777), 0);
    snprintf(inside, sizeof inside, "%s/keep", target);
    fclose(fopen(inside, "w")); /* a non-empty folder cannot be replaced */
    write_all(out.fd, "x");
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_ERR);
    const char *msg = wsrt_ctx_error(CTX);
    cr_assert(strstr(msg, "cannot rename") && strstr(msg, target), "message: %s", msg);
    cr_assert(strstr(msg, "Is a directory") || strstr(msg, "not empty"), "reason: %s", msg);
    cr_assert_eq(count_entries(scratch, ".tmp."), 0, "temporary left behind");
}

Test(outfile, never_replaces_a_device_pipe_or_folder)
{
    wsrt_outfile_test_force_named(1);
    char fifo[300], dir[300];
    path_in(fifo, sizeof fifo, "pipe");
    cr_assert_eq(mkfifo(fifo, 0666), 0);
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, fifo), WS_ERR);
    cr_assert(strstr(wsrt_ctx_error(CTX), "not a regular file") && strstr(wsrt_ctx_error(CTX), fifo),
              "%s", wsrt_ctx_error(CTX));
    path_in(dir, sizeof dir, "folder");
    cr_assert_eq(mkdir(dir, 0777), 0);
    cr_assert_eq(ws_outfile_open(CTX, &out, dir), WS_ERR);
    cr_assert(strstr(wsrt_ctx_error(CTX), "not a regular file"), "%s", wsrt_ctx_error(CTX));
    cr_assert_eq(ws_outfile_open(CTX, &out, "/dev/null"), WS_ERR);
    struct stat st;
    cr_assert_eq(stat("/dev/null", &st), 0);
    cr_assert(S_ISCHR(st.st_mode), "/dev/null is still a device");
    cr_assert_eq(count_entries(scratch, ".tmp."), 0);
}

Test(outfile, bad_names)
{
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, ""), WS_ERR);
    cr_assert(strstr(wsrt_ctx_error(CTX), "empty name"));
    char target[300];
    path_in(target, sizeof target, "dir/");
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_ERR);
    cr_assert(strstr(wsrt_ctx_error(CTX), "names a folder"), "%s", wsrt_ctx_error(CTX));
    char *longer = malloc(5000);
    memset(longer, 'x', 4999);
    longer[4999] = '\0';
    cr_assert_eq(ws_outfile_open(CTX, &out, longer), WS_ERR);
    cr_assert(strstr(wsrt_ctx_error(CTX), "too long"), "%s", wsrt_ctx_error(CTX));
    free(longer);
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_ERR, "committing what never opened");
}

Test(outfile, relative_name_uses_current_folder)
{
    wsrt_outfile_test_force_named(1);
    cr_assert_eq(chdir(scratch), 0);
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, "rel.bin"), WS_OK, "%s", wsrt_ctx_error(CTX));
    cr_assert(strncmp(out.temp_path, ".rel.bin.tmp.", 13) == 0, "%s", out.temp_path);
    write_all(out.fd, "r");
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK);
    assert_file_is("rel.bin", "r");
}

Test(outfile, stdio_wrapper_closed_by_plugin)
{
    char target[300];
    path_in(target, sizeof target, "e.txt");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_OK);
    FILE *f = fdopen(out.fd, "wb");
    fputs("via stdio", f);
    cr_assert_eq(fclose(f), 0);
    out.fd = -1; /* the documented hand-over: fclose closed it */
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(target, "via stdio");
}

Test(outfile, concurrent_writers_get_distinct_temporaries)
{
    char target[300];
    path_in(target, sizeof target, "f.txt");
    ws_outfile a, b;
    cr_assert_eq(ws_outfile_open(CTX, &a, target), WS_OK);
    cr_assert_eq(ws_outfile_open(CTX, &b, target), WS_OK);
    cr_assert_str_neq(a.temp_path, b.temp_path);
    write_all(a.fd, "first");
    write_all(b.fd, "second");
    cr_assert_eq(ws_outfile_commit(CTX, &a), WS_OK);
    cr_assert_eq(ws_outfile_commit(CTX, &b), WS_OK);
    assert_file_is(target, "second");
    cr_assert_eq(count_entries(scratch, ".tmp."), 0);
}

/* ---- the anonymous file (O_TMPFILE) ---- */

static int anonymous(const ws_outfile *out)
{
    return strncmp(out->temp_path, "/proc/self/fd/", 14) == 0;
}

Test(outfile, anonymous_appears_only_on_commit_and_leaves_no_name)
{
    cr_assert_eq(chdir(scratch), 0); /* a relative name: the current folder */
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, "anon.txt"), WS_OK, "%s", wsrt_ctx_error(CTX));
    cr_assert(anonymous(&out), "not an anonymous file: %s", out.temp_path);
    write_all(out.fd, "payload");
    cr_assert_eq(count_entries(scratch, ""), 0, "a name exists before commit");
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is("anon.txt", "payload");
    cr_assert_eq(count_entries(scratch, ""), 1, "something beside the target");
    cr_assert_eq(out.fd, -1);
    cr_assert_str_eq(out.temp_path, "");
}

Test(outfile, anonymous_replaces_an_existing_target_by_rename)
{
    char target[300];
    path_in(target, sizeof target, "old.txt");
    FILE *f = fopen(target, "w");
    fputs("old", f);
    fclose(f);
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_OK);
    cr_assert(anonymous(&out));
    write_all(out.fd, "new content");
    assert_file_is(target, "old");
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(target, "new content");
    cr_assert_eq(count_entries(scratch, ".tmp."), 0, "temporary left behind");
    cr_assert_eq(count_entries(scratch, ""), 1);
}

/* Where the kernel refuses linkat(AT_EMPTY_PATH) (no CAP_DAC_READ_SEARCH,
 * Linux before 6.10), the anonymous file is linked through /proc: the
 * same outcome, a new name and a replaced one, with nothing left. */
Test(outfile, anonymous_through_proc_link_appears_and_replaces)
{
    wsrt_outfile_test_force_proc_link(1);
    char fresh[300], old[300];
    path_in(fresh, sizeof fresh, "fresh.txt");
    path_in(old, sizeof old, "old.txt");
    FILE *f = fopen(old, "w");
    fputs("old", f);
    fclose(f);
    ws_outfile a, b;
    cr_assert_eq(ws_outfile_open(CTX, &a, fresh), WS_OK);
    cr_assert_eq(ws_outfile_open(CTX, &b, old), WS_OK);
    cr_assert(anonymous(&a) && anonymous(&b));
    write_all(a.fd, "first");
    write_all(b.fd, "second");
    cr_assert_eq(ws_outfile_commit(CTX, &a), WS_OK, "%s", wsrt_ctx_error(CTX));
    cr_assert_eq(ws_outfile_commit(CTX, &b), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(fresh, "first");
    assert_file_is(old, "second");
    cr_assert_eq(count_entries(scratch, ".tmp."), 0, "temporary left behind");
    cr_assert_eq(count_entries(scratch, ""), 2);
}

Test(outfile, anonymous_survives_the_plugin_closing_its_descriptor)
{
    char target[300];
    path_in(target, sizeof target, "stdio.txt");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_OK);
    cr_assert(anonymous(&out));
    FILE *f = fdopen(out.fd, "wb");
    fputs("via stdio", f);
    cr_assert_eq(fclose(f), 0);
    out.fd = -1;
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(target, "via stdio");
}

Test(outfile, anonymous_abort_leaves_nothing_open)
{
    char target[300];
    path_in(target, sizeof target, "gone.txt");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_OK);
    cr_assert(anonymous(&out));
    int held = atoi(out.temp_path + 14), fd = out.fd;
    write_all(out.fd, "half");
    ws_outfile_abort(&out);
    cr_assert(!exists(target));
    cr_assert_eq(count_entries(scratch, ""), 0);
    cr_assert_eq(fcntl(held, F_GETFD), -1, "the runtime's descriptor is still open");
    cr_assert_eq(fcntl(fd, F_GETFD), -1, "the plugin's descriptor is still open");
    ws_outfile_abort(&out);
}

Test(outfile, anonymous_never_replaces_a_pipe_or_folder)
{
    char fifo[300], dir[300];
    path_in(fifo, sizeof fifo, "pipe");
    path_in(dir, sizeof dir, "folder");
    ws_outfile a, b;
    cr_assert_eq(ws_outfile_open(CTX, &a, fifo), WS_OK);
    cr_assert_eq(ws_outfile_open(CTX, &b, dir), WS_OK);
    cr_assert(anonymous(&a) && anonymous(&b));
    /* they appear after the open, so only the commit can see them */
    cr_assert_eq(mkfifo(fifo, 0666), 0);
    cr_assert_eq(mkdir(dir, 0777), 0);
    write_all(a.fd, "x");
    cr_assert_eq(ws_outfile_commit(CTX, &a), WS_ERR);
    cr_assert(strstr(wsrt_ctx_error(CTX), "not a regular file") && strstr(wsrt_ctx_error(CTX), fifo),
              "%s", wsrt_ctx_error(CTX));
    cr_assert_eq(ws_outfile_commit(CTX, &b), WS_ERR);
    cr_assert(strstr(wsrt_ctx_error(CTX), "not a regular file"), "%s", wsrt_ctx_error(CTX));
    struct stat st;
    cr_assert(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), "the pipe was replaced");
    cr_assert(lstat(dir, &st) == 0 && S_ISDIR(st.st_mode), "the folder was replaced");
    cr_assert_eq(count_entries(scratch, ".tmp."), 0);
    cr_assert_eq(a.fd, -1);
    cr_assert_str_eq(a.temp_path, "");
}

/* The pid in a named temporary is cached: a forked child must use its own. */
Test(outfile, named_temporary_in_a_forked_child_carries_its_pid)
{
    wsrt_outfile_test_force_named(1);
    char target[300];
    path_in(target, sizeof target, "forked.txt");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open(CTX, &out, target), WS_OK); /* caches the parent's pid */
    ws_outfile_abort(&out);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        char prefix[300];
        snprintf(prefix, sizeof prefix, "%s/.forked.txt.tmp.%ld.", scratch, (long)getpid());
        int ok = ws_outfile_open(CTX, &out, target) == WS_OK &&
                 strncmp(out.temp_path, prefix, strlen(prefix)) == 0;
        ws_outfile_abort(&out);
        _exit(ok ? 0 : 1);
    }
    int status;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child named its temporary "
              "with another pid");
}
