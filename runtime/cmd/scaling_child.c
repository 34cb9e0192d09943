/*
 * scaling_child.c - the run's half of `wsrun --scaling` (scaling.h).  A
 * run started by a study finds WSRUN_SCALING_CHILD=<fd>,<jobs> in its
 * environment; it runs at that -j and, just before finish, writes one line
 * into the fd: the parallel span (end of init to start of finish; the pool's
 * threads were started before it, while the plugin loaded), the process's
 * CPU time over the same span, and the pool's steals and parked time.
 *
 * Must never change a run that no study started (every call is a no-op
 * then), and never let the variable or the fd reach the plugin's own child
 * processes.
 */
#include "scaling.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "options.h"
#include "pool.h"
#include "run.h"
#include "stats_json.h"

static int report_fd = -1;
static uint64_t span_wall_ns; /* wsrt_now_ns() at the span's start */
/* The process's CPU time is another quantity than clock.h's: its own clock. */
static struct timespec span_cpu;
/* --isolate (issue 24): the CPU time of the worker processes, reaped by the
 * span's end (the template waits for them, wsrun for the template). */
static uint64_t span_children_ns;

static uint64_t children_cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return 0;
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
}

int wsrt_scaling_child_take(unsigned *jobs)
{
    const char *value = getenv(WSRT_SCALING_CHILD_ENV);
    if (!value)
        return 0;
    char text[64], shown[64];
    snprintf(text, sizeof text, "%s", value);
    snprintf(shown, sizeof shown, "%s", value);
    unsetenv(WSRT_SCALING_CHILD_ENV);
    char *comma = strchr(text, ',');
    uint64_t fd = 0, j = 0;
    if (comma)
        *comma = '\0';
    if (!comma || wsrt_parse_u64(text, 1 << 20, &fd) != 0 ||
        wsrt_parse_u64(comma + 1, WSRT_SCALING_MAX_JOBS, &j) != 0 || j == 0 ||
        fcntl((int)fd, F_SETFD, FD_CLOEXEC) != 0) {
        wsrt_err("%s='%s' is malformed: wsrun --scaling sets it for its own runs only",
               WSRT_SCALING_CHILD_ENV, shown);
        return -1;
    }
    report_fd = (int)fd;
    *jobs = (unsigned)j;
    return 1;
}

void wsrt_scaling_child_span_start(void)
{
    if (report_fd < 0)
        return;
    span_wall_ns = wsrt_now_ns();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &span_cpu);
    span_children_ns = children_cpu_ns();
}

static uint64_t cpu_ns_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    int64_t ns = (int64_t)(now.tv_sec - t0->tv_sec) * 1000000000LL + (now.tv_nsec - t0->tv_nsec);
    return ns > 0 ? (uint64_t)ns : 0;
}

void wsrt_scaling_child_span_end(const wsrt_pool_result *result)
{
    if (report_fd < 0)
        return;
    uint64_t wall_ns = wsrt_now_ns() - span_wall_ns;
    uint64_t cpu_ns = cpu_ns_since(&span_cpu) + (children_cpu_ns() - span_children_ns);
    wsrt_worker_stats total;
    wsrt_stats_total(result, &total);
    char line[160];
    int len = snprintf(line, sizeof line, "wsrun-scaling-1 %llu %llu %llu %llu\n",
                       (unsigned long long)wall_ns, (unsigned long long)cpu_ns,
                       (unsigned long long)total.steals, (unsigned long long)total.parked_ns);
    /* The parent reads until end of file; a short pipe write cannot
     * happen for a line this size (PIPE_BUF), EINTR can. */
    ssize_t n;
    do
        n = write(report_fd, line, (size_t)len);
    while (n < 0 && errno == EINTR);
    close(report_fd);
    report_fd = -1;
}
