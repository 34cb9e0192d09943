/*
 * outfile.c - ws_outfile_*: write a file under a temporary name in the
 * target's own folder (".<name>.tmp.<pid>.<counter>") and rename it into
 * place only when the plugin commits, so a crash or a failed task never
 * leaves a half-written file under the final name.
 *
 * Must never leave the temporary file behind on any failure it sees, and
 * never overwrite a file by any other means than rename (which is atomic
 * within one folder, which is why the temporary lives beside the target).
 *
 * A plugin that wraps out->fd in a FILE* (fdopen) must fclose that FILE
 * itself and set out->fd = -1 before ws_outfile_commit; commit then only
 * checks nothing is left open and renames.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"
#include "wsrun.h"

/* Distinguishes temporaries of one process; the pid distinguishes
 * processes sharing a folder. */
static _Atomic uint64_t temp_counter;

/* strerror is not guaranteed thread-safe; the GNU strerror_r is. */
static const char *reason(int err, char *buf, size_t size)
{
    return strerror_r(err, buf, size);
}

int ws_outfile_open(ws_ctx *ctx, ws_outfile *out, const char *path)
{
    char why[128];
    out->fd = -1;
    out->temp_path[0] = '\0';
    out->final_path[0] = '\0';
    size_t len = strlen(path);
    if (len == 0)
        return ws_fail(ctx, "cannot write a file with an empty name");
    if (len >= sizeof out->final_path)
        return ws_fail(ctx, "output path too long (%zu bytes): %.80s...", len, path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!*base)
        return ws_fail(ctx, "output path '%s' names a folder, not a file", path);
    int dir_len = slash ? (int)(slash - path + 1) : 0; /* with the slash */
    memcpy(out->final_path, path, len + 1);

    /* Renaming over a device, pipe or folder would replace it (as root,
     * even /dev/null): only a missing path or a regular file is replaced. */
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
        return ws_fail(ctx, "will not replace %s: it exists and is not a regular file", path);

    /* O_EXCL: never open someone else's file; a name left by a crashed
     * run with the same pid is skipped by taking the next counter. */
    for (int attempt = 0; attempt < 100; attempt++) {
        uint64_t n = atomic_fetch_add_explicit(&temp_counter, 1, memory_order_relaxed);
        int written = snprintf(out->temp_path, sizeof out->temp_path, "%.*s.%s.tmp.%ld.%llu",
                               dir_len, path, base, (long)getpid(), (unsigned long long)n);
        if (written < 0 || (size_t)written >= sizeof out->temp_path) {
            out->temp_path[0] = '\0';
            return ws_fail(ctx, "output path too long for a temporary name: %s", path);
        }
        out->fd = open(out->temp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (out->fd >= 0) {
            ws_crash_track_temp(out->temp_path); /* removed if wsrun must exit at once */
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

/* The temporary is gone (renamed or removed): stop tracking it. */
static void forget_temp(ws_outfile *out)
{
    ws_crash_untrack_temp(out->temp_path);
    out->temp_path[0] = '\0';
}

int ws_outfile_commit(ws_ctx *ctx, ws_outfile *out)
{
    char why[128];
    if (!out->temp_path[0])
        return ws_fail(ctx, "cannot commit %s: it is not open",
                       out->final_path[0] ? out->final_path : "an output file");
    if (out->fd >= 0) {
        int rc = close(out->fd);
        out->fd = -1;
        if (rc != 0) {
            int e = errno;
            unlink(out->temp_path);
            forget_temp(out);
            return ws_fail(ctx, "cannot write %s: %s", out->final_path,
                           reason(e, why, sizeof why));
        }
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
    if (out->fd >= 0)
        close(out->fd);
    out->fd = -1;
    if (out->temp_path[0])
        unlink(out->temp_path);
    forget_temp(out);
}
