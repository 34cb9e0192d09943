/*
 * discover.c - --list-plugins: walks the loader's search path and prints
 * each plugin's name, version and description from its descriptor.
 *
 * Must never call a plugin's init, run_one, finish or worker callbacks
 * (listing must be safe on plugins that would write files or take
 * minutes), never list the current directory (the loader never searches
 * it), and never stop at a broken file: it is reported and skipped.  A
 * name found again later on the path is listed as shadowed, because
 * `--plugin NAME` would load the first one.
 */
#include "discover.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "run.h"
#include "term_text.h"

typedef struct found_plugin {
    size_t dir;                       /* index in the folder list */
    char *name, *version, *description;
    size_t shadowed_by;               /* 1 + index of the first of this name; 0: none */
} found_plugin;

typedef struct listing {
    char **dirs;
    size_t n_dirs;
    found_plugin *plugins;
    size_t n, cap;
    int out_of_memory;
} listing;

/* Add `dir` unless it does not exist or is the same folder as one before
 * (WSRUN_PLUGIN_PATH naming the build folder, for instance). */
static void add_dir(listing *l, const char *dir)
{
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return;
    for (size_t k = 0; k < l->n_dirs; k++)
        if (strcmp(l->dirs[k], real) == 0)
            return;
    char **dirs = realloc(l->dirs, (l->n_dirs + 1) * sizeof *dirs);
    char *copy = strdup(real);
    if (!dirs || !copy) {
        free(copy);
        if (dirs)
            l->dirs = dirs;
        l->out_of_memory = 1;
        return;
    }
    l->dirs = dirs;
    l->dirs[l->n_dirs++] = copy;
}

static int collect_dir(void *arg, const char *dir)
{
    add_dir(arg, dir);
    return 0;
}

static void collect_dirs(listing *l, const char *search_path, const char *exe_path)
{
    wsrt_loader_each_dir(search_path, exe_path, collect_dir, l);
}

static int ends_in_so(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Open one file as --plugin would, copy out the descriptor's text, close. */
static void examine(listing *l, size_t dir, const char *path)
{
    ws_run run;
    memset(&run, 0, sizeof run);
    char err[1024];
    if (wsrt_loader_open(&run, path, err, sizeof err) != 0) {
        wsrt_err("skipping %s", err);
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        found_plugin *p = realloc(l->plugins, cap * sizeof *p);
        if (!p) {
            l->out_of_memory = 1;
            wsrt_loader_close(&run);
            return;
        }
        l->plugins = p;
        l->cap = cap;
    }
    found_plugin *f = &l->plugins[l->n];
    memset(f, 0, sizeof *f);
    f->dir = dir;
    f->name = strdup(run.desc.name);
    f->version = strdup(run.desc.version ? run.desc.version : "-");
    f->description = strdup(run.desc.description ? run.desc.description : "(no description)");
    wsrt_loader_close(&run);
    if (!f->name || !f->version || !f->description) {
        free(f->name), free(f->version), free(f->description);
        l->out_of_memory = 1;
        return;
    }
    for (size_t k = 0; k < l->n; k++)
        if (strcmp(l->plugins[k].name, f->name) == 0 && !l->plugins[k].shadowed_by) {
            f->shadowed_by = k + 1;
            break;
        }
    l->n++;
}

static void scan_dir(listing *l, size_t dir)
{
    DIR *d = opendir(l->dirs[dir]);
    if (!d) {
        wsrt_err("skipping folder %s: cannot read it", l->dirs[dir]);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !ends_in_so(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **grown = realloc(names, cap * sizeof *grown);
            if (!grown)
                break;
            names = grown;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, by_name);
    for (size_t k = 0; k < n; k++) {
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", l->dirs[dir], names[k]);
        examine(l, dir, path);
        free(names[k]);
    }
    free(names);
}

/* A descriptor's text as a terminal shows it as is (term_text.h): a
 * plugin's version or description may hold control sequences. */
static const char *shown(char *buf, size_t size, const char *text)
{
    wsrt_term_text(buf, size, text, strlen(text));
    return buf;
}

static void print_listing(FILE *out, const listing *l)
{
    int name_w = 4, version_w = 7;
    char name[256], version[256], description[1024], dir[4200];
    for (size_t k = 0; k < l->n; k++) {
        int nw = (int)strlen(shown(name, sizeof name, l->plugins[k].name));
        int vw = (int)strlen(shown(version, sizeof version, l->plugins[k].version));
        name_w = nw > name_w ? nw : name_w;
        version_w = vw > version_w ? vw : version_w;
    }
    size_t shown_dir = (size_t)-1;
    for (size_t k = 0; k < l->n; k++) {
        const found_plugin *f = &l->plugins[k];
        if (f->dir != shown_dir) {
            fprintf(out, "%s%s:\n", shown_dir == (size_t)-1 ? "" : "\n",
                    shown(dir, sizeof dir, l->dirs[f->dir]));
            shown_dir = f->dir;
        }
        fprintf(out, "  %-*s  %-*s  %s", name_w, shown(name, sizeof name, f->name), version_w,
                shown(version, sizeof version, f->version),
                shown(description, sizeof description, f->description));
        if (f->shadowed_by)
            fprintf(out, " (shadowed by %s/%s.so)",
                    shown(dir, sizeof dir, l->dirs[l->plugins[f->shadowed_by - 1].dir]),
                    shown(name, sizeof name, f->name));
        putc('\n', out);
    }
}

int wsrt_discover_list(FILE *out, const char *search_path, const char *exe_path)
{
    listing l;
    memset(&l, 0, sizeof l);
    collect_dirs(&l, search_path, exe_path);
    for (size_t d = 0; d < l.n_dirs && !l.out_of_memory; d++)
        scan_dir(&l, d);
    int listed = (int)l.n;
    if (l.out_of_memory) {
        wsrt_err("out of memory listing plugins");
        listed = -1;
    } else if (l.n == 0) {
        wsrt_err("no plugins found (set WSRUN_PLUGIN_PATH to a folder of .so files)");
    } else {
        print_listing(out, &l);
    }
    for (size_t k = 0; k < l.n; k++) {
        free(l.plugins[k].name);
        free(l.plugins[k].version);
        free(l.plugins[k].description);
    }
    for (size_t d = 0; d < l.n_dirs; d++)
        free(l.dirs[d]);
    free(l.plugins);
    free(l.dirs);
    return listed;
}
