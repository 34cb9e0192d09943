/*
 * publish_cost.c - microbenchmark of the kernel's cost of publishing one
 * small file, by method, so the system time of wsrun's outfile path
 * (O_TMPFILE, one write, linkat, close: runtime/plugin/outfile.c) can be
 * set against a plain writer's (open under the final name, stdio's 4 KiB
 * writes, close) without hardware counters.  Per method: the median over
 * ROUNDS of the process's system CPU time per file (getrusage), methods
 * in an order that reverses every round, each round into a fresh empty
 * folder under DIR (put DIR on the file system of interest: tmpfs for
 * issue 27).  CPU time, not wall time, but still inflated by other load:
 * compare the methods of one run only.  Measuring only: it writes and
 * removes files under DIR/m<k> and never anything else; it stops at the
 * first failed call.
 *
 *   publish_cost DIR [FILES [ROUNDS [BYTES]]]     (default 20000 10 10180)
 *
 * 10180 bytes is a default noise image.  Build:
 *   cc -O2 -o publish_cost bench/publish_cost.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

enum { CREAT_1W, CREAT_4K, TMPFILE_LINK, NAMED_RENAME, METHODS };
static const char *const names[METHODS] = {
    "open+1 write+close", "open+4KiB writes+close (stdio)", "O_TMPFILE+1 write+linkat+close",
    "named temp+1 write+close+rename"};

#define MAX_ROUNDS 101

static double sys_seconds(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)r.ru_stime.tv_sec + (double)r.ru_stime.tv_usec / 1e6;
}

static void need(int ok, const char *what)
{
    if (!ok) {
        perror(what);
        exit(1);
    }
}

static void put(int fd, const char *buf, size_t n, size_t chunk)
{
    for (size_t at = 0; at < n; at += chunk) {
        size_t len = n - at < chunk ? n - at : chunk;
        need(write(fd, buf + at, len) == (ssize_t)len, "write");
    }
}

static void publish(int m, int dir, const char *name, const char *buf, size_t n, int i)
{
    char tmp[96];
    int fd;
    switch (m) {
    case CREAT_1W:
    case CREAT_4K:
        fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        need(fd >= 0, "openat");
        put(fd, buf, n, m == CREAT_1W ? n : 4096);
        need(close(fd) == 0, "close");
        break;
    case TMPFILE_LINK:
        fd = openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
        need(fd >= 0, "openat O_TMPFILE");
        put(fd, buf, n, n);
        need(linkat(fd, "", dir, name, AT_EMPTY_PATH) == 0, "linkat AT_EMPTY_PATH");
        need(close(fd) == 0, "close");
        break;
    default:
        snprintf(tmp, sizeof tmp, ".%s.tmp.%d", name, i);
        fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        need(fd >= 0, "openat O_EXCL");
        put(fd, buf, n, n);
        need(close(fd) == 0, "close");
        need(renameat(dir, tmp, dir, name) == 0, "renameat");
    }
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: publish_cost DIR [FILES [ROUNDS [BYTES]]]\n");
        return 2;
    }
    int files = argc > 2 ? atoi(argv[2]) : 20000;
    int rounds = argc > 3 ? atoi(argv[3]) : 10;
    size_t bytes = argc > 4 ? (size_t)atol(argv[4]) : 10180;
    if (files < 1 || rounds < 1 || rounds > MAX_ROUNDS || bytes < 1 || bytes > (1u << 24)) {
        fprintf(stderr, "publish_cost: FILES >= 1, ROUNDS 1..%d, BYTES 1..16 MiB\n", MAX_ROUNDS);
        return 2;
    }
    char *buf = malloc(bytes);
    need(buf != NULL, "malloc");
    memset(buf, 7, bytes);
    static double us[METHODS][MAX_ROUNDS];
    char path[4096], name[64];
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < METHODS; k++) {
            int m = r % 2 ? METHODS - 1 - k : k;
            snprintf(path, sizeof path, "%s/m%d", argv[1], m);
            need(mkdir(path, 0777) == 0, path);
            int dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
            need(dir >= 0, path);
            double t0 = sys_seconds();
            for (int i = 0; i < files; i++) {
                snprintf(name, sizeof name, "image_%d.png", i);
                publish(m, dir, name, buf, bytes, i);
            }
            us[m][r] = (sys_seconds() - t0) / files * 1e6;
            for (int i = 0; i < files; i++) {
                snprintf(name, sizeof name, "image_%d.png", i);
                need(unlinkat(dir, name, 0) == 0, "unlinkat");
            }
            close(dir);
            need(rmdir(path) == 0, path);
        }
    }
    printf("%d files of %zu bytes in %s, %d rounds: system CPU us per file\n", files, bytes,
           argv[1], rounds);
    for (int m = 0; m < METHODS; m++) {
        qsort(us[m], (size_t)rounds, sizeof us[m][0], by_value);
        printf("  %-34s median %6.2f  min %6.2f  max %6.2f\n", names[m], us[m][rounds / 2],
               us[m][0], us[m][rounds - 1]);
    }
    free(buf);
    return 0;
}
