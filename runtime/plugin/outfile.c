/*
 * outfile.c - ws_outfile_*: write a file that appears under its final name
 * only when the plugin commits, so a crash or a failed task never leaves a
 * half-written file under the final name.
 *
 * Two ways, one promise:
 *  - an anonymous file (O_TMPFILE) in the target's folder, linked into
 *    place at commit: linkat(fd, "", AT_EMPTY_PATH) where the kernel
 *    allows it (CAP_DAC_READ_SEARCH, or since Linux 6.10 the file's
 *    opener), else linkat of /proc/self/fd/N with AT_SYMLINK_FOLLOW, which
 *    needs no capability but walks /proc (docs/design.md, "Costs measured
 *    on the project's VM").
 *    One metadata operation per file, and a crash leaves nothing to clean.
 *    linkat never replaces: when the target exists, the file is linked
 *    under a temporary name and renamed over it (below).
 *  - a named temporary ".<name>.tmp.<pid>.<counter>" beside the target,
 *    renamed into place at commit: when the file system has no O_TMPFILE,
 *    /proc is not mounted, or the test hook asks for it.
 *
 * Must never leave a temporary behind on any failure it sees, and never
 * replace a file by any other means than rename (atomic within one folder,
 * which is why every temporary lives beside its target), and never replace
 * anything but a regular file or a symbolic link.
 *
 * A plugin that wraps out->fd in a FILE* (fdopen) must fclose that FILE
 * itself and set out->fd = -1 before ws_outfile_commit; commit then only
 * checks nothing is left open and links or renames.  For that reason the
 * anonymous file is held by a second descriptor of the runtime's own,
 * named in temp_path as "/proc/self/fd/<n>" -- unless the plugin opened it
 * with WS_OUTFILE_KEEP_FD (it leaves out->fd to commit and abort), on a
 * file system whose close() cannot report an error (tmpfs, ext2/3/4, xfs):
 * then <n> is out->fd itself, linked before it is closed, and a mark after
 * temp_path's NUL says so (KEPT_MARK).
 *
 * On a worker whose context has its folder cache on (dir_cache.h,
 * outfile_folder.c), the anonymous file is created and linked relative to
 * its folder's cached descriptor; the folder is looked up once per worker
 * and run, not twice per file.  A folder deleted meanwhile is looked up
 * again when linking into it fails (ENOENT).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "outfile_folder.h"
#include "wsrun.h"

/* Who removes temporaries when the process must exit at once: wsrun's
 * crash handler registers itself (runtime/cmd/crash.c); libwsrun installs
 * no handler and registers none, so there nothing is told, but in an
 * isolating pool's worker processes (runtime/isolate/isolate_child.c),
 * whose parent removes what a killed child had open. */
static _Atomic(const wsrt_temp_registry *) temp_registry;

void wsrt_outfile_set_temp_registry(const wsrt_temp_registry *registry)
{
    /* release: pairs with the acquire loads below, so a thread that sees
     * the pointer sees the functions it points at. */
    atomic_store_explicit(&temp_registry, registry, memory_order_release);
}

static void track_temp(const char *path)
{
    const wsrt_temp_registry *r = atomic_load_explicit(&temp_registry, memory_order_acquire);
    if (r)
        r->track(path);
}

static void untrack_temp(const char *path)
{
    const wsrt_temp_registry *r = atomic_load_explicit(&temp_registry, memory_order_acquire);
    if (r)
        r->untrack(path);
}

#define PROC_FD "/proc/self/fd/"

/* Distinguishes temporaries of one process; the pid distinguishes
 * processes sharing a folder. */
static _Atomic uint64_t temp_counter;

/* glibc no longer caches getpid (one system call each): cached here, and
 * forgotten in a forked child (pthread_atfork) so the child names its
 * temporaries with its own pid.  Relaxed: every thread that computes it
 * stores the same value. */
static _Atomic long cached_pid;
/* Whether /proc/self/fd can be linked from (probed once). */
static int proc_fd_usable;
/* wsrt_outfile_test_force_named; relaxed: set by a test between runs. */
static _Atomic int force_named;
/* Whether linkat(AT_EMPTY_PATH) may be tried: 1 until the kernel refused
 * it once where the /proc path then worked, or a test turned it off
 * (wsrt_outfile_test_force_proc_link).  Relaxed: a hint every thread may
 * read stale; a stale 1 costs one refused call. */
static _Atomic int empty_path_link = 1;
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

static void forget_pid(void)
{
    atomic_store_explicit(&cached_pid, 0, memory_order_relaxed);
}

static void setup(void)
{
    proc_fd_usable = access(PROC_FD, X_OK) == 0;
    pthread_atfork(NULL, NULL, forget_pid);
}

static long my_pid(void)
{
    long pid = atomic_load_explicit(&cached_pid, memory_order_relaxed);
    if (pid == 0) {
        pid = (long)getpid();
        atomic_store_explicit(&cached_pid, pid, memory_order_relaxed);
    }
    return pid;
}

void wsrt_outfile_test_force_named(int on)
{
    atomic_store_explicit(&force_named, on, memory_order_relaxed);
}

void wsrt_outfile_test_force_proc_link(int on)
{
    atomic_store_explicit(&empty_path_link, !on, memory_order_relaxed);
}

/* strerror is not guaranteed thread-safe; the GNU strerror_r is. */
static const char *reason(int err, char *buf, size_t size)
{
    return strerror_r(err, buf, size);
}

static int is_anonymous(const ws_outfile *out)
{
    return strncmp(out->temp_path, PROC_FD, sizeof PROC_FD - 1) == 0;
}

/* Split path into its folder part (with the slash; may be empty) and base. */
static const char *base_of(const char *path, int *dir_len)
{
    const char *slash = strrchr(path, '/');
    *dir_len = slash ? (int)(slash - path + 1) : 0;
    return slash ? slash + 1 : path;
}

/* The runtime's descriptor of an anonymous file: the <n> of temp_path.
 * By hand, as proc_fd_name writes it: atoi and snprintf were more than half
 * of this file's instructions per noise image. */
static int held_fd(const ws_outfile *out)
{
    int fd = 0;
    for (const char *p = out->temp_path + sizeof PROC_FD - 1; *p >= '0' && *p <= '9'; p++)
        fd = fd * 10 + (*p - '0');
    return fd;
}

/* "/proc/self/fd/<fd>" into buf (room for PROC_FD and 10 digits); its
 * length. */
static size_t proc_fd_name(char *buf, int fd)
{
    char digits[12];
    size_t n = 0;
    do
        digits[n++] = (char)('0' + fd % 10);
    while ((fd /= 10) > 0);
    memcpy(buf, PROC_FD, sizeof PROC_FD - 1);
    size_t len = sizeof PROC_FD - 1;
    while (n > 0)
        buf[len++] = digits[--n];
    buf[len] = '\0';
    return len;
}

/* An anonymous file opened with WS_OUTFILE_KEEP_FD has no second
 * descriptor: held_fd is out->fd.  Marked by this byte right after
 * temp_path's NUL ("/proc/self/fd/<n>" is far shorter than the field);
 * every writer of temp_path below clears or sets it. */
#define KEPT_MARK 'K'

static int is_kept(const ws_outfile *out)
{
    size_t n = strlen(out->temp_path);
    return is_anonymous(out) && out->temp_path[n + 1] == KEPT_MARK;
}

/* Give the anonymous file of `out` the name `target`; linkat's result and
 * errno (EEXIST when the name is taken).  AT_EMPTY_PATH links the
 * runtime's descriptor itself; a kernel that does not allow it answers
 * ENOENT (or EPERM), and when the /proc path then works, that is used
 * from then on. */
static int link_in(const ws_outfile *out, int dir, const char *target)
{
    if (atomic_load_explicit(&empty_path_link, memory_order_relaxed)) {
        if (linkat(held_fd(out), "", dir, target, AT_EMPTY_PATH) == 0)
            return 0;
        if (errno != ENOENT && errno != EPERM)
            return -1;
        if (linkat(AT_FDCWD, out->temp_path, dir, target, AT_SYMLINK_FOLLOW) != 0)
            return -1;
        atomic_store_explicit(&empty_path_link, 0, memory_order_relaxed);
        return 0;
    }
    return linkat(AT_FDCWD, out->temp_path, dir, target, AT_SYMLINK_FOLLOW);
}

/* link_in for a whole path, relative to its cached folder where the
 * context has one; a cached folder that is gone (ENOENT) is dropped and
 * the whole path tried. */
static int link_anonymous(ws_ctx *ctx, const ws_outfile *out, const char *target)
{
    int dir_len, plain_close;
    const char *base = base_of(target, &dir_len);
    int dir = wsrt_outfile_folder(ctx, target, dir_len, &plain_close);
    if (dir == -1)
        return link_in(out, AT_FDCWD, target);
    if (link_in(out, dir, base) == 0)
        return 0;
    if (errno != ENOENT || dir == AT_FDCWD)
        return -1;
    /* the folder was deleted (and maybe made again) since it was cached */
    wsrt_outfile_forget_folder(ctx);
    return link_in(out, AT_FDCWD, target);
}

/* "<folder>.<base>.tmp.<pid>.<n>" into buf; -1 when it does not fit. */
static int temp_name(char *buf, size_t size, const char *path, int dir_len, const char *base)
{
    uint64_t n = atomic_fetch_add_explicit(&temp_counter, 1, memory_order_relaxed);
    int written = snprintf(buf, size, "%.*s.%s.tmp.%ld.%llu", dir_len, path, base, my_pid(),
                           (unsigned long long)n);
    return written < 0 || (size_t)written >= size ? -1 : 0;
}


/* An anonymous file in path's folder: 0 and out->fd, temp_path set; -1
 * (errno kept) when O_TMPFILE cannot be used there. */
static int open_anonymous(ws_ctx *ctx, ws_outfile *out, const char *path, int dir_len,
                          unsigned flags)
{
    int plain_close;
    int dir = wsrt_outfile_folder(ctx, path, dir_len, &plain_close);
    int fd;
    if (dir != -1) {
        /* A cached folder deleted since needs no care here: Linux makes
         * the file in it all the same, and its link (ENOENT) looks the
         * folder up again. */
        fd = openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    } else {
        char whole[4096];
        memcpy(whole, path, (size_t)dir_len);
        memcpy(whole + dir_len, dir_len ? "" : ".", dir_len ? 1 : 2);
        fd = open(whole, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    }
    if (fd < 0)
        return -1;
    int keep = fd;
    if (!(flags & WS_OUTFILE_KEEP_FD) || !plain_close) {
        keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (keep < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
    }
    size_t n = proc_fd_name(out->temp_path, keep);
    out->temp_path[n + 1] = keep == fd ? KEPT_MARK : '\0';
    out->fd = fd;
    return 0;
}

int ws_outfile_open(ws_ctx *ctx, ws_outfile *out, const char *path)
{
    return ws_outfile_open_flags(ctx, out, path, 0);
}

int ws_outfile_open_flags(ws_ctx *ctx, ws_outfile *out, const char *path, unsigned flags)
{
    char why[128];
    out->fd = -1;
    out->temp_path[0] = '\0';
    out->temp_path[1] = '\0';
    out->final_path[0] = '\0';
    if (flags & ~(unsigned)WS_OUTFILE_KEEP_FD)
        return ws_fail(ctx, "ws_outfile_open_flags: unknown flags 0x%x for %s",
                       flags & ~(unsigned)WS_OUTFILE_KEEP_FD, path);
    size_t len = strlen(path);
    if (len == 0)
        return ws_fail(ctx, "cannot write a file with an empty name");
    if (len >= sizeof out->final_path)
        return ws_fail(ctx, "output path too long (%zu bytes): %.80s...", len, path);
    int dir_len;
    const char *base = base_of(path, &dir_len);
    if (!*base)
        return ws_fail(ctx, "output path '%s' names a folder, not a file", path);
    memcpy(out->final_path, path, len + 1);

    pthread_once(&setup_once, setup);
    /* Any failure here (no O_TMPFILE, no such folder, no permission) falls
     * to the named temporary, which names the reason if it fails too. */
    if (proc_fd_usable && !atomic_load_explicit(&force_named, memory_order_relaxed) &&
        open_anonymous(ctx, out, path, dir_len, flags) == 0)
        return WS_OK;

    /* Renaming over a device, pipe or folder would replace it (as root,
     * even /dev/null): only a missing path or a regular file is replaced. */
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
        return ws_fail(ctx, "will not replace %s: it exists and is not a regular file", path);

    /* O_EXCL: never open someone else's file; a name left by a crashed
     * run with the same pid is skipped by taking the next counter. */
    for (int attempt = 0; attempt < 100; attempt++) {
        if (temp_name(out->temp_path, sizeof out->temp_path, path, dir_len, base) != 0) {
            out->temp_path[0] = '\0';
            return ws_fail(ctx, "output path too long for a temporary name: %s", path);
        }
        out->fd = open(out->temp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (out->fd >= 0) {
            track_temp(out->temp_path); /* removed if wsrun must exit at once */
            return WS_OK;
        }
        if (errno != EEXIST)
            break;
    }
    int e = errno;
    out->temp_path[0] = '\0';
    return ws_fail(ctx, "cannot create %s (as temporary %.*s.%s.tmp.*): %s", path, dir_len,
                   path, base, reason(e, why, sizeof why));
}

/* The temporary is gone (renamed, removed, or its last descriptor closed):
 * stop tracking it. */
static void forget_temp(ws_outfile *out)
{
    if (is_anonymous(out))
        close(held_fd(out));
    else
        untrack_temp(out->temp_path);
    out->temp_path[0] = '\0';
    out->temp_path[1] = '\0';
}

/* An anonymous file opened with WS_OUTFILE_KEEP_FD: from here on the
 * runtime holds out->fd as its own (held_fd), as if it had a second
 * descriptor, and forget_temp closes it.  -1 when the plugin broke its
 * promise (out->fd is no longer that descriptor): then the number may
 * name another file by now, so nothing is linked or closed through it. */
static int take_kept(ws_outfile *out)
{
    size_t n = strlen(out->temp_path);
    if (out->fd != held_fd(out)) {
        out->fd = -1;
        out->temp_path[0] = '\0';
        out->temp_path[1] = '\0';
        return -1;
    }
    out->temp_path[n + 1] = '\0';
    out->fd = -1;
    return 0;
}

/* The target exists, so linkat cannot place the anonymous file: link it
 * under a fresh temporary name instead, to be renamed over the target.
 * WS_OK with temp_path the named temporary (tracked). */
static int name_anonymous(ws_ctx *ctx, ws_outfile *out)
{
    char why[128], named[sizeof out->temp_path];
    struct stat st;
    if (lstat(out->final_path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
        forget_temp(out);
        return ws_fail(ctx, "will not replace %s: it exists and is not a regular file",
                       out->final_path);
    }
    int dir_len;
    const char *base = base_of(out->final_path, &dir_len);
    for (int attempt = 0; attempt < 100; attempt++) {
        if (temp_name(named, sizeof named, out->final_path, dir_len, base) != 0) {
            forget_temp(out);
            return ws_fail(ctx, "output path too long for a temporary name: %s", out->final_path);
        }
        if (link_anonymous(ctx, out, named) == 0) {
            forget_temp(out); /* the named link keeps the file */
            memcpy(out->temp_path, named, strlen(named) + 1);
            out->temp_path[strlen(named) + 1] = '\0';
            track_temp(out->temp_path);
            return WS_OK;
        }
        if (errno != EEXIST)
            break;
    }
    int e = errno;
    forget_temp(out);
    return ws_fail(ctx, "cannot create %s (as temporary %.*s.%s.tmp.*): %s", out->final_path,
                   dir_len, out->final_path, base, reason(e, why, sizeof why));
}

int ws_outfile_commit(ws_ctx *ctx, ws_outfile *out)
{
    char why[128];
    if (!out->temp_path[0])
        return ws_fail(ctx, "cannot commit %s: it is not open",
                       out->final_path[0] ? out->final_path : "an output file");
    if (is_kept(out) && take_kept(out) != 0)
        return ws_fail(ctx, "cannot commit %s: its descriptor was closed or replaced although "
                       "it was opened with WS_OUTFILE_KEEP_FD", out->final_path);
    /* Kept: closed after the link below, by forget_temp (close() reports
     * nothing on the file systems that allow it). */
    if (out->fd >= 0) {
        int rc = close(out->fd);
        out->fd = -1;
        if (rc != 0) {
            int e = errno;
            ws_outfile_abort(out);
            return ws_fail(ctx, "cannot write %s: %s", out->final_path,
                           reason(e, why, sizeof why));
        }
    }
    if (is_anonymous(out)) {
        /* linkat fails with EEXIST rather than replace: then the slow way. */
        if (link_anonymous(ctx, out, out->final_path) == 0) {
            forget_temp(out);
            return WS_OK;
        }
        int e = errno;
        if (e != EEXIST) {
            forget_temp(out);
            return ws_fail(ctx, "cannot create %s: %s", out->final_path,
                           reason(e, why, sizeof why));
        }
        if (name_anonymous(ctx, out) != WS_OK)
            return WS_ERR;
    }
    if (rename(out->temp_path, out->final_path) != 0) {
        int e = errno;
        unlink(out->temp_path);
        int rc = ws_fail(ctx, "cannot rename %s to %s: %s", out->temp_path, out->final_path,
                         reason(e, why, sizeof why));
        forget_temp(out);
        return rc;
    }
    forget_temp(out);
    return WS_OK;
}

void ws_outfile_abort(ws_outfile *out)
{
    if (out->temp_path[0] && is_kept(out) && take_kept(out) != 0)
        return; /* the plugin closed it already: the file is gone */
    if (out->fd >= 0)
        close(out->fd);
    out->fd = -1;
    if (out->temp_path[0] && !is_anonymous(out))
        unlink(out->temp_path);
    if (out->temp_path[0])
        forget_temp(out);
}
