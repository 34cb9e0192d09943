/*
 * loader.c - finds a plugin file, dlopens it and checks its descriptor.
 *
 * Must never call into a plugin before its descriptor passed every check,
 * never read a descriptor past the plugin's own struct_size (the LV2 rule:
 * an older plugin's struct is shorter than ours), and never search the
 * current directory unless the user wrote a path with a '/'.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "wsrun.h"

/* Plugins resolve their ws_* calls in the executable when dlopen runs.  A
 * static library only contributes the members something refers to, so
 * this table refers to every function of wsrun.h: whatever links the
 * loader exports the whole ABI, even calls no runtime code makes itself
 * (ws_outfile_*, for instance). */
__attribute__((used)) static void (*const abi_functions[])(void) = {
    (void (*)(void))ws_opt_int,       (void (*)(void))ws_opt_double,
    (void (*)(void))ws_opt_str,       (void (*)(void))ws_opt_bool,
    (void (*)(void))ws_opt_enum,      (void (*)(void))ws_opt_given,
    (void (*)(void))ws_run_count,     (void (*)(void))ws_count_given,
    (void (*)(void))ws_set_count,     (void (*)(void))ws_run_seed,
    (void (*)(void))ws_run_jobs,      (void (*)(void))ws_run_quiet,
    (void (*)(void))ws_plugin_name,   (void (*)(void))ws_fail,
    (void (*)(void))ws_vfail,         (void (*)(void))ws_log,
    (void (*)(void))ws_outfile_open,  (void (*)(void))ws_outfile_commit,
    (void (*)(void))ws_outfile_abort, (void (*)(void))ws__attend,
    (void (*)(void))ws__sync_slow,    (void (*)(void))ws__frames_exhausted,
    (void (*)(void))ws_stopping,      (void (*)(void))ws_set_run_key,
    (void (*)(void))ws_shared_alloc, /* ABI 1.4 (--isolate, issue 24) */
    (void (*)(void))ws_outfile_open_flags, /* ABI 1.4 (issue 27) */
    (void (*)(void))ws_on_interrupt, /* ABI 1.4 (the python plugin's Ctrl-C) */
};

static int is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Appends to the "looked in" list; a full list ends in "..." instead. */
static void note_dir(char *list, size_t size, const char *dir)
{
    size_t used = strlen(list);
    size_t need = (used ? 2 : 0) + strlen(dir);
    if (used + need + 4 >= size) {
        if (used + 4 < size && (used < 3 || strcmp(list + used - 3, "...") != 0))
            memcpy(list + used, "...", 4);
        return;
    }
    if (used)
        memcpy(list + used, ", ", 2), used += 2;
    memcpy(list + used, dir, strlen(dir) + 1);
}

/* Try dir/spec and dir/spec.so. */
static int try_dir(const char *dir, const char *spec, char *path, size_t path_size)
{
    int n = snprintf(path, path_size, "%s/%s", dir, spec);
    if (n > 0 && (size_t)n < path_size && is_regular_file(path))
        return 1;
    if (ends_with(spec, ".so"))
        return 0;
    n = snprintf(path, path_size, "%s/%s.so", dir, spec);
    return n > 0 && (size_t)n < path_size && is_regular_file(path);
}

int wsrt_loader_each_dir(const char *search_path, const char *exe_path,
                       int (*visit)(void *arg, const char *dir), void *arg)
{
    for (const char *p = search_path; p && *p;) {
        size_t len = strcspn(p, ":");
        if (len > 0 && len < PATH_MAX) {
            char dir[PATH_MAX];
            memcpy(dir, p, len);
            dir[len] = '\0';
            int stop = visit(arg, dir);
            if (stop)
                return stop;
        }
        p += len;
        if (*p == ':')
            p++;
    }
    char exe[PATH_MAX];
    if (exe_path) {
        snprintf(exe, sizeof exe, "%s", exe_path);
    } else {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
    }
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    const char *exe_dir = exe[0] ? exe : "/";
    static const char *const beside_exe[] = {"plugins", "../lib/wsrun"};
    for (size_t k = 0; k < sizeof beside_exe / sizeof beside_exe[0]; k++) {
        char dir[PATH_MAX + 32];
        snprintf(dir, sizeof dir, "%s/%s", exe_dir, beside_exe[k]);
        int stop = visit(arg, dir);
        if (stop)
            return stop;
    }
    return 0;
}

struct find_state {
    const char *spec;
    char *path;
    size_t path_size;
    char looked[2048];
};

static int find_in_dir(void *arg, const char *dir)
{
    struct find_state *st = arg;
    if (try_dir(dir, st->spec, st->path, st->path_size))
        return 1;
    note_dir(st->looked, sizeof st->looked, dir);
    return 0;
}

int wsrt_loader_find(const char *spec, const char *search_path, const char *exe_path, char *path,
                   size_t path_size, char *err, size_t err_size)
{
    if (!*spec)
        return wsrt_errf(err, err_size, "--plugin needs a plugin name or path");
    if (strchr(spec, '/')) {
        struct stat st;
        if (stat(spec, &st) != 0)
            return wsrt_errf(err, err_size, "plugin '%s' not found: %s", spec, strerror(errno));
        if (!S_ISREG(st.st_mode))
            return wsrt_errf(err, err_size, "plugin '%s' is not a regular file", spec);
        if ((size_t)snprintf(path, path_size, "%s", spec) >= path_size)
            return wsrt_errf(err, err_size, "plugin path '%s' is too long", spec);
        return 0;
    }

    struct find_state st = {spec, path, path_size, ""};
    if (wsrt_loader_each_dir(search_path, exe_path, find_in_dir, &st))
        return 0;
    const char *looked = st.looked;
    return wsrt_errf(err, err_size, "plugin '%s' not found (looked in: %s)", spec,
                looked[0] ? looked : "nowhere");
}

/* "dir/noise.so" -> "noise" */
static void name_from_path(const char *path, char *name, size_t size)
{
    const char *slash = strrchr(path, '/');
    snprintf(name, size, "%s", slash ? slash + 1 : path);
    size_t len = strlen(name);
    if (len > 3 && strcmp(name + len - 3, ".so") == 0)
        name[len - 3] = '\0';
}

/* The checks every descriptor passes, file or not; `who` starts each
 * message ("plugin <path>" for a file). */
static int check_fields(const ws_plugin *desc, const char *who, char *err, size_t err_size)
{
    /* No ABI ever had major 0: such a descriptor was written without its
     * header macro (all four fields left 0), which a rebuild would not fix. */
    if (desc->abi_major == 0)
        return wsrt_errf(err, err_size,
                    "%s: descriptor has no WS_PLUGIN_HEADER (abi_major, abi_minor and "
                    "struct_size are 0): begin its initializer with WS_PLUGIN_HEADER, or "
                    "WS_PLUGIN_HEADER_FLAGS(...)",
                    who);
    if (desc->abi_major != WS_ABI_MAJOR)
        return wsrt_errf(err, err_size,
                    "%s: plugin ABI major mismatch: expected %d, found %u (rebuild it "
                    "against this wsrun's wsrun.h)",
                    who, WS_ABI_MAJOR, desc->abi_major);
    if (desc->struct_size < WS_PLUGIN_V1_SIZE)
        return wsrt_errf(err, err_size,
                    "%s: descriptor struct_size %u is below the ABI %d minimum of %u",
                    who, desc->struct_size, WS_ABI_MAJOR, (unsigned)WS_PLUGIN_V1_SIZE);
    /* struct_size covers every v1 field from here on. */
    if (desc->flags & ~WS_PLUGIN_KNOWN_FLAGS)
        return wsrt_errf(err, err_size, "%s: descriptor flags 0x%x are unknown to wsrun %s",
                    who, desc->flags & ~WS_PLUGIN_KNOWN_FLAGS, WS_VERSION);
    if (!desc->name)
        return wsrt_errf(err, err_size, "%s: descriptor has no name", who);
    if (!desc->run_one)
        return wsrt_errf(err, err_size, "%s: descriptor has no run_one callback", who);
    return 0;
}

int wsrt_loader_check(const ws_plugin *desc, const char *path, char *err, size_t err_size)
{
    if (!desc)
        return wsrt_errf(err, err_size, "plugin %s: ws_plugin_descriptor() returned NULL", path);
    char who[4200];
    snprintf(who, sizeof who, "plugin %s", path);
    if (check_fields(desc, who, err, err_size) != 0)
        return -1;
    char expected[256];
    name_from_path(path, expected, sizeof expected);
    if (strcmp(desc->name, expected) != 0)
        return wsrt_errf(err, err_size,
                    "plugin %s: descriptor name '%s' does not match the file name (expected "
                    "'%s')",
                    path, desc->name, expected);
    return 0;
}

/* Copy a descriptor into a full current struct, reading no byte past its
 * own struct_size (the header first: it says how much there is). */
static void copy_descriptor(ws_plugin *copy, const ws_plugin *found)
{
    memset(copy, 0, sizeof *copy);
    size_t header = offsetof(ws_plugin, flags);
    memcpy(copy, found, header);
    size_t n = found->struct_size < sizeof *copy ? found->struct_size : sizeof *copy;
    if (n > header)
        memcpy(copy, found, n);
}

/* Make the checked copy the run's descriptor; path and handle are the
 * file's (NULL for a descriptor from no file). */
static void take_descriptor(ws_run *run, const ws_plugin *copy, char *path, void *handle)
{
    run->desc = *copy;
    run->plugin = &run->desc;
    run->plugin_path = path;
    run->dl_handle = handle;
}

int wsrt_loader_adopt(ws_run *run, const ws_plugin *desc, char *err, size_t err_size)
{
    if (!desc)
        return wsrt_errf(err, err_size, "no descriptor (NULL)");
    ws_plugin copy;
    copy_descriptor(&copy, desc);
    char who[300];
    snprintf(who, sizeof who, "descriptor '%.200s'",
             copy.struct_size >= WS_PLUGIN_V1_SIZE && copy.name ? copy.name : "?");
    if (check_fields(&copy, who, err, err_size) != 0)
        return -1;
    take_descriptor(run, &copy, NULL, NULL);
    return 0;
}

int wsrt_loader_open(ws_run *run, const char *path, char *err, size_t err_size)
{
    dlerror();
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        return wsrt_errf(err, err_size, "cannot load plugin %s: %s", path, dlerror());

    dlerror();
    void *sym = dlsym(handle, WS_PLUGIN_SYMBOL);
    if (!sym) {
        wsrt_errf(err, err_size, "%s is not a wsrun plugin: it has no %s symbol", path,
             WS_PLUGIN_SYMBOL);
        dlclose(handle);
        return -1;
    }
    /* dlsym returns an object pointer; POSIX guarantees it converts to the
     * function pointer it stands for, and memcpy keeps ISO C happy. */
    const ws_plugin *(*get_descriptor)(void);
    memcpy(&get_descriptor, &sym, sizeof get_descriptor);
    const ws_plugin *found = get_descriptor();

    /* Check the header before copying: struct_size says how much to read. */
    ws_plugin copy;
    memset(&copy, 0, sizeof copy);
    if (found)
        copy_descriptor(&copy, found);
    if (wsrt_loader_check(found ? &copy : NULL, path, err, err_size) != 0) {
        dlclose(handle);
        return -1;
    }
    char *saved_path = strdup(path);
    if (!saved_path) {
        dlclose(handle);
        return wsrt_errf(err, err_size, "out of memory loading %s", path);
    }
    take_descriptor(run, &copy, saved_path, handle);
    return 0;
}

int wsrt_loader_load(ws_run *run, const char *spec, char *err, size_t err_size)
{
    char path[PATH_MAX];
    if (wsrt_loader_find(spec, getenv("WSRUN_PLUGIN_PATH"), NULL, path, sizeof path, err,
                       err_size) != 0)
        return -1;
    return wsrt_loader_open(run, path, err, err_size);
}

void wsrt_loader_close(ws_run *run)
{
    if (run->dl_handle)
        dlclose(run->dl_handle);
    free((char *)run->plugin_path);
    run->dl_handle = NULL;
    run->plugin_path = NULL;
    run->plugin = NULL;
    memset(&run->desc, 0, sizeof run->desc);
}
