/*
 * embed_local.c - tests/embed.sh's program that loads libwsrun.so the way
 * a Python extension's libraries are loaded (dlopen RTLD_LOCAL), then
 * opens a plugin with ws_plugin_open and runs it: the plugin's ws_* calls
 * must find libwsrun's functions (wsrun_embed.h, ws_plugin_open).
 *   embed_local LIBWSRUN.so PLUGIN COUNT [key=value ...]   (COUNT -: init's)
 * Prints one line per step, which embed.sh compares; exit 0 only when the
 * run succeeded.  Never links libwsrun itself (that would load it global).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "wsrun_embed.h"

static void *need(void *lib, const char *name)
{
    void *sym = dlsym(lib, name);
    if (!sym) {
        printf("missing %s\n", name);
        exit(4);
    }
    return sym;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s LIBWSRUN.so PLUGIN COUNT [key=value ...]\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        printf("dlopen: %s\n", dlerror());
        return 3;
    }
    /* The premise: nothing of libwsrun is in the global scope yet. */
    printf("before: ws_opt_int %s\n", dlsym(RTLD_DEFAULT, "ws_opt_int") ? "global" : "local");

    ws_pool *(*pool_create)(unsigned, uint64_t);
    ws_plugin_file *(*plugin_open)(const char *, char *, size_t);
    const ws_plugin *(*file_plugin)(const ws_plugin_file *);
    int (*run_plugin)(ws_pool *, const ws_plugin *, uint64_t, const char *const *, size_t,
                      ws_pool_stats *);
    const char *(*pool_error)(const ws_pool *);
    void (*pool_destroy)(ws_pool *);
    void (*plugin_close)(ws_plugin_file *);
    *(void **)&pool_create = need(lib, "ws_pool_create");
    *(void **)&plugin_open = need(lib, "ws_plugin_open");
    *(void **)&file_plugin = need(lib, "ws_plugin_file_plugin");
    *(void **)&run_plugin = need(lib, "ws_pool_run_plugin");
    *(void **)&pool_error = need(lib, "ws_pool_error");
    *(void **)&pool_destroy = need(lib, "ws_pool_destroy");
    *(void **)&plugin_close = need(lib, "ws_plugin_close");

    char err[1024];
    ws_plugin_file *file = plugin_open(argv[2], err, sizeof err);
    if (!file) {
        printf("open: %s\n", err);
        return 1;
    }
    printf("after: ws_opt_int %s\n", dlsym(RTLD_DEFAULT, "ws_opt_int") ? "global" : "local");
    ws_pool *pool = pool_create(2, 0);
    ws_pool_stats st = {.struct_size = sizeof st};
    uint64_t count = argv[3][0] == '-' ? WS_COUNT_UNSET : strtoull(argv[3], NULL, 10);
    int rc = run_plugin(pool, file_plugin(file), count,
                        (const char *const *)argv + 4, (size_t)argc - 4, &st);
    fflush(stdout);
    printf("run: status %d, %llu indices done%s%s\n", rc, (unsigned long long)st.done,
           rc ? ": " : "", rc ? pool_error(pool) : "");
    pool_destroy(pool);
    plugin_close(file);
    dlclose(lib);
    return rc;
}
