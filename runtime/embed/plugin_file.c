/*
 * plugin_file.c - ws_plugin_open / ws_plugin_file_plugin / ws_plugin_close
 * of include/wsrun_embed.h: a program loads a plugin file by name or path
 * with the same search, checks and messages as `wsrun --plugin X`, and runs
 * its descriptor with ws_pool_run_plugin.
 *
 * Must never search the current directory for a bare name, never call a
 * plugin before the loader's checks passed (runtime/plugin/loader.c does
 * both), never print (the message goes to the caller's buffer), and never
 * leave a handle open after a failed open.
 */
#include <dlfcn.h> /* dladdr1: _GNU_SOURCE, from the Makefile */
#include <link.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "run.h"
#include "wsrun_embed.h"

struct ws_plugin_file {
    ws_run run; /* only the loader's fields: desc, plugin_path, dl_handle */
};

/* The file this code was loaded from: libwsrun.so, or "" when it is the
 * executable a static libwsrun.a was linked into (then the loader uses
 * /proc/self/exe, as wsrun does: dladdr names the executable only by
 * argv[0], which may be no path at all). */
static void own_file(char *path, size_t size)
{
    Dl_info info;
    struct link_map *map = NULL;
    path[0] = '\0';
    /* A function of this file: its address lies inside the object itself
     * (never a PLT stub of another object, as a public function's address
     * taken elsewhere could be).  The main program's link map has the
     * name "". */
    if (dladdr1((void *)(uintptr_t)own_file, &info, (void **)&map, RTLD_DL_LINKMAP) && map &&
        map->l_name && map->l_name[0])
        snprintf(path, size, "%s", map->l_name);
}

/* A program may have loaded libwsrun RTLD_LOCAL (Python opens extensions
 * so, and the libraries they need with them): then a plugin's undefined
 * ws_* calls find nothing when it is dlopened.  Opening our own file again
 * with RTLD_NOLOAD | RTLD_GLOBAL promotes the copy already loaded to the
 * global scope (dlopen(3): no second copy is loaded; glibc keeps the
 * promotion after the dlclose that drops the extra reference).  The
 * executable (a static libwsrun.a) has its symbols global already if it
 * was linked with --export-dynamic, as pkg-config --static says, so it is
 * not tried. */
static void make_own_symbols_global(const char *self)
{
    if (!self[0])
        return;
    void *h = dlopen(self, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
    if (h)
        dlclose(h);
}

ws_plugin_file *ws_plugin_open(const char *name_or_path, char *err, size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (!err)
        err_size = 0;
    if (!name_or_path || !name_or_path[0]) {
        wsrt_errf(err, err_size, "ws_plugin_open: no plugin name or path (%s)",
                  name_or_path ? "empty" : "NULL");
        return NULL;
    }
    char self[PATH_MAX];
    own_file(self, sizeof self);
    char path[PATH_MAX];
    /* The command's search, with libwsrun's own folder in the executable's
     * place: <its folder>/plugins (the build tree: build/libwsrun.so beside
     * build/plugins) and <its folder>/../lib/wsrun (installed:
     * $(PREFIX)/lib/libwsrun.so beside $(PREFIX)/lib/wsrun). */
    if (wsrt_loader_find(name_or_path, getenv("WSRUN_PLUGIN_PATH"), self[0] ? self : NULL, path,
                         sizeof path, err, err_size) != 0)
        return NULL;
    ws_plugin_file *file = calloc(1, sizeof *file);
    if (!file) {
        wsrt_errf(err, err_size, "out of memory opening plugin %s", path);
        return NULL;
    }
    make_own_symbols_global(self);
    if (wsrt_loader_open(&file->run, path, err, err_size) != 0) {
        free(file);
        return NULL;
    }
    return file;
}

const ws_plugin *ws_plugin_file_plugin(const ws_plugin_file *file)
{
    return file ? file->run.plugin : NULL;
}

void ws_plugin_close(ws_plugin_file *file)
{
    if (!file)
        return;
    wsrt_loader_close(&file->run);
    free(file);
}
