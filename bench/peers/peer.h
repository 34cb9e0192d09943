/*
 * peer.h - what every benchmark peer in bench/peers/ shares: the command
 * line ("-j N key=value ..."), a monotonic clock, and the output format
 * bench/run.sh reads ("time_s <seconds>" and "cpu_s <seconds>" beside the
 * plugin's own result line).  C and C++; never includes wsrun.h: a peer is
 * what a user writes without wsrun.
 *
 * A peer must time the same span as the plugins: the parallel work, from
 * just before it starts to just after it ends, with the thread pool started
 * before (peer_omp.h, peer_tbb.h), as wsrun starts its workers' threads
 * while it loads the plugin, before the plugin's span begins.
 */
#ifndef PEER_H
#define PEER_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct peer_args {
    int jobs;        /* -j N; 1 when absent */
    int argc;        /* the key=value words */
    char **argv;
    const char *prog;
} peer_args;

static inline double peer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void peer_die(const peer_args *a, const char *what, const char *value)
{
    fprintf(stderr, "%s: %s: %s\n", a->prog, what, value);
    exit(2);
}

static inline peer_args peer_parse(int argc, char **argv)
{
    peer_args a;
    a.jobs = 1;
    a.argc = 0;
    a.argv = argv + 1;
    a.prog = argv[0];
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "-j", 2) == 0) { /* -j N or -jN */
            const char *v = argv[i][2] ? argv[i] + 2 : i + 1 < argc ? argv[++i] : "";
            char *end;
            long j = strtol(v, &end, 10);
            if (*end || end == v || j < 1 || j > 1024)
                peer_die(&a, "bad -j (want 1..1024)", v);
            a.jobs = (int)j;
        } else if (strchr(argv[i], '=')) {
            a.argv[a.argc++] = argv[i];
        } else {
            peer_die(&a, "unknown argument (want -j N or key=value)", argv[i]);
        }
    }
    return a;
}

/* The value of key=value, or `fallback` when absent. */
static inline const char *peer_str(const peer_args *a, const char *key, const char *fallback)
{
    size_t n = strlen(key);
    for (int i = 0; i < a->argc; i++)
        if (strncmp(a->argv[i], key, n) == 0 && a->argv[i][n] == '=')
            return a->argv[i] + n + 1;
    return fallback;
}

static inline long long peer_int(const peer_args *a, const char *key, long long fallback)
{
    const char *s = peer_str(a, key, NULL);
    if (!s)
        return fallback;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || end == s || errno)
        peer_die(a, "not an integer", s);
    return v;
}

static inline double peer_double(const peer_args *a, const char *key, double fallback)
{
    const char *s = peer_str(a, key, NULL);
    if (!s)
        return fallback;
    char *end;
    double v = strtod(s, &end);
    if (*end || end == s)
        peer_die(a, "not a number", s);
    return v;
}

/* The measured span: wall and whole-process CPU time, as the plugins'
 * timing=on reports them (plugins/bench_timing.h). */
typedef struct peer_clock {
    double wall0, cpu0, wall_s, cpu_s;
} peer_clock;

static inline double peer_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline peer_clock peer_start(void)
{
    peer_clock c;
    c.wall0 = peer_now();
    c.cpu0 = peer_cpu_now();
    c.wall_s = c.cpu_s = 0;
    return c;
}

static inline void peer_stop(peer_clock *c)
{
    c->wall_s = peer_now() - c->wall0;
    c->cpu_s = peer_cpu_now() - c->cpu0;
}

static inline void peer_report(const peer_clock *c)
{
    printf("time_s %.6f\ncpu_s %.6f\n", c->wall_s, c->cpu_s);
    fflush(stdout);
}

#endif /* PEER_H */
