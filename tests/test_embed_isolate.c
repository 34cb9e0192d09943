/*
 * test_embed_isolate.c - libwsrun's isolating pools (ws_pool_options'
 * isolate, timeout_ms, worker_memory_bytes, keep_going; include/
 * wsrun_embed.h), at 1 and 2 workers: an index that segfaults fails alone
 * with its cause in ws_pool_error and every other index runs exactly once
 * (counted in ws_shared_alloc memory); a plugin without
 * WS_PLUGIN_ISOLATABLE is refused with the command's reason and isolate=2
 * runs it; timeout_ms kills a looping index; no child or worker process is
 * left after a run; worker_memory_bytes limits the worker process; a
 * second run on the pool works; a run from a process
 * with another thread is refused naming it; ws_pool_stop reaches the
 * worker processes' ws_stopping; ws_pool_for is refused; the
 * new fields' EINVAL and E2BIG rules.  Outcomes are counts, pids and
 * message texts, never timings (the timeout's length is only a setting).
 *
 * A Criterion test process has a thread of Criterion's beside the test's,
 * so isolation would refuse every run there: each scenario runs in a
 * child forked from it (single-threaded), which reports a failed check on
 * a pipe and exits 1; the test asserts on that.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* Under AddressSanitizer (make test's clang build) the library's worker
 * processes keep the sanitizers' handlers, which report and exit 1 (the
 * wsrun command installs its own crash handler, libwsrun does not), and
 * ASan's allocator does not honour RLIMIT_DATA. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif
#include <sys/wait.h>
#include <unistd.h>

#include "wsrun_embed.h"

#define MAX_PIDS 256

/* In a scenario's child: a failed check is reported and ends it. */
static int report_fd = -1;
#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            dprintf(report_fd, "%s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            dprintf(report_fd, " " __VA_ARGS__);                              \
            _exit(1);                                                         \
        }                                                                     \
    } while (0)

/* Run scenario() in a forked child; its failed check fails the test. */
static void in_child(void (*scenario)(void))
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        report_fd = fds[1];
        scenario();
        _exit(0);
    }
    close(fds[1]);
    char msg[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof msg - 1 && (n = read(fds[0], msg + len, sizeof msg - 1 - len)) != 0)
        if (n > 0)
            len += (size_t)n;
        else if (errno != EINTR)
            break;
    msg[len] = '\0';
    close(fds[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        cr_assert_eq(errno, EINTR);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "scenario failed (wait status 0x%x): %s",
              (unsigned)st, msg);
}

/* What init puts in shared memory: seen by the worker processes and here. */
typedef struct shared_counts {
    atomic_uint runs[1000]; /* run_one calls per index */
    atomic_uint n_pids;
    atomic_int pids[MAX_PIDS]; /* each worker process, from its worker_init */
} shared_counts;

typedef struct istate {
    shared_counts *sh;
    int64_t crash_at, loop_at, stop_at, hog_at;
    pid_t parent; /* the process that runs the pool */
} istate;

/* In the test's own memory: finish's copy of the shared block (the
 * runtime frees the block after finish), and the calls seen here. */
static shared_counts snap;
static atomic_int finishes;

static const ws_option iso_options[] = {
    {"crash_at", WS_OPT_INT, "-1", "index that segfaults", NULL, -1, 1000},
    {"loop_at", WS_OPT_INT, "-1", "index that never returns", NULL, -1, 1000},
    {"hog_at", WS_OPT_INT, "-1", "index that allocates until malloc fails", NULL, -1, 1000},
    {"stop_at", WS_OPT_INT, "-1", "index that signals the parent, then waits for "
                                  "ws_stopping", NULL, -1, 1000},
    {NULL}};

static int i_init(ws_ctx *ctx, void **state)
{
    istate *s = calloc(1, sizeof *s);
    s->sh = ws_shared_alloc(ctx, sizeof *s->sh);
    if (!s->sh)
        return ws_fail(ctx, "ws_shared_alloc: %s", strerror(errno));
    s->crash_at = ws_opt_int(ctx, "crash_at");
    s->loop_at = ws_opt_int(ctx, "loop_at");
    s->stop_at = ws_opt_int(ctx, "stop_at");
    s->hog_at = ws_opt_int(ctx, "hog_at");
    s->parent = getpid();
    *state = s;
    return WS_OK;
}

static int i_worker_init(void *state, ws_ctx *ctx)
{
    (void)ctx;
    shared_counts *sh = ((istate *)state)->sh;
    unsigned k = atomic_fetch_add(&sh->n_pids, 1);
    if (k < MAX_PIDS)
        atomic_store(&sh->pids[k], (int)getpid());
    return WS_OK;
}

/* NULL, through a volatile read the compiler cannot see through. */
static int *volatile bad_pointer;

static int i_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)ctx;
    const istate *s = state;
    atomic_fetch_add(&s->sh->runs[index], 1);
    if ((int64_t)index == s->crash_at)
        *bad_pointer = 1; /* SIGSEGV */
    while ((int64_t)index == s->loop_at)
        pause(); /* for ever: only timeout_ms ends it */
    if ((int64_t)index == s->hog_at) {
        /* Reserved, never touched: RLIMIT_DATA counts it all the same. */
        size_t mib = 0;
        while (malloc(1u << 20) && mib < (size_t)1 << 20)
            mib++;
        return ws_fail(ctx, "malloc failed after %zu MiB", mib);
    }
    if ((int64_t)index == s->stop_at) {
        kill(s->parent, SIGUSR1); /* its handler calls ws_pool_stop */
        while (!ws_stopping(ctx))
            usleep(1000); /* until the stop reaches this worker process */
        return WS_OK; /* a long index cut short returns, as in threads */
    }
    return WS_OK;
}

static int i_finish(void *state, int run_status, ws_ctx *ctx)
{
    (void)run_status;
    (void)ctx;
    const shared_counts *sh = ((istate *)state)->sh;
    for (size_t i = 0; i < sizeof snap.runs / sizeof snap.runs[0]; i++)
        atomic_store(&snap.runs[i], atomic_load(&sh->runs[i]));
    atomic_store(&snap.n_pids, atomic_load(&sh->n_pids));
    for (size_t k = 0; k < MAX_PIDS; k++)
        atomic_store(&snap.pids[k], atomic_load(&sh->pids[k]));
    atomic_fetch_add(&finishes, 1);
    free(state); /* the shared block is the runtime's to free */
    return WS_OK;
}

static const ws_plugin isoplug = {WS_PLUGIN_HEADER_FLAGS(WS_PLUGIN_ISOLATABLE),
                                  .name = "isoplug",
                                  .version = "1",
                                  .description = "test_embed_isolate's descriptor",
                                  .options = iso_options,
                                  .init = i_init,
                                  .worker_init = i_worker_init,
                                  .run_one = i_run_one,
                                  .finish = i_finish};

/* The same without the flag: the command refuses it under --isolate. */
static const ws_plugin plainplug = {WS_PLUGIN_HEADER,
                                    .name = "plainplug",
                                    .version = "1",
                                    .description = "no WS_PLUGIN_ISOLATABLE",
                                    .options = iso_options,
                                    .init = i_init,
                                    .worker_init = i_worker_init,
                                    .run_one = i_run_one,
                                    .finish = i_finish};

static ws_pool *make_pool(unsigned jobs, uint32_t isolate, uint32_t keep_going,
                          uint64_t timeout_ms)
{
    ws_pool_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.jobs = jobs;
    o.isolate = isolate;
    o.keep_going = keep_going;
    o.timeout_ms = timeout_ms;
    ws_pool *p = ws_pool_create_with(&o);
    CHECK(p != NULL, "ws_pool_create_with: %s", strerror(errno));
    return p;
}

/* One run, its stderr (the pool prints failed indices there) in `err`. */
static ws_pool_stats c_stats;
static char err[16384];

static int run_captured(ws_pool *p, const ws_plugin *plugin, uint64_t count, const char *opt)
{
    memset(&snap, 0, sizeof snap);
    atomic_store(&finishes, 0);
    char path[] = "/tmp/wsrun-test-iso-stderr.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    const char *opts[] = {opt};
    memset(&c_stats, 0, sizeof c_stats);
    c_stats.struct_size = sizeof c_stats;
    int rc = ws_pool_run_plugin(p, plugin, count, opts, opt ? 1 : 0, &c_stats);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(fd, err, sizeof err - 1, 0);
    err[n > 0 ? n : 0] = '\0';
    close(fd);
    return rc;
}

/* The children of this process (every thread's), from /proc. */
static unsigned own_children(void)
{
    unsigned n = 0;
    DIR *d = opendir("/proc/self/task");
    CHECK(d != NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], buf[4096];
        snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n"))
            n++;
    }
    closedir(d);
    return n;
}

/* No child of this process, and none of the run's worker processes (the
 * template's children, reaped by it), exists any more. */
static void assert_no_process_left(void)
{
    CHECK(own_children() == 0, "a child of the test process is left");
    unsigned n = atomic_load(&snap.n_pids);
    CHECK(n > 0, "no worker process recorded its pid");
    for (unsigned k = 0; k < n && k < MAX_PIDS; k++) {
        int pid = atomic_load(&snap.pids[k]);
        CHECK(pid > 0 && kill(pid, 0) != 0 && errno == ESRCH, "worker process %d is left", pid);
    }
}

/* Every index of [0, count) ran exactly once (a failed one inside its one
 * call). */
static void assert_each_ran_once(uint64_t count)
{
    for (uint64_t i = 0; i < count; i++)
        CHECK(atomic_load(&snap.runs[i]) == 1, "index %llu ran %u times",
              (unsigned long long)i, atomic_load(&snap.runs[i]));
}

static unsigned s_jobs;

static void segv_fails_alone(void)
{
    ws_pool *p = make_pool(s_jobs, 1, 1, 0);
    int rc = run_captured(p, &isoplug, 40, "crash_at=13");
    const char *msg = ws_pool_error(p);
    CHECK(rc == WS_POOL_FAILED, "rc %d: %s", rc, msg);
    const char *cause = UNDER_ASAN ? "ended with exit status 1" : "killed by SIGSEGV";
    CHECK(strstr(msg, "isoplug: index 13 failed") && strstr(msg, cause), "got: %s", msg);
    /* (UBSan names the null store and halts before ASan's handler would) */
    CHECK(strstr(err, UNDER_ASAN ? "index 13 failed" : "SIGSEGV"), "stderr: %s", err);
    CHECK(c_stats.failed == 1, "%llu", (unsigned long long)c_stats.failed);
    CHECK(c_stats.done == 39, "%llu", (unsigned long long)c_stats.done);
    CHECK(c_stats.jobs == s_jobs);
    CHECK(atomic_load(&finishes) == 1);
    assert_each_ran_once(40);
    CHECK(atomic_load(&snap.n_pids) >= s_jobs, "%u", atomic_load(&snap.n_pids));
    assert_no_process_left();

    /* A second run on the same pool: a clean one. */
    rc = run_captured(p, &isoplug, 40, NULL);
    CHECK(rc == WS_POOL_OK, "second run: %s", ws_pool_error(p));
    CHECK(ws_pool_error(p)[0] == '\0');
    CHECK(c_stats.done == 40);
    assert_each_ran_once(40);
    assert_no_process_left();
    ws_pool_destroy(p);
}

Test(embed_isolate, segfault_fails_its_index_only_j1)
{
    s_jobs = 1;
    in_child(segv_fails_alone);
}

Test(embed_isolate, segfault_fails_its_index_only_j2)
{
    s_jobs = 2;
    in_child(segv_fails_alone);
}

/* Without keep_going the failure stops the run: no index runs twice, the
 * crash is still named, and nothing is left. */
static void segv_stops(void)
{
    ws_pool *p = make_pool(2, 1, 0, 0);
    int rc = run_captured(p, &isoplug, 40, "crash_at=0");
    CHECK(rc == WS_POOL_FAILED, "rc %d: %s", rc, ws_pool_error(p));
    CHECK(strstr(ws_pool_error(p), "index 0 failed"), "got: %s", ws_pool_error(p));
    for (int i = 0; i < 40; i++)
        CHECK(atomic_load(&snap.runs[i]) <= 1, "index %d ran twice", i);
    CHECK(c_stats.failed == 1);
    assert_no_process_left();
    ws_pool_destroy(p);
}

Test(embed_isolate, segfault_without_keep_going_stops_the_run)
{
    in_child(segv_stops);
}

static void timeout_kills(void)
{
    ws_pool *p = make_pool(s_jobs, 1, 1, 1500);
    int rc = run_captured(p, &isoplug, 20, "loop_at=5");
    const char *msg = ws_pool_error(p);
    CHECK(rc == WS_POOL_FAILED, "rc %d: %s", rc, msg);
    CHECK(strstr(msg, "index 5 failed") && strstr(msg, "timed out after 1.5 s"), "got: %s",
          msg);
    CHECK(c_stats.failed == 1);
    CHECK(c_stats.done == 19);
    assert_each_ran_once(20);
    assert_no_process_left();
    ws_pool_destroy(p);
}

Test(embed_isolate, timeout_kills_a_looping_index_j1)
{
    s_jobs = 1;
    in_child(timeout_kills);
}

Test(embed_isolate, timeout_kills_a_looping_index_j2)
{
    s_jobs = 2;
    in_child(timeout_kills);
}

static void flag_refused_force_runs(void)
{
    ws_pool *p = make_pool(2, 1, 0, 0);
    int rc = run_captured(p, &plainplug, 10, NULL);
    CHECK(rc == WS_POOL_REFUSED, "rc %d", rc);
    CHECK(strstr(ws_pool_error(p), "isolate: plugin plainplug is not marked isolatable "
                                   "(WS_PLUGIN_ISOLATABLE)") &&
              strstr(ws_pool_error(p), "isolate=2 runs it anyway"),
          "got: %s", ws_pool_error(p));
    CHECK(atomic_load(&finishes) == 0, "init and finish ran for a refused plugin");
    CHECK(own_children() == 0);
    ws_pool_destroy(p);

    p = make_pool(2, 2, 0, 0);
    rc = run_captured(p, &plainplug, 10, NULL);
    CHECK(rc == WS_POOL_OK, "%s", ws_pool_error(p));
    assert_each_ran_once(10);
    assert_no_process_left();
    ws_pool_destroy(p);
}

Test(embed_isolate, plugin_without_the_flag_is_refused_and_force_runs_it)
{
    in_child(flag_refused_force_runs);
}

static int release_fd = -1;

static void *blocked_thread(void *arg)
{
    (void)arg;
    char c;
    while (read(release_fd, &c, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static void other_thread_refused(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    release_fd = fds[0];
    pthread_t t;
    CHECK(pthread_create(&t, NULL, blocked_thread, NULL) == 0);
    ws_pool *p = make_pool(2, 1, 0, 0);
    int rc = run_captured(p, &isoplug, 10, NULL);
    const char *msg = ws_pool_error(p);
    CHECK(rc == WS_POOL_REFUSED, "rc %d: %s", rc, msg);
    CHECK(strstr(msg, "isolate: plugin isoplug: this process has 1 other thread after init") &&
              strstr(msg, "single-threaded"),
          "got: %s", msg);
    CHECK(atomic_load(&finishes) == 1, "finish must follow a successful init");
    CHECK(atomic_load(&snap.runs[0]) == 0, "an index ran");
    CHECK(own_children() == 0);
    /* The thread gone, the same pool runs. */
    CHECK(write(fds[1], "x", 1) == 1);
    pthread_join(t, NULL);
    rc = run_captured(p, &isoplug, 10, NULL);
    CHECK(rc == WS_POOL_OK, "%s", ws_pool_error(p));
    assert_each_ran_once(10);
    assert_no_process_left();
    ws_pool_destroy(p);
    close(fds[0]);
    close(fds[1]);
}

Test(embed_isolate, run_with_another_thread_is_refused_naming_it)
{
    in_child(other_thread_refused);
}

/* worker_memory_bytes limits the worker process an index runs in: its
 * runaway allocation fails there (the plugin reports malloc's NULL), and
 * the other indices run. */
static void memory_limit_fails_alone(void)
{
    ws_pool_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.jobs = 2;
    o.isolate = 1;
    o.keep_going = 1;
    o.worker_memory_bytes = 64 << 20;
    ws_pool *p = ws_pool_create_with(&o);
    CHECK(p != NULL, "%s", strerror(errno));
    int rc = run_captured(p, &isoplug, 20, "hog_at=3");
    const char *msg = ws_pool_error(p);
    CHECK(rc == WS_POOL_FAILED, "rc %d: %s", rc, msg);
    CHECK(strstr(msg, "index 3 failed: malloc failed after "), "got: %s", msg);
    unsigned long mib = strtoul(strstr(msg, "after ") + 6, NULL, 10);
    CHECK(mib <= 64, "the limit let %lu MiB through", mib);
    CHECK(c_stats.done == 19);
    assert_each_ran_once(20);
    assert_no_process_left();
    ws_pool_destroy(p);
}

Test(embed_isolate, worker_memory_limits_the_worker_process)
{
    if (UNDER_ASAN)
        cr_skip_test("ASan's allocator does not honour RLIMIT_DATA");
    in_child(memory_limit_fails_alone);
}

static ws_pool *stop_pool;

static void on_usr1(int sig)
{
    (void)sig;
    ws_pool_stop(stop_pool);
}

/* ws_pool_stop (from a signal handler, as a program's SIGINT handler
 * would) reaches the worker processes: the index waiting for ws_stopping
 * returns, no index starts after it, the run says it was stopped. */
static void stop_reaches_workers(void)
{
    /* One worker: index 0 holds it, so the stop comes before the rest
     * (two could finish every other index first, and a stop after every
     * index succeeded changes nothing). */
    stop_pool = make_pool(1, 1, 0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    int rc = run_captured(stop_pool, &isoplug, 1000, "stop_at=0");
    const char *msg = ws_pool_error(stop_pool);
    CHECK(rc == WS_POOL_FAILED, "rc %d: %s", rc, msg);
    CHECK(strstr(msg, "stopped by ws_pool_stop"), "got: %s", msg);
    CHECK(atomic_load(&snap.runs[0]) == 1);
    for (int i = 0; i < 1000; i++)
        CHECK(atomic_load(&snap.runs[i]) <= 1, "index %d ran twice", i);
    CHECK(c_stats.done < 1000, "%llu", (unsigned long long)c_stats.done);
    assert_no_process_left();
    ws_pool_destroy(stop_pool);
}

Test(embed_isolate, pool_stop_reaches_the_worker_processes)
{
    in_child(stop_reaches_workers);
}

static int never_called(void *arg, uint64_t index, ws_ctx *ctx)
{
    (void)arg, (void)index, (void)ctx;
    return 0;
}

Test(embed_isolate, pool_for_is_refused_on_an_isolating_pool)
{
    ws_pool *p = make_pool(1, 1, 0, 0);
    cr_assert_eq(ws_pool_for(p, 10, never_called, NULL, NULL), WS_POOL_REFUSED);
    cr_assert(strstr(ws_pool_error(p), "ws_pool_for: the pool isolates"), "got: %s",
              ws_pool_error(p));
    ws_pool_destroy(p);
}

Test(embed_isolate, option_rules)
{
    ws_pool_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.jobs = 1;
    o.timeout_ms = 1000; /* without isolate */
    errno = 0;
    cr_assert_null(ws_pool_create_with(&o));
    cr_assert_eq(errno, EINVAL);
    o.timeout_ms = 0;
    o.worker_memory_bytes = 64 << 20; /* without isolate */
    errno = 0;
    cr_assert_null(ws_pool_create_with(&o));
    cr_assert_eq(errno, EINVAL);
    o.isolate = 1;
    o.worker_memory_bytes = 1000; /* below 1 MiB */
    errno = 0;
    cr_assert_null(ws_pool_create_with(&o));
    cr_assert_eq(errno, EINVAL);
    o.worker_memory_bytes = 0;
    o.isolate = 3;
    errno = 0;
    cr_assert_null(ws_pool_create_with(&o));
    cr_assert_eq(errno, EINVAL);
    o.isolate = 1;
    o.keep_going = 2;
    errno = 0;
    cr_assert_null(ws_pool_create_with(&o));
    cr_assert_eq(errno, EINVAL);
    o.keep_going = 0;
    o.timeout_ms = UINT64_C(1000000000001);
    errno = 0;
    cr_assert_null(ws_pool_create_with(&o));
    cr_assert_eq(errno, EINVAL);
    /* A later header's longer struct: a set byte beyond ours is E2BIG. */
    struct {
        ws_pool_options known;
        uint64_t later;
    } n;
    memset(&n, 0, sizeof n);
    n.known.struct_size = sizeof n;
    n.known.isolate = 1;
    n.later = 1;
    errno = 0;
    cr_assert_null(ws_pool_create_with(&n.known));
    cr_assert_eq(errno, E2BIG);
    n.later = 0;
    ws_pool *p = ws_pool_create_with(&n.known);
    cr_assert_not_null(p);
    ws_pool_destroy(p);
    /* The struct before the isolation fields (ABI 1.4's first): plain. */
    cr_assert_eq(offsetof(ws_pool_options, isolate), 32);
    cr_assert_eq(sizeof(ws_pool_options), 56);
    memset(&o, 0, sizeof o);
    o.struct_size = 32;
    o.jobs = 1;
    p = ws_pool_create_with(&o);
    cr_assert_not_null(p);
    cr_assert_eq(ws_pool_for(p, 5, never_called, NULL, NULL), WS_POOL_OK);
    ws_pool_destroy(p);
}
