/*
 * test_failures.c - what the user sees when things go wrong, through the
 * built wsrun ($WSRUN_BUILD/wsrun): a failing index (exit 1, plugin, index,
 * worker, message), --keep-going (first 20 and the total), --retries, a
 * plugin that crashes with each fatal signal (plugin, index, signal,
 * backtrace, exit 128 + signal, never a hang), SIGINT / SIGTERM (130 /
 * 143, no partial file), a second SIGINT (at once, temporaries removed),
 * and SIGKILL in a noise run followed by --resume (files byte-identical to
 * an uninterrupted run, finished indices not run again).
 *
 * Every child runs with a deadline: a hang fails the test instead of
 * hanging it.  Never writes outside fresh folders under /tmp.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"

#define HANG_SECONDS 60

static char build[PATH_MAX];
static char wsrun[PATH_MAX + 16];
static char fixtures[PATH_MAX + 16];
static char scratch[256];
static char out_text[1 << 16], err_text[1 << 16];

static void setup(void)
{
    const char *b = getenv("WSRUN_BUILD");
    cr_assert_not_null(realpath(b ? b : "build", build), "build folder missing");
    snprintf(wsrun, sizeof wsrun, "%s/wsrun", build);
    snprintf(fixtures, sizeof fixtures, "%s/test-plugins", build);
    cr_assert_eq(access(wsrun, X_OK), 0, "%s not built", wsrun);
    snprintf(scratch, sizeof scratch, "/tmp/wsrun-test-failures.XXXXXX");
    cr_assert_not_null(mkdtemp(scratch));
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", scratch);
}

TestSuite(failures, .init = setup, .fini = teardown, .timeout = 240);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Start wsrun with `args` (NULL-terminated, without argv[0]) in folder
 * `dir` (relative to scratch); stdout and stderr go to files there. */
static pid_t start_in(const char *dir, const char *const *args)
{
    char cwd[PATH_MAX];
    snprintf(cwd, sizeof cwd, "%s/%s", scratch, dir);
    mkdir(cwd, 0777);
    const char *argv[64];
    size_t n = 0;
    argv[n++] = wsrun;
    while (*args && n < 63)
        argv[n++] = *args++;
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        char path[PATH_MAX + 32];
        if (chdir(cwd) != 0) {
            fprintf(stderr, "test harness: chdir %s: %s\n", cwd, strerror(errno));
            _exit(120);
        }
        snprintf(path, sizeof path, "%s/.stdout", scratch);
        int o = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        snprintf(path, sizeof path, "%s/.stderr", scratch);
        int e = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        int z = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || z < 0) {
            fprintf(stderr, "test harness: cannot open .stdout, .stderr or /dev/null in %s: %s\n",
                    scratch, strerror(errno));
            _exit(121);
        }
        dup2(z, 0);
        dup2(o, 1);
        dup2(e, 2);
        unsetenv("WSRUN_PLUGIN_PATH");
        execv(wsrun, (char *const *)argv);
        fprintf(stderr, "test harness: exec %s: %s\n", wsrun, strerror(errno)); /* to .stderr */
        _exit(122);
    }
    return pid;
}

static void read_text(const char *name, char *buf, size_t size)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", scratch, name);
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Wait for `pid`; its exit status, 128 + N when killed by signal N.  A
 * child still running after the deadline is killed and the test fails. */
static int finish(pid_t pid, double seconds)
{
    double deadline = now_s() + seconds;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (now_s() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            read_text(".stderr", err_text, sizeof err_text);
            cr_assert_fail("wsrun hung (killed after %.0f s); stderr: %.2000s", seconds, err_text);
        }
        sleep_ms(5);
    }
    read_text(".stdout", out_text, sizeof out_text);
    read_text(".stderr", err_text, sizeof err_text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_in(const char *dir, const char *const *args)
{
    return finish(start_in(dir, args), HANG_SECONDS);
}

#define RUN(dir, ...) run_in(dir, (const char *const[]){__VA_ARGS__, NULL})
#define START(dir, ...) start_in(dir, (const char *const[]){__VA_ARGS__, NULL})

#define assert_err_has(fragment)                                                            \
    cr_assert(strstr(err_text, fragment) != NULL, "stderr lacks '%s':\n%.3000s", fragment,   \
              err_text)
#define assert_out_has(fragment)                                                            \
    cr_assert(strstr(out_text, fragment) != NULL, "stdout lacks '%s':\n%.3000s", fragment,   \
              out_text)

static const char *fixture(const char *name)
{
    static char path[8][PATH_MAX + 64];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, PATH_MAX + 64, "%s/%s.so", fixtures, name);
    return p;
}

static int count_occurrences(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* Files in scratch/dir: visible ones (count, and the number whose size
 * is not `want_size` when want_size > 0) and hidden ones (names starting
 * with '.'), whose names are copied into `hidden` if given. */
typedef struct dir_census {
    int visible, wrong_size, hidden;
    char hidden_names[2048];
} dir_census;

static dir_census census(const char *dir, off_t want_size)
{
    dir_census c;
    memset(&c, 0, sizeof c);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", scratch, dir);
    DIR *d = opendir(path);
    cr_assert_not_null(d, "%s", path);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (e->d_name[0] == '.') {
            c.hidden++;
            size_t used = strlen(c.hidden_names);
            snprintf(c.hidden_names + used, sizeof c.hidden_names - used, "%s ", e->d_name);
            continue;
        }
        c.visible++;
        if (want_size > 0) {
            char file[PATH_MAX * 2];
            struct stat st;
            snprintf(file, sizeof file, "%s/%s", path, e->d_name);
            if (stat(file, &st) != 0 || st.st_size != want_size)
                c.wrong_size++;
        }
    }
    closedir(d);
    return c;
}

static off_t size_of(const char *dir, const char *name)
{
    char path[PATH_MAX * 2];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/%s", scratch, dir, name);
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* ----------------------------------------------------- failing tasks */

Test(failures, failing_index_exits_1_naming_plugin_index_worker_and_reason)
{
    int rc = RUN("a", "-p", fixture("failat"), "-n", "100", "-o", "at=37", "-j", "2");
    cr_assert_eq(rc, 1, "%s", err_text);
    assert_err_has("wsrun: failat: index 37 failed (worker ");
    assert_err_has("): deliberate failure at index 37");
    assert_out_has("failat: finish status=1");
}

Test(failures, keep_going_prints_the_first_20_and_the_total)
{
    int rc = RUN("a", "-p", fixture("failat"), "-n", "100", "-o", "every=2", "--keep-going", "-j",
                 "2");
    cr_assert_eq(rc, 1);
    cr_assert_eq(count_occurrences(err_text, "wsrun: failat: index "), 20, "%s", err_text);
    assert_err_has("wsrun: 50 of 100 tasks failed (the first 20 are shown above)");
    assert_out_has("calls=100");
}

Test(failures, retries_recover_a_flaky_index)
{
    int rc = RUN("a", "-p", fixture("crash"), "-n", "10", "-o", "at=5", "-o", "how=flaky", "-o",
                 "attempts=2", "--retries", "2", "-j", "2");
    cr_assert_eq(rc, 0, "%s", err_text);
    assert_out_has("crash: finish status=0 calls_at=3");
    cr_assert_null(strstr(err_text, "failed"), "%s", err_text);
}

Test(failures, retries_exhausted_count_as_a_failure)
{
    int rc = RUN("a", "-p", fixture("crash"), "-n", "10", "-o", "at=5", "-o", "how=flaky", "-o",
                 "attempts=3", "--retries", "2", "-j", "1");
    cr_assert_eq(rc, 1);
    assert_err_has("wsrun: crash: index 5 failed (worker 0): flaky failure 3 of 3 at index 5");
    assert_out_has("calls_at=3");
}

/* --------------------------------------------------- crashing plugins */

static void check_crash(const char *how, int sig, const char *name_and_meaning,
                        const char *jobs)
{
    char how_opt[32];
    snprintf(how_opt, sizeof how_opt, "how=%s", how);
    /* RUN's hang guard fails a crash that does not end the process. */
    int rc = RUN("a", "-p", fixture("crash"), "-n", "200", "-o", "at=123", "-o", how_opt, "-j",
                 jobs);
    cr_assert_eq(rc, 128 + sig, "how=%s: exit %d, want %d; stderr:\n%.3000s", how, rc, 128 + sig,
                 err_text);
    assert_err_has("wsrun: crash: index 123 (worker ");
    assert_err_has(name_and_meaning);
    assert_err_has("wsrun: backtrace (most recent call first):");
    assert_err_has("/crash.so("); /* a frame in the plugin */
    char status_line[64];
    snprintf(status_line, sizeof status_line, "wsrun: exiting with status %d", 128 + sig);
    assert_err_has(status_line);
    cr_assert_null(strstr(out_text, "finish"), "finish must not run after a crash");
}

Test(failures, segv_is_reported_with_index_signal_and_backtrace)
{
    check_crash("segv", SIGSEGV, "fatal signal SIGSEGV (Segmentation fault) at address 0x0", "2");
}

/* Issue 23 item 8: glibc's backtrace_symbols_fd calls dladdr, which takes
 * the loader's lock; with another thread inside dlopen the report sat out
 * the 10 s alarm without its backtrace.  The report must not need it. */
Test(failures, crash_while_another_thread_holds_the_loader_lock_is_reported)
{
    check_crash("locked", SIGSEGV, "fatal signal SIGSEGV (Segmentation fault) at address 0x0", "2");
}

/* Issue 23 item 8: a crash in a stolen fork-join task names the index
 * the task belongs to (0, spawned by worker 0's run_one), not what its
 * thief was doing (nothing: "between indices", or an index it waits in). */
Test(failures, crash_in_a_stolen_task_names_the_tasks_index)
{
    int rc = RUN("a", "-p", fixture("crash"), "-n", "1", "-o", "at=0", "-o", "how=stolen", "-j",
                 "2");
    cr_assert_eq(rc, 128 + SIGSEGV, "exit %d; stderr:\n%.3000s", rc, err_text);
    assert_err_has("wsrun: crash: index 0 (worker 1): fatal signal SIGSEGV");
}

Test(failures, abort_is_reported)
{
    check_crash("abort", SIGABRT, "fatal signal SIGABRT (Aborted)", "2");
}

Test(failures, integer_division_by_zero_is_reported)
{
    check_crash("fpe", SIGFPE, "fatal signal SIGFPE (Floating-point exception: integer divide by zero)",
                "1");
}

Test(failures, illegal_instruction_is_reported)
{
    check_crash("ill", SIGILL, "fatal signal SIGILL (Illegal instruction)", "2");
}

Test(failures, bus_error_is_reported)
{
    check_crash("bus", SIGBUS, "fatal signal SIGBUS (Bus error)", "2");
}

Test(failures, stack_overflow_on_a_worker_is_reported)
{
    check_crash("stack", SIGSEGV, "fatal signal SIGSEGV (Segmentation fault)", "2");
    assert_err_has(": stack overflow (a worker's stack is 64 MiB)\n");
}

/* Surely on worker 1's thread (its worker_init): that thread has the
 * alternate signal stack only because the command gave its crash set-up
 * to the pool as the thread-start hook (pool.h); without it the kernel
 * would kill wsrun with no report. */
Test(failures, stack_overflow_on_a_worker_thread_is_reported)
{
    int rc = RUN("a", "-p", fixture("crash"), "-n", "200", "-o", "where=worker_init", "-o", "at=1",
                 "-o", "how=stack", "-j", "2");
    cr_assert_eq(rc, 128 + SIGSEGV, "exit %d; stderr:\n%.3000s", rc, err_text);
    assert_err_has("wsrun: crash: in worker_init (worker 1): fatal signal SIGSEGV");
    assert_err_has(": stack overflow (a worker's stack is 64 MiB)\n");
}

Test(failures, a_null_write_is_no_stack_overflow)
{
    check_crash("segv", SIGSEGV, "at address 0x0\n", "1");
    cr_assert_null(strstr(err_text, "stack overflow"), "stderr:\n%s", err_text);
}

/* Under the backtrace, one addr2line command for the plugin's frames,
 * with the same offsets as the backtrace's "crash.so(+0x...)" frames. */
Test(failures, crash_report_gives_an_addr2line_command)
{
    check_crash("abort", SIGABRT, "fatal signal SIGABRT (Aborted)", "1");
    char want[PATH_MAX + 128];
    snprintf(want, sizeof want, "wsrun: plugin functions and lines: addr2line -f -e %s 0x",
             fixture("crash"));
    const char *line = strstr(err_text, want);
    cr_assert_not_null(line, "no '%s' in:\n%s", want, err_text);
    const char *offsets = line + strlen(want) - 2, *end = strchr(line, '\n');
    cr_assert_not_null(end);
    int n = 0;
    while (offsets < end) {
        char frame[64];
        size_t len = strcspn(offsets, " \n");
        snprintf(frame, sizeof frame, "/crash.so(+%.*s)", (int)len, offsets);
        cr_assert_not_null(strstr(err_text, frame), "%s is no backtrace frame:\n%s", frame,
                           err_text);
        n++;
        offsets += len + 1;
    }
    cr_assert_geq(n, 2, "crash_now and its caller at least:\n%s", err_text);
}

/* A plugin path the shell would split is quoted, so the line still runs. */
Test(failures, addr2line_command_quotes_a_path_with_a_space)
{
    char cmd[PATH_MAX * 3];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/q/sp ace' && cp '%s' '%s/q/sp ace/crash.so'", scratch,
             fixture("crash"), scratch);
    cr_assert_eq(system(cmd), 0);
    int rc = RUN("q", "-p", "./sp ace/crash.so", "-n", "10", "-o", "at=3", "-o", "how=abort",
                 "-j", "1");
    cr_assert_eq(rc, 128 + SIGABRT, "stderr:\n%s", err_text);
    assert_err_has("wsrun: plugin functions and lines: addr2line -f -e './sp ace/crash.so' 0x");
}

Test(failures, a_failure_without_a_message_says_how_to_give_one)
{
    int rc = RUN("i", "-p", fixture("crash"), "-n", "5", "-o", "where=init", "-o", "how=silent");
    cr_assert_eq(rc, 2, "stderr:\n%s", err_text);
    assert_err_has("wsrun: crash: init failed: (the plugin gave no message: return "
                   "ws_fail(ctx, \"...\") gives one)\n");
    rc = RUN("r", "-p", fixture("crash"), "-n", "5", "-o", "at=3", "-o", "how=silent", "-j", "1");
    cr_assert_eq(rc, 1, "stderr:\n%s", err_text);
    assert_err_has("wsrun: crash: index 3 failed (worker 0): failed (the plugin gave no "
                   "message: return ws_fail(ctx, \"...\") gives one)\n");
}

/* At -j1 the only worker is worker 0, which runs on the main thread, on
 * the deep stack of its own (runtime/sched/own_stack.c): its guard page must
 * fault and be reported like any worker's. */
Test(failures, stack_overflow_on_worker_0_is_reported)
{
    check_crash("stack", SIGSEGV, "fatal signal SIGSEGV (Segmentation fault)", "1");
    assert_err_has("wsrun: crash: index 123 (worker 0)");
    assert_err_has(": stack overflow (a worker's stack is 64 MiB)\n");
}

Test(failures, crash_in_init_or_finish_names_the_phase)
{
    int rc = RUN("a", "-p", fixture("crash"), "-n", "5", "-o", "where=init");
    cr_assert_eq(rc, 128 + SIGSEGV);
    assert_err_has("wsrun: crash: in init (main thread): fatal signal SIGSEGV");
    rc = RUN("a", "-p", fixture("crash"), "-n", "5", "-o", "where=finish", "-o", "how=abort");
    cr_assert_eq(rc, 128 + SIGABRT);
    assert_err_has("wsrun: crash: in finish (main thread): fatal signal SIGABRT");
}

/* ----------------------------------------- a plugin that calls exit() */

/* exit() from a callback would end wsrun with the plugin's status (0 for
 * exit(0)), no finish, no word and the reports' temporaries left behind:
 * wsrun names the callback and exits 3, leaving nothing in the folder. */
static void check_exit(const char *dir, const char *where, const char *at, const char *jobs,
                       const char *line)
{
    char where_opt[32], at_opt[32];
    snprintf(where_opt, sizeof where_opt, "where=%s", where);
    snprintf(at_opt, sizeof at_opt, "at=%s", at);
    int rc = RUN(dir, "-p", fixture("crash"), "-n", "50", "-o", "how=exit", "-o", where_opt,
                 "-o", at_opt, "-j", jobs, "--stats-json", "s.json", "--trace", "t.json");
    cr_assert_eq(rc, 3, "where=%s: exit %d, want 3; stderr:\n%.3000s", where, rc, err_text);
    assert_err_has(line);
    cr_assert_eq(count_occurrences(err_text, "wsrun: "), 1, "one line only:\n%s", err_text);
    dir_census c = census(dir, 0);
    cr_assert_eq(c.visible + c.hidden, 0, "left in the folder: %d files, hidden: %s", c.visible,
                 c.hidden_names);
}

Test(failures, exit_in_run_one_names_the_index_and_removes_temporaries)
{
    check_exit("r1", "run", "5", "1",
               "wsrun: crash: called exit(0) in run_one at index 5 (worker 0): exiting with "
               "status 3");
    cr_assert_null(strstr(out_text, "finish"), "finish must not run after exit()");
    check_exit("r2", "run", "37", "2", "wsrun: crash: called exit(0) in run_one at index 37 (worker ");
}

Test(failures, exit_in_other_callbacks_names_the_callback)
{
    check_exit("i", "init", "0", "2", "wsrun: crash: called exit(0) in init: exiting with status 3");
    check_exit("f", "finish", "0", "2",
               "wsrun: crash: called exit(0) in finish: exiting with status 3");
    check_exit("wi", "worker_init", "1", "2",
               "wsrun: crash: called exit(0) in worker_init (worker 1): exiting with status 3");
    check_exit("wf", "worker_fini", "0", "2",
               "wsrun: crash: called exit(0) in worker_fini (worker 0): exiting with status 3");
}

Test(failures, exit_status_of_the_plugin_is_named)
{
    int rc = RUN("s", "-p", fixture("crash"), "-n", "10", "-o", "how=exit", "-o", "status=7",
                 "-o", "at=2");
    cr_assert_eq(rc, 3);
    assert_err_has("wsrun: crash: called exit(7) in run_one at index 2 (worker 0)");
}

/* The guard must leave ordinary endings alone. */
Test(failures, exit_guard_leaves_normal_exits_alone)
{
    int rc = RUN("ok", "-p", fixture("crash"), "-n", "10", "-o", "at=-1", "--stats-json", "s.json");
    cr_assert_eq(rc, 0, "stderr:\n%s", err_text);
    cr_assert_eq(err_text[0], '\0', "stderr:\n%s", err_text);
    rc = RUN("fail", "-p", fixture("crash"), "-n", "10", "-o", "at=3", "-o", "how=flaky",
             "-o", "attempts=1");
    cr_assert_eq(rc, 1, "stderr:\n%s", err_text);
    cr_assert_null(strstr(err_text, "exit("), "stderr:\n%s", err_text);
}

Test(failures, journal_survives_a_crash)
{
    /* One worker runs 0, 1, 2, ... in order: 0..499 are done when 500
     * crashes, most of them still in the worker's unflushed batch. */
    int rc = RUN("a", "-p", fixture("crash"), "-n", "1000", "-o", "at=500", "-j", "1",
                 "--journal", "j");
    cr_assert_eq(rc, 128 + SIGSEGV, "%s", err_text);
    rc = RUN("a", "-p", fixture("crash"), "-n", "1000", "-o", "at=500", "-j", "1", "--journal",
             "j", "--resume");
    assert_err_has("wsrun: crash: resuming from journal j: 500 of 1000 indices already done");
    cr_assert_eq(rc, 128 + SIGSEGV); /* 500 still crashes: the fixture is deterministic */
}

/* -------------------------------------------------------- interrupts */

/* Wait until scratch/dir holds a file whose name starts with `prefix`. */
static int wait_for_file(const char *dir, const char *prefix, double seconds);

static void check_interrupt(int sig, int want_rc, const char *name)
{
    /* The signal goes once an index runs (the fixture's ready file), and
     * the indices wait for the stop (hold): no clock decides the outcome. */
    char ready[PATH_MAX + 16];
    snprintf(ready, sizeof ready, "ready=%s/a/ready", scratch);
    pid_t pid = START("a", "-p", fixture("failat"), "-n", "100000", "-o", ready, "-o",
                      "hold=true", "-j", "2");
    cr_assert(wait_for_file("a", "ready", HANG_SECONDS), "no index started");
    kill(pid, sig);
    int rc = finish(pid, 20);
    cr_assert_eq(rc, want_rc, "%s", err_text);
    char line[128];
    snprintf(line, sizeof line, "wsrun: %s: stopping after the running tasks", name);
    assert_err_has(line);
    snprintf(line, sizeof line, "wsrun: failat: interrupted by %s: ", name);
    assert_err_has(line);
    assert_err_has(" of 100000 indices done");
    assert_out_has("failat: finish status=1");
}

Test(failures, sigint_stops_the_run_with_130)
{
    check_interrupt(SIGINT, 130, "SIGINT");
}

Test(failures, sigterm_stops_the_run_with_143)
{
    check_interrupt(SIGTERM, 143, "SIGTERM");
}

/* Wait until scratch/dir holds a file whose name starts with `prefix`. */
static int wait_for_file(const char *dir, const char *prefix, double seconds)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", scratch, dir);
    double deadline = now_s() + seconds;
    while (now_s() < deadline) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)))
            if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
                closedir(d);
                return 1;
            }
        if (d)
            closedir(d);
        sleep_ms(2);
    }
    return 0;
}

/* Whether process `pid` holds an output being written in `dir`: an
 * anonymous file (O_TMPFILE, its /proc link ends "(deleted)") or a named
 * temporary (".NAME.tmp."). */
static int wait_for_output_open(pid_t pid, const char *dir, double seconds)
{
    char fds[64], want[PATH_MAX], link[PATH_MAX * 2], target[PATH_MAX];
    snprintf(fds, sizeof fds, "/proc/%d/fd", (int)pid);
    snprintf(want, sizeof want, "%s/%s/", scratch, dir);
    double deadline = now_s() + seconds;
    while (now_s() < deadline) {
        DIR *d = opendir(fds);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            snprintf(link, sizeof link, "%s/%s", fds, e->d_name);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            if (strncmp(target, want, strlen(want)) == 0 &&
                (strstr(target, "(deleted)") || strstr(target, ".tmp."))) {
                closedir(d);
                return 1;
            }
        }
        if (d)
            closedir(d);
        sleep_ms(2);
    }
    return 0;
}

/* Wait until scratch/name contains `text`. */
static int wait_for_text(const char *name, const char *text, double seconds)
{
    static char buf[1 << 16];
    double deadline = now_s() + seconds;
    while (now_s() < deadline) {
        read_text(name, buf, sizeof buf);
        if (strstr(buf, text))
            return 1;
        sleep_ms(2);
    }
    return 0;
}

Test(failures, interrupt_leaves_only_whole_files)
{
    /* Each index writes half its file, then waits for the stop, then
     * writes the rest and renames it (the fixture's write= and hold): the
     * interrupt always lands mid-file, and the run can end only by it. */
    char ready[PATH_MAX + 16];
    snprintf(ready, sizeof ready, "ready=%s/ready", scratch);
    pid_t pid = START("a", "-p", fixture("failat"), "-n", "3000", "-o", "write=image_", "-o",
                      "hold=true", "-o", ready, "-j", "2");
    cr_assert(wait_for_file(".", "ready", HANG_SECONDS), "no index started");
    cr_assert(wait_for_output_open(pid, "a", HANG_SECONDS), "no output was being written");
    kill(pid, SIGINT);
    int rc = finish(pid, HANG_SECONDS);
    cr_assert_eq(rc, 130, "%s", err_text);
    unsigned long long done = 0;
    const char *p = strstr(err_text, "interrupted by SIGINT: ");
    cr_assert_not_null(p, "%s", err_text);
    cr_assert_eq(sscanf(p, "interrupted by SIGINT: %llu of 3000", &done), 1);
    dir_census c = census("a", 65536); /* the fixture's FILE_BYTES */
    cr_assert_eq(c.hidden, 0, "temporaries left: %s", c.hidden_names);
    cr_assert_eq(c.wrong_size, 0, "%d partial files", c.wrong_size);
    cr_assert_eq((unsigned long long)c.visible, done, "%d files for %llu indices done", c.visible,
                 done);
    cr_assert(done >= 1 && done <= 2, "%llu done: only the 2 running indices may finish", done);
}

Test(failures, second_sigint_exits_at_once_and_removes_temporaries)
{
    /* Each index opens its temporary and never ends (the fixture's
     * stuck): after the first SIGINT the run waits for them for ever, so
     * only the second can end it, and it must remove the temporaries. */
    pid_t pid = START("a", "-p", fixture("failat"), "-n", "8", "-o", "write=image_", "-o",
                      "stuck=true", "-j", "2");
    cr_assert(wait_for_output_open(pid, "a", HANG_SECONDS), "no output was being written");
    kill(pid, SIGINT);
    /* The second one once wsrun has taken the first (its message). */
    cr_assert(wait_for_text(".stderr", "stopping after the running tasks", HANG_SECONDS),
              "the first SIGINT was not acknowledged");
    kill(pid, SIGINT);
    int rc = finish(pid, HANG_SECONDS); /* a hang guard: the tasks never end by themselves */
    cr_assert_eq(rc, 130, "%s", err_text);
    assert_err_has("wsrun: second SIGINT: exiting at once with status 130");
    dir_census c = census("a", 0);
    cr_assert_eq(c.hidden, 0, "temporaries left: %s", c.hidden_names);
    cr_assert_eq(c.visible, 0, "a file was finished: the tasks never end");
}

/* ---------------------------------------------------- journal, resume */

static uint64_t journal_done(const char *dir, const char *name, uint64_t count, uint64_t *ignored)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s/%s", scratch, dir, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static unsigned char data[1 << 22];
    size_t len = fread(data, 1, sizeof data, f);
    fclose(f);
    const unsigned char *nl = memchr(data, '\n', len);
    cr_assert_not_null(nl);
    /* The key is the journal's own header: this checks records, not the
     * header (the resume tests check that). */
    wsrt_journal_key key;
    memset(&key, 0, sizeof key);
    key.header_len = (size_t)(nl - data) + 1;
    key.header = (char *)data;
    const char *id = strstr((const char *)data, " id=");
    const char *plugin = strstr((const char *)data, " plugin=");
    const char *options = strstr((const char *)data, " options=");
    cr_assert(id && plugin && options);
    key.id = strtoull(id + 4, NULL, 16);
    key.count = count;
    char plugin_name[64] = "", seed_text[32];
    sscanf(plugin + 8, "%63s", plugin_name);
    key.plugin = plugin_name;
    const char *seed = strstr((const char *)data, " seed=");
    sscanf(seed + 6, "%31s", seed_text);
    key.seed = strtoull(seed_text, NULL, 10);
    char options_text[1024] = "";
    sscanf(options + 9, "%1023s", options_text);
    key.options = options_text;
    uint64_t *bits = calloc((count + 63) / 64, 8);
    wsrt_journal_scan scan;
    char err[1024];
    cr_assert_eq(wsrt_journal_scan_data(data, len, &key, bits, &scan, err, sizeof err), 0, "%s",
                 err);
    free(bits);
    *ignored = scan.ignored;
    return scan.done;
}

static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            same = 0;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* Whether journal scratch/name holds at least `want` whole records. */
static int journal_has_records(const char *name, uint64_t want)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", scratch, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static unsigned char data[1 << 20];
    size_t len = fread(data, 1, sizeof data, f);
    fclose(f);
    const unsigned char *nl = memchr(data, '\n', len);
    return nl && (len - (size_t)(nl - data) - 1) / WSRT_JOURNAL_RECORD >= want;
}

Test(failures, sigkill_then_resume_gives_identical_files_without_redoing_work)
{
    /* holdwrite's indices >= HOLD_FROM stop half-way while scratch/hold
     * exists: every index below it finishes, none above it does, and each
     * worker's last partial batch (under WSRT_JOURNAL_BATCH records) is never
     * written, so the journal reaches HOLD_FROM - JOBS * BATCH records and
     * stays below HOLD_FROM: the kill lands there, whatever the speed. */
    enum { JOBS = 2, HOLD_FROM = 8 * WSRT_JOURNAL_BATCH, COUNT = 2 * HOLD_FROM };
    char count_text[32], hold_text[64];
    snprintf(count_text, sizeof count_text, "%d", COUNT);
    snprintf(hold_text, sizeof hold_text, "hold_from=%d", HOLD_FROM);
#define HOLD_ARGS "-p", fixture("holdwrite"), "-n", count_text, "-o", hold_text, "-o", \
                  "hold_file=../hold", "-j", "2"
    /* The reference, unheld: no hold file yet (same options as the rest). */
    cr_assert_eq(RUN("ref", HOLD_ARGS), 0, "%s", err_text);

    char hold[PATH_MAX];
    snprintf(hold, sizeof hold, "%s/hold", scratch);
    FILE *h = fopen(hold, "w");
    cr_assert_not_null(h);
    fclose(h);
    pid_t pid = START("run", HOLD_ARGS, "--journal", "../j");
    double deadline = now_s() + HANG_SECONDS; /* a hang guard only */
    while (!journal_has_records("j", HOLD_FROM - JOBS * WSRT_JOURNAL_BATCH)) {
        cr_assert(now_s() < deadline, "the journal never reached its records");
        sleep_ms(2);
    }
    kill(pid, SIGKILL);
    int rc = finish(pid, HANG_SECONDS);
    cr_assert_eq(rc, 128 + SIGKILL, "the run ended before the kill (rc %d)", rc);
    cr_assert_eq(unlink(hold), 0);

    uint64_t ignored;
    uint64_t recorded = journal_done(".", "j", COUNT, &ignored);
    cr_assert(recorded >= HOLD_FROM - JOBS * WSRT_JOURNAL_BATCH && recorded <= HOLD_FROM,
              "journal holds %llu", (unsigned long long)recorded);
    cr_assert_eq(ignored, 0);

    rc = RUN("run", HOLD_ARGS, "--journal", "../j", "--resume", "--stats");
    cr_assert_eq(rc, 0, "%s", err_text);
    char line[160];
    snprintf(line, sizeof line, "resuming from journal ../j: %llu of %d indices already done",
             (unsigned long long)recorded, COUNT);
    assert_err_has(line);
    /* The resumed run ran exactly the indices the journal lacked. */
    snprintf(line, sizeof line, "%d indices (%llu ok, 0 failed)", COUNT,
             (unsigned long long)(COUNT - recorded));
    assert_err_has(line);
    /* Every index on record once: none was done twice. */
    uint64_t after = journal_done(".", "j", COUNT, &ignored);
    cr_assert_eq(after, COUNT);
    cr_assert_eq(ignored, 0, "%llu indices recorded twice", (unsigned long long)ignored);

    /* The files: the same names, the same bytes. */
    dir_census ref = census("ref", 0), run = census("run", 0);
    cr_assert_eq(run.visible, COUNT);
    cr_assert_eq(ref.visible, COUNT);
    for (int i = 0; i < COUNT; i++) {
        char a[PATH_MAX + 64], b[PATH_MAX + 64];
        snprintf(a, sizeof a, "%s/ref/data_%d.dat", scratch, i);
        snprintf(b, sizeof b, "%s/run/data_%d.dat", scratch, i);
        cr_assert(same_file(a, b), "data_%d.dat differs", i);
    }
    /* SIGKILL cannot be caught: only the killed process's temporaries of
     * its last tasks may remain (docs/failures.md says how to remove them). */
    cr_assert(run.hidden <= JOBS, "hidden files: %s", run.hidden_names);
    char killed[32];
    snprintf(killed, sizeof killed, ".tmp.%d.", (int)pid);
    for (char *name = strtok(run.hidden_names, " "); name; name = strtok(NULL, " "))
        cr_assert(strncmp(name, ".data_", 6) == 0 && strstr(name, killed),
                  "unexpected hidden file %s", name);
#undef HOLD_ARGS
}

Test(failures, resume_refuses_another_commands_journal)
{
    cr_assert_eq(RUN("a", "-p", "noise", "-n", "10", "--journal", "j"), 0, "%s", err_text);
    int rc = RUN("a", "-p", "noise", "-n", "11", "--journal", "j", "--resume");
    cr_assert_eq(rc, 2);
    assert_err_has("wsrun: --resume: journal j was written by another command: --count 10 there, 11 here");
    rc = RUN("a", "-p", "noise", "-n", "10", "-o", "width=64", "--journal", "j", "--resume");
    cr_assert_eq(rc, 2);
    assert_err_has("-o width=100 there, width=64 here");
    rc = RUN("a", "-p", "noise", "-n", "10", "--seed", "5", "--journal", "j", "--resume");
    cr_assert_eq(rc, 2);
    assert_err_has("--seed 0 there, 5 here");
}

Test(failures, resume_of_a_finished_run_runs_nothing)
{
    cr_assert_eq(RUN("a", "-p", "noise", "-n", "10", "--journal", "j"), 0);
    int rc = RUN("a", "-p", "noise", "-n", "10", "--journal", "j", "--resume", "--stats");
    cr_assert_eq(rc, 0, "%s", err_text);
    assert_err_has("10 of 10 indices already done");
    assert_err_has("10 indices (0 ok, 0 failed)");
}

Test(failures, journal_misuse_is_refused)
{
    cr_assert_eq(RUN("a", "-p", "noise", "-n", "10", "--journal", "j"), 0);
    cr_assert_eq(RUN("a", "-p", "noise", "-n", "10", "--journal", "j"), 2);
    assert_err_has("wsrun: --journal j: already exists; add --resume");
    cr_assert_eq(RUN("a", "-p", "noise", "-n", "10", "--resume"), 2);
    assert_err_has("wsrun: --resume needs --journal FILE");
    cr_assert_eq(RUN("a", "-p", "fill", "-n", "3", "-o", "output=x.npy", "-o", "source=index",
                     "-o", "width=2", "-o", "height=2", "--journal", "k"),
                 2);
    assert_err_has("plugin fill cannot be resumed");
    cr_assert_eq(size_of("a", "k"), -1, "a refused journal was created");
    cr_assert_eq(size_of("a", "x.npy"), -1, "fill left its output after refusing");
}
