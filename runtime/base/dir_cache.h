/*
 * dir_cache.h - one open folder per worker context: ws_outfile
 * (runtime/plugin/outfile.c) creates and links each output file relative
 * to it instead of resolving the folder's whole path twice per file
 * (issue 27).  Only the storage and its end live here;
 * runtime/plugin/outfile_folder.c fills it.
 *
 * Must never outlive its owner's run: a context that turns it on (the
 * pool's workers, wsrt_worker_run) ends it when the run ends, so no
 * folder stays open between runs of a library user's pool.  A fresh
 * context has it off, and then nothing is ever opened.
 */
#ifndef WSRT_DIR_CACHE_H
#define WSRT_DIR_CACHE_H

#include <stddef.h>

typedef struct wsrt_dir_cache {
    int on;          /* 0: open nothing, always use whole paths */
    int fd;          /* O_PATH descriptor of the folder; -1: none */
    int plain_close; /* its file system's close() reports nothing */
    size_t len;      /* bytes of path, its last slash included */
    char *path;      /* the folder as the caller spelled it (malloc'd) */
} wsrt_dir_cache;

/* Close and forget what is cached; it stays on or off as it was. */
void wsrt_dir_cache_drop(wsrt_dir_cache *c);

#endif
