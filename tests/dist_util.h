/*
 * dist_util.h - helpers shared by test_shard.c and test_mpi.c: a fresh work
 * folder under /tmp, running a shell command line in it (wsrun, or mpirun
 * with wsrun-mpi) while capturing its exit status, stderr and wall time,
 * and comparing output folders file by file, byte by byte.
 *
 * Never writes outside its own /tmp/test_dist.* folder, and removes it.
 */
#ifndef WSTEST_DIST_UTIL_H
#define WSTEST_DIST_UTIL_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "work_util.h"

static inline void du_setup(void)
{
    work_setup("/tmp/test_dist.");
}

static inline void du_mkdir(const char *name)
{
    cr_assert_eq(mkdir(work_path("%s", name), 0755), 0, "mkdir %s: %s", name, strerror(errno));
}

typedef struct du_result {
    int status;     /* exit code, or 128 + signal */
    double seconds; /* wall time */
    char err[1 << 16];
} du_result;

static inline double du_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run `sh -c <command>` in work_dir, stdin from /dev/null, stdout dropped. */
static inline void du_run(du_result *r, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char err_path[PATH_MAX + 16];
    snprintf(err_path, sizeof err_path, "%s/.stderr", work_dir);
    int err_fd = open(err_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    cr_assert(err_fd >= 0, "open %s: %s", err_path, strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    char full[8192 + PATH_MAX + 16];
    snprintf(full, sizeof full, "cd '%s' && %s", work_dir, cmd);
    char *argv[] = {"/bin/sh", "-c", full, NULL};
    extern char **environ;
    double t0 = du_now();
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot start /bin/sh: %s", strerror(rc));
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    r->seconds = du_now() - t0;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    lseek(err_fd, 0, SEEK_SET);
    ssize_t n = read(err_fd, r->err, sizeof r->err - 1);
    r->err[n > 0 ? n : 0] = '\0';
    close(err_fd);
}

/* The names of the plain files in work_dir/dir, sorted; free each and it. */
static inline int du_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline char **du_list(const char *dir, size_t *n)
{
    DIR *d = opendir(work_path("%s", dir));
    cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
    size_t cap = 64;
    char **names = malloc(cap * sizeof *names);
    *n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap)
            names = realloc(names, (cap *= 2) * sizeof *names);
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, *n, sizeof *names, du_cmp_names);
    return names;
}

static inline void du_free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The whole file, NUL-terminated; free() it. */
static inline char *du_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    cr_assert_eq(fread(buf, 1, (size_t)size, f), (size_t)size, "read %s", path);
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static inline void du_assert_same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = du_slurp(a, &la), *y = du_slurp(b, &lb);
    cr_assert(la == lb && memcmp(x, y, la) == 0, "%s and %s differ (%zu and %zu bytes)", a, b,
              la, lb);
    free(x);
    free(y);
}

/* Folders `parts` (NULL-terminated) hold between them exactly the files of
 * `full`: every name once, every file byte-identical.  Returns the count. */
static inline size_t du_assert_partition(const char *full, const char *const *parts)
{
    size_t n_full;
    char **want = du_list(full, &n_full);
    size_t n_all = 0, cap = n_full + 16;
    char **all = malloc(cap * sizeof *all);
    for (const char *const *p = parts; *p; p++) {
        size_t n;
        char **got = du_list(*p, &n);
        for (size_t i = 0; i < n; i++) {
            char *a = strdup(work_path("%s/%s", *p, got[i]));
            char *b = strdup(work_path("%s/%s", full, got[i]));
            du_assert_same_file(a, b);
            free(a);
            free(b);
            if (n_all == cap)
                all = realloc(all, (cap *= 2) * sizeof *all);
            all[n_all++] = strdup(got[i]);
        }
        du_free_list(got, n);
    }
    qsort(all, n_all, sizeof *all, du_cmp_names);
    for (size_t i = 1; i < n_all; i++)
        cr_assert_str_neq(all[i - 1], all[i], "%s was written by two parts", all[i]);
    cr_assert_eq(n_all, n_full, "the parts hold %zu files, the full run %zu", n_all, n_full);
    du_free_list(all, n_all);
    du_free_list(want, n_full);
    return n_full;
}

#endif
