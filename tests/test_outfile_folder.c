/*
 * test_outfile_folder.c - the two savings of issue 27 in ws_outfile
 * (runtime/plugin/outfile.c): a context with its folder cache on
 * (runtime/base/dir_cache.h, as every pool worker has) creates and links
 * files relative to one kept descriptor of their folder, and
 * ws_outfile_open_flags(WS_OUTFILE_KEEP_FD) holds no second descriptor.
 * The promise stays the one of test_outfile.c: a file appears only on
 * commit with its bytes, abort and failures leave nothing, and no
 * descriptor is left open or closed that the runtime does not own.
 *
 * Never writes outside two fresh folders, one under /tmp (ext2/3/4 here)
 * and one under /dev/shm (tmpfs), which it removes.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dir_cache.h"
#include "outfile.h"
#include "run.h"

static char scratch[256];
static wsrt_ctx_base base;
static ws_run run;

static void setup(void)
{
    /* /dev/shm where there is one (tmpfs, as the benchmarks), else /tmp */
    const char *root = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(scratch, sizeof scratch, "%s/wsrun-test-outfile-folder.XXXXXX", root);
    cr_assert_not_null(mkdtemp(scratch));
    memset(&run, 0, sizeof run);
    run.desc.name = "t";
    wsrt_ctx_base_init(&base, &run, 0);
    base.dirs.on = 1; /* as wsrt_worker_run turns it on */
    wsrt_outfile_test_force_named(0);
    wsrt_outfile_test_force_proc_link(0);
}

static void teardown(void)
{
    wsrt_dir_cache_drop(&base.dirs);
    wsrt_outfile_test_force_proc_link(0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", scratch);
}

TestSuite(outfile_folder, .init = setup, .fini = teardown);

#define CTX (&base.ctx)

static void path_in(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", scratch, name);
    cr_assert(n > 0 && (size_t)n < size);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot list %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static int open_fds(void)
{
    return count_entries("/proc/self/fd") - 1; /* opendir's own */
}

static void write_all(int fd, const char *text)
{
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void assert_file_is(const char *path, const char *want)
{
    char got[256] = {0};
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s missing", path);
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    cr_assert_eq(n, strlen(want), "%s: %zu bytes, want %zu", path, n, strlen(want));
    cr_assert_str_eq(got, want);
}

static int held(const ws_outfile *out)
{
    cr_assert(strncmp(out->temp_path, "/proc/self/fd/", 14) == 0, "not anonymous: %s",
              out->temp_path);
    return atoi(out->temp_path + 14);
}

Test(outfile_folder, kept_descriptor_is_the_only_one_and_commit_closes_it)
{
    char a[300], b[300];
    path_in(a, sizeof a, "a.txt");
    path_in(b, sizeof b, "b.txt");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open_flags(CTX, &out, a, WS_OUTFILE_KEEP_FD), WS_OK, "%s",
                 wsrt_ctx_error(CTX));
    cr_assert_geq(base.dirs.fd, 0, "the folder was not kept open");
    int before = open_fds(); /* the folder and this file's descriptor */
    cr_assert_eq(held(&out), out.fd, "a second descriptor was made");
    int fd = out.fd;
    write_all(out.fd, "first");
    cr_assert_eq(count_entries(scratch), 0, "a name exists before commit");
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(a, "first");
    cr_assert_eq(fcntl(fd, F_GETFD), -1, "commit left the descriptor open");
    cr_assert_eq(out.fd, -1);
    cr_assert_str_eq(out.temp_path, "");
    cr_assert_eq(open_fds(), before - 1);

    /* the next file in the same folder opens nothing new but itself */
    int folder = base.dirs.fd;
    cr_assert_eq(ws_outfile_open_flags(CTX, &out, b, WS_OUTFILE_KEEP_FD), WS_OK);
    cr_assert_eq(base.dirs.fd, folder);
    cr_assert_eq(open_fds(), before);
    write_all(out.fd, "second");
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(b, "second");
    cr_assert_eq(count_entries(scratch), 2);

    wsrt_dir_cache_drop(&base.dirs);
    cr_assert_eq(fcntl(folder, F_GETFD), -1, "dropping the cache left the folder open");
    cr_assert_eq(open_fds(), before - 2);
}

Test(outfile_folder, kept_abort_leaves_nothing_open)
{
    char target[300];
    path_in(target, sizeof target, "gone.txt");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open_flags(CTX, &out, target, WS_OUTFILE_KEEP_FD), WS_OK);
    int fd = out.fd;
    cr_assert_eq(held(&out), fd);
    write_all(fd, "half");
    ws_outfile_abort(&out);
    cr_assert_eq(count_entries(scratch), 0);
    cr_assert_eq(fcntl(fd, F_GETFD), -1, "abort left the descriptor open");
    cr_assert_eq(out.fd, -1);
    ws_outfile_abort(&out); /* twice: nothing more is closed */
}

/* A plugin that closes a kept descriptor anyway: commit refuses, names
 * the file, and never closes or links whatever now has that number. */
Test(outfile_folder, broken_keep_promise_is_refused_and_touches_no_other_file)
{
    char target[300];
    path_in(target, sizeof target, "broken.txt");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open_flags(CTX, &out, target, WS_OUTFILE_KEEP_FD), WS_OK);
    int fd = out.fd;
    write_all(fd, "lost");
    cr_assert_eq(close(fd), 0);
    out.fd = -1;
    int other = open("/dev/null", O_WRONLY | O_CLOEXEC);
    cr_assert_eq(other, fd, "the number was not reused (test set-up)");
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_ERR);
    cr_assert(strstr(wsrt_ctx_error(CTX), target) &&
                  strstr(wsrt_ctx_error(CTX), "WS_OUTFILE_KEEP_FD"),
              "%s", wsrt_ctx_error(CTX));
    cr_assert_neq(fcntl(other, F_GETFD), -1, "commit closed another file's descriptor");
    cr_assert_eq(count_entries(scratch), 0, "something was linked");
    ws_outfile_abort(&out);
    cr_assert_neq(fcntl(other, F_GETFD), -1, "abort closed another file's descriptor");
    close(other);
}

Test(outfile_folder, unknown_flags_are_refused)
{
    char target[300];
    path_in(target, sizeof target, "x.txt");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open_flags(CTX, &out, target, 0x6u), WS_ERR);
    cr_assert(strstr(wsrt_ctx_error(CTX), "unknown flags 0x6") && strstr(wsrt_ctx_error(CTX), target),
              "%s", wsrt_ctx_error(CTX));
    cr_assert_eq(out.fd, -1);
    cr_assert_eq(count_entries(scratch), 0);
}

/* Where close() may report a lost write (a file system with a flush
 * operation: NFS, FUSE), the kept flag still gets a second descriptor, so
 * the file is closed, and checked, before it is linked; the plugin may
 * then even fclose its own. */
Test(outfile_folder, keep_is_ignored_where_close_can_fail)
{
    char a[300], b[300];
    path_in(a, sizeof a, "a.txt");
    path_in(b, sizeof b, "b.txt");
    ws_outfile out;
    cr_assert_eq(ws_outfile_open_flags(CTX, &out, a, WS_OUTFILE_KEEP_FD), WS_OK);
    ws_outfile_abort(&out);
    cr_assert_eq(base.dirs.plain_close, 1, "the scratch folder's file system is not known "
                 "to close plainly (test set-up)");
    base.dirs.plain_close = 0; /* as if it were NFS */
    cr_assert_eq(ws_outfile_open_flags(CTX, &out, b, WS_OUTFILE_KEEP_FD), WS_OK);
    int second = held(&out);
    cr_assert_neq(second, out.fd, "no second descriptor where close can fail");
    FILE *f = fdopen(out.fd, "wb");
    fputs("via stdio", f);
    cr_assert_eq(fclose(f), 0);
    out.fd = -1;
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(b, "via stdio");
    cr_assert_eq(fcntl(second, F_GETFD), -1);
}

/* A cached folder deleted and made again during the run: the next file
 * goes to the new folder (ENOENT drops the cache), at open and at commit. */
Test(outfile_folder, folder_made_again_is_looked_up_again)
{
    char dir[300], a[300], b[300], c[300], cmd[700];
    path_in(dir, sizeof dir, "out");
    path_in(a, sizeof a, "out/a.txt");
    path_in(b, sizeof b, "out/b.txt");
    path_in(c, sizeof c, "out/c.txt");
    cr_assert_eq(mkdir(dir, 0777), 0);
    ws_outfile out;
    cr_assert_eq(ws_outfile_open_flags(CTX, &out, a, WS_OUTFILE_KEEP_FD), WS_OK);
    write_all(out.fd, "a");
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir '%s'", dir, dir);
    cr_assert_eq(system(cmd), 0);

    cr_assert_eq(ws_outfile_open_flags(CTX, &out, b, WS_OUTFILE_KEEP_FD), WS_OK, "%s",
                 wsrt_ctx_error(CTX));
    write_all(out.fd, "b");
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(b, "b");

    /* deleted and made again between open and commit */
    cr_assert_eq(ws_outfile_open(CTX, &out, c), WS_OK);
    write_all(out.fd, "c");
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(c, "c");
    cr_assert_eq(count_entries(dir), 1);
}

/* Two files open at once in two folders: each is linked in its own,
 * whichever folder the cache holds at commit. */
Test(outfile_folder, files_in_two_folders_at_once)
{
    char d1[300], d2[300], a[300], b[300];
    path_in(d1, sizeof d1, "one");
    path_in(d2, sizeof d2, "two");
    cr_assert_eq(mkdir(d1, 0777), 0);
    cr_assert_eq(mkdir(d2, 0777), 0);
    path_in(a, sizeof a, "one/x.txt");
    path_in(b, sizeof b, "two/x.txt");
    ws_outfile oa, ob;
    cr_assert_eq(ws_outfile_open_flags(CTX, &oa, a, WS_OUTFILE_KEEP_FD), WS_OK);
    cr_assert_eq(ws_outfile_open_flags(CTX, &ob, b, WS_OUTFILE_KEEP_FD), WS_OK);
    write_all(oa.fd, "in one");
    write_all(ob.fd, "in two");
    cr_assert_eq(ws_outfile_commit(CTX, &oa), WS_OK, "%s", wsrt_ctx_error(CTX));
    cr_assert_eq(ws_outfile_commit(CTX, &ob), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(a, "in one");
    assert_file_is(b, "in two");
    cr_assert_eq(count_entries(d1), 1);
    cr_assert_eq(count_entries(d2), 1);
}

/* An existing target (linkat cannot replace) through the cached folder:
 * linked under a temporary name and renamed over, nothing left. */
Test(outfile_folder, kept_file_replaces_an_existing_target)
{
    char target[300];
    path_in(target, sizeof target, "old.txt");
    FILE *f = fopen(target, "w");
    fputs("old", f);
    fclose(f);
    ws_outfile out;
    cr_assert_eq(ws_outfile_open_flags(CTX, &out, target, WS_OUTFILE_KEEP_FD), WS_OK);
    int fd = out.fd;
    write_all(fd, "new");
    assert_file_is(target, "old");
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(target, "new");
    cr_assert_eq(count_entries(scratch), 1, "a temporary was left");
    cr_assert_eq(fcntl(fd, F_GETFD), -1);
}

/* A bare name is created in the current folder, kept open like any other. */
Test(outfile_folder, bare_name_uses_the_current_folder)
{
    char here[4096];
    cr_assert_not_null(getcwd(here, sizeof here));
    cr_assert_eq(chdir(scratch), 0);
    ws_outfile out;
    int rc = ws_outfile_open_flags(CTX, &out, "bare.txt", WS_OUTFILE_KEEP_FD);
    if (rc == WS_OK) {
        write_all(out.fd, "bare");
        rc = ws_outfile_commit(CTX, &out);
    }
    cr_assert_eq(chdir(here), 0);
    cr_assert_eq(rc, WS_OK, "%s", wsrt_ctx_error(CTX));
    char path[300];
    path_in(path, sizeof path, "bare.txt");
    assert_file_is(path, "bare");
}

/* A context without the cache (the main thread's, a library caller's)
 * keeps nothing open between calls. */
Test(outfile_folder, no_cache_keeps_no_folder_open)
{
    base.dirs.on = 0;
    char target[300];
    path_in(target, sizeof target, "plain.txt");
    int before = open_fds();
    ws_outfile out;
    cr_assert_eq(ws_outfile_open_flags(CTX, &out, target, WS_OUTFILE_KEEP_FD), WS_OK);
    write_all(out.fd, "plain");
    cr_assert_eq(ws_outfile_commit(CTX, &out), WS_OK, "%s", wsrt_ctx_error(CTX));
    assert_file_is(target, "plain");
    cr_assert_eq(open_fds(), before);
    cr_assert_eq(base.dirs.fd, -1);
}
