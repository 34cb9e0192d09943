/*
 * loader.h - internal: finding a plugin file, opening it with dlopen and
 * checking its descriptor before anything in it is called.
 *
 * Functions that can fail write one line (no "wsrun: " prefix, no newline)
 * into err and return -1; they never print (docs/design.md, "Errors: one
 * convention").
 */
#ifndef WSRT_LOADER_H
#define WSRT_LOADER_H

#include <stddef.h>

#include "run.h"

/* Find the file for `spec`.  A spec containing '/' is a path used as is.
 * Otherwise `spec` and `spec`.so are tried in each directory of
 * `search_path` (colon separated, empty entries skipped; the value of
 * $WSRUN_PLUGIN_PATH, may be NULL), then in <exe dir>/plugins, then in
 * <exe dir>/../lib/wsrun, where <exe dir> is the folder of `exe_path`
 * (NULL: the running executable).  The current directory is never searched.
 * Fills `path` and returns 0, or -1 with "plugin 'X' not found (looked in:
 * ...)". */
int wsrt_loader_find(const char *spec, const char *search_path, const char *exe_path, char *path,
                   size_t path_size, char *err, size_t err_size);

/* Call visit(arg, dir) for each plugin folder in the order wsrt_loader_find
 * searches them (--list-plugins walks the same list).  Stops at the first
 * non-zero return and returns it; 0 when every folder was visited. */
int wsrt_loader_each_dir(const char *search_path, const char *exe_path,
                       int (*visit)(void *arg, const char *dir), void *arg);

/* Check a descriptor as found in the file at `path` (whose base name less
 * ".so" the descriptor's name must equal).  Reads only the header and, if
 * struct_size allows, the rest.  0 when wsrun can use it. */
int wsrt_loader_check(const ws_plugin *desc, const char *path, char *err, size_t err_size);

/* The loader's checks and copy for a descriptor that comes from no file
 * (an embedding program's own, wsrun_embed.h): as wsrt_loader_check less the
 * file-name rule, then copied as wsrt_loader_open copies; sets run->desc and
 * run->plugin (no path, no handle).  The messages start "descriptor 'NAME'". */
int wsrt_loader_adopt(ws_run *run, const ws_plugin *desc, char *err, size_t err_size);

/* dlopen `path` (RTLD_NOW | RTLD_LOCAL), call its descriptor function,
 * check the descriptor and copy it into run->desc (bytes beyond the
 * plugin's struct_size are zero); sets run->plugin, run->plugin_path and
 * run->dl_handle.  On failure nothing is left open. */
int wsrt_loader_open(ws_run *run, const char *path, char *err, size_t err_size);

/* wsrt_loader_find with $WSRUN_PLUGIN_PATH and the running executable, then
 * wsrt_loader_open. */
int wsrt_loader_load(ws_run *run, const char *spec, char *err, size_t err_size);

/* dlclose and forget the plugin; run->desc must not be used afterwards.
 * A caller that ran the plugin on a pool reaps (or destroys) that pool
 * first (wsrt_pool_reap): no thread that ran the plugin's code may
 * outlive it, and the loader knows no pool. */
void wsrt_loader_close(ws_run *run);

#endif
