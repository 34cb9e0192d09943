/*
 * outfile_folder.h - internal: the output folder a worker's context keeps
 * open (runtime/base/dir_cache.h), for outfile.c to create and link each
 * file relative to it.  Never used by anything but outfile.c.
 */
#ifndef WSRT_OUTFILE_FOLDER_H
#define WSRT_OUTFILE_FOLDER_H

#include "wsrun.h"

/* The folder part of path (dir_len bytes, its slash included; none for
 * the current folder) as a descriptor to create and link in: the worker's
 * cached folder (opened here on a miss), or without a cache AT_FDCWD for
 * a bare name and -1 otherwise: use whole paths (as when the folder
 * cannot be opened; the whole path then names the reason).
 * *plain_close: close() there reports nothing (known only when cached). */
int wsrt_outfile_folder(ws_ctx *ctx, const char *path, int dir_len, int *plain_close);

/* The cached folder failed with ENOENT (deleted, maybe made again): look
 * it up afresh on the next call. */
void wsrt_outfile_forget_folder(ws_ctx *ctx);

#endif
