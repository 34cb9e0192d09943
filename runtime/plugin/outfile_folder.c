/*
 * outfile_folder.c - the output folder a worker's context keeps open for
 * ws_outfile (outfile_folder.h): opened on the first file in it, kept
 * while the worker's files go there, replaced when they go elsewhere.
 * Must never return a descriptor of a folder other than the one the path
 * text named when it was opened, never open anything on a context whose
 * cache is off (the main thread's, a library caller's: nothing would
 * close it), and never fail its caller: -1 means "use the whole path".
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "dir_cache.h"
#include "log.h"
#include "outfile_folder.h"

int wsrt_outfile_folder(ws_ctx *ctx, const char *path, int dir_len, int *plain_close)
{
    *plain_close = 0;
    wsrt_dir_cache *c = &((wsrt_ctx_base *)ctx)->dirs;
    if (!c->on)
        return dir_len == 0 ? AT_FDCWD : -1;
    if (c->fd >= 0 && c->len == (size_t)dir_len && memcmp(c->path, path, c->len) == 0) {
        *plain_close = c->plain_close;
        return c->fd;
    }
    wsrt_dir_cache_drop(c);
    char *copy = malloc((size_t)dir_len + 2);
    if (!copy)
        return -1;
    memcpy(copy, path, (size_t)dir_len);
    copy[dir_len] = '\0';
    int fd = open(dir_len ? copy : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        free(copy);
        return -1;
    }
    /* A file system with a flush operation (NFS, FUSE, overlay, ...) may
     * report a lost write only at close; those keep the second descriptor
     * so the file is closed, and checked, before it gets its name. */
    struct statfs sf;
    c->plain_close = fstatfs(fd, &sf) == 0 &&
                     (sf.f_type == TMPFS_MAGIC || sf.f_type == EXT4_SUPER_MAGIC ||
                      sf.f_type == XFS_SUPER_MAGIC);
    c->fd = fd;
    c->path = copy;
    c->len = (size_t)dir_len;
    *plain_close = c->plain_close;
    return fd;
}

void wsrt_outfile_forget_folder(ws_ctx *ctx)
{
    wsrt_dir_cache_drop(&((wsrt_ctx_base *)ctx)->dirs);
}

