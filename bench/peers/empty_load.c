/*
 * empty_load.c - dlopen the empty plugin and return its run_one (see
 * empty_load.h).  Lazy binding: the plugin's calls into wsrun are never
 * made by run_one, so they need not resolve.  Must never call anything but
 * run_one: init and finish need the runtime.
 */
#include "empty_load.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "wsrun.h"

empty_run_fn empty_load_run_one(const char *path)
{
    void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "empty peer: cannot load %s: %s\n", path, dlerror());
        exit(2);
    }
    const ws_plugin *(*get)(void);
    *(void **)&get = dlsym(h, WS_PLUGIN_SYMBOL);
    if (!get) {
        fprintf(stderr, "empty peer: %s: no %s\n", path, WS_PLUGIN_SYMBOL);
        exit(2);
    }
    const ws_plugin *desc = get();
    if (!desc || !desc->run_one) {
        fprintf(stderr, "empty peer: %s: no run_one\n", path);
        exit(2);
    }
    return (empty_run_fn)(void *)desc->run_one;
}
