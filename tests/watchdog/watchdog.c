/*
 * watchdog.c - runs one test program of `make test` under the time limit
 * that tests/limits.txt gives it, so that a hang becomes a failure that
 * explains itself from the log alone: past the limit it prints the stacks
 * of every thread of every process in the program's tree (gdb), kills the
 * tree and names the program and, for a Criterion runner, the test cases
 * that were running.  It also fails a program that passed but printed a
 * `wsrun:` line no test captured, or that left a process behind.
 *
 * It must never let a process of the tree outlive it, never kill anything
 * outside that tree, and never change the exit status of a program that
 * finished cleanly within its limit.
 *
 *   watchdog [--criterion] [--table FILE | --limit S] [--name NAME]
 *            [--grace S] -- CMD...
 *
 * Exit: CMD's own status; 128+N when it died of signal N; 124 past the
 * limit; 1 for a stray `wsrun:` line or a process left behind; 2 for a
 * usage error (no limit for NAME in the table, CMD not found).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TREE 4096
#define MAX_INFLIGHT 64
#define LINE_MAX_LEN 8192
/* After the program exits, how long its leftovers get to be reaped (they
 * are orphans we adopted as subreaper) before they count as left behind.
 * A generous bound, never a pass condition: nothing waits for it when the
 * tree is already empty. */
static long leftover_grace_s = 30;
/* One gdb gets this long to print a process's stacks. */
#define GDB_LIMIT_S 120

static const char *prog_name;
static bool criterion;
static pid_t main_pid;
static int main_status = -1;

static char inflight[MAX_INFLIGHT][256];
static char stray_first[512];
static int stray_count;

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("watchdog: ", stdout);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first line of FILE whose pattern matches NAME gives its limit: the
 * seconds of its second column, plus 3x the seconds in the environment
 * variable its optional third column names (a soak's or fuzzer's length). */
static long limit_from_table(const char *table, const char *name)
{
    FILE *f = fopen(table, "r");
    if (!f) {
        say("cannot read the limits table %s: %s", table, strerror(errno));
        exit(2);
    }
    char line[1024];
    long found = -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        char pat[512], var[64] = "";
        long secs;
        if (line[0] == '#' || sscanf(line, "%511s %ld %63s", pat, &secs, var) < 2)
            continue;
        if (fnmatch(pat, name, 0) != 0)
            continue;
        found = secs;
        const char *run = var[0] ? getenv(var) : NULL;
        if (run)
            found += 3 * strtol(run, NULL, 10);
    }
    fclose(f);
    if (found <= 0) {
        say("%s has no limit in %s: add a line for it (about 3x its time under load, "
            "at least 300 s)", name, table);
        exit(2);
    }
    return found;
}

/* ---------------------------------------------------------------- the tree */

static pid_t parent_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: skip to the last ')'. */
    char *p = strrchr(buf, ')');
    int ppid;
    if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
        return -1;
    return ppid;
}

/* Every live descendant of this process except `skip` (a gdb of ours).
 * As child subreaper we adopt orphans, so the tree has no escapees. */
static int collect_tree(pid_t *out, int max, pid_t skip)
{
    static pid_t pids[32768], ppids[32768];
    int n = 0;
    DIR *proc = opendir("/proc");
    if (!proc)
        return 0;
    struct dirent *de;
    while (n < 32768 && (de = readdir(proc))) {
        char *end;
        long v = strtol(de->d_name, &end, 10);
        if (*end || v <= 0)
            continue;
        pid_t pp = parent_of((pid_t)v);
        if (pp < 0)
            continue;
        pids[n] = (pid_t)v;
        ppids[n++] = pp;
    }
    closedir(proc);
    int count = 0;
    pid_t self = getpid();
    /* Breadth first from ourselves. */
    pid_t frontier[MAX_TREE];
    int head = 0, tail = 0;
    frontier[tail++] = self;
    while (head < tail && count < max) {
        pid_t p = frontier[head++];
        for (int i = 0; i < n; i++) {
            if (ppids[i] != p || pids[i] == skip)
                continue;
            out[count++] = pids[i];
            if (tail < MAX_TREE)
                frontier[tail++] = pids[i];
            if (count == max)
                break;
        }
    }
    return count;
}

static void describe(pid_t pid)
{
    char path[64], cmd[1024] = "", wchan[128] = "";
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(cmd, 1, sizeof cmd - 1, f);
        fclose(f);
        for (size_t i = 0; i + 1 < n; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
        cmd[n] = '\0';
    }
    snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
    f = fopen(path, "r");
    if (f) {
        size_t n = fread(wchan, 1, sizeof wchan - 1, f);
        fclose(f);
        wchan[n] = '\0';
    }
    say("process %d (parent %d, waiting in %s): %s", (int)pid, (int)parent_of(pid),
        wchan[0] ? wchan : "?", cmd);
}

static void reap_adopted(void)
{
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0)
        if (p == main_pid)
            main_status = st;
}

/* gdb's `thread apply all bt` of one process, bounded in time. */
static void print_stacks(pid_t pid)
{
    fflush(stdout);
    pid_t g = fork();
    if (g == 0) {
        char spid[32];
        snprintf(spid, sizeof spid, "%d", (int)pid);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        dup2(1, 2);
        execlp("gdb", "gdb", "-nx", "-batch", "-p", spid, "-ex", "set pagination off",
               "-ex", "info threads", "-ex", "thread apply all bt", (char *)NULL);
        printf("watchdog: cannot run gdb (%s): install gdb to see stacks\n", strerror(errno));
        _exit(127);
    }
    if (g < 0)
        return;
    double until = now_s() + GDB_LIMIT_S;
    for (;;) {
        int st;
        pid_t r = waitpid(g, &st, WNOHANG);
        if (r == g)
            break;
        if (now_s() > until) {
            say("gdb took over %d s on process %d; killed", GDB_LIMIT_S, (int)pid);
            kill(g, SIGKILL);
            waitpid(g, &st, 0);
            break;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Kills every process of the tree until none is left. */
static void kill_tree(void)
{
    pid_t tree[MAX_TREE];
    for (int round = 0; round < 1000; round++) {
        int n = collect_tree(tree, MAX_TREE, 0);
        if (n == 0)
            return;
        for (int i = 0; i < n; i++)
            kill(tree[i], SIGKILL);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        reap_adopted();
    }
}

static void inflight_text(char *buf, size_t size)
{
    buf[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < MAX_INFLIGHT; i++) {
        if (!inflight[i][0])
            continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", inflight[i]);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
}

/* ---------------------------------------------------------------- output */

static void track_case(const char *line)
{
    /* Criterion --verbose: "[RUN ] suite::name", then "[PASS] suite::name: (0.00s)"
     * or [FAIL] / [SKIP] / [CRASH]-style ends. */
    if (strncmp(line, "[RUN ] ", 7) == 0) {
        for (int i = 0; i < MAX_INFLIGHT; i++)
            if (!inflight[i][0]) {
                /* A name longer than the slot is kept cut: it only names. */
                size_t len = strnlen(line + 7, sizeof inflight[i] - 1);
                memcpy(inflight[i], line + 7, len);
                inflight[i][len] = '\0';
                return;
            }
        return;
    }
    if (line[0] != '[' || strlen(line) < 7 || line[5] != ']')
        return;
    for (int i = 0; i < MAX_INFLIGHT; i++) {
        size_t len = strlen(inflight[i]);
        if (len && strncmp(line + 7, inflight[i], len) == 0 &&
            (line[7 + len] == ':' || line[7 + len] == '\0'))
            inflight[i][0] = '\0';
    }
}

static void handle_line(const char *line)
{
    if (criterion) {
        track_case(line);
        /* --verbose is ours, for naming the running case: keep the log as
         * Criterion prints it without. */
        if (strncmp(line, "[RUN ] ", 7) == 0 || strncmp(line, "[PASS] ", 7) == 0 ||
            strncmp(line, "[----] Criterion v", 18) == 0 || strncmp(line, "[====] Running ", 15) == 0)
            return;
    }
    if (strncmp(line, "wsrun:", 6) == 0 || strncmp(line, "wsrun-mpi:", 10) == 0) {
        if (stray_count++ == 0)
        {
            size_t len = strnlen(line, sizeof stray_first - 1);
            memcpy(stray_first, line, len);
            stray_first[len] = '\0';
        }
    }
    fputs(line, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static char pending[LINE_MAX_LEN];
static size_t pending_len;

static void feed(const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n' || pending_len == sizeof pending - 1) {
            pending[pending_len] = '\0';
            handle_line(pending);
            pending_len = 0;
            if (buf[i] == '\n')
                continue;
        }
        pending[pending_len++] = buf[i];
    }
}

static void flush_pending(void)
{
    if (pending_len) {
        pending[pending_len] = '\0';
        handle_line(pending);
        pending_len = 0;
    }
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: watchdog [--criterion] [--table FILE | --limit S] [--name NAME] "
                    "[--grace S] -- CMD...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *table = NULL;
    long limit = -1;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "--criterion") == 0) {
            criterion = true;
        } else if (strcmp(argv[i], "--table") == 0 && i + 1 < argc) {
            table = argv[++i];
        } else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            limit = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--grace") == 0 && i + 1 < argc) {
            leftover_grace_s = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            prog_name = argv[++i];
        } else {
            usage();
        }
    }
    if (i >= argc)
        usage();
    char **cmd = argv + i;
    int cmdc = argc - i;
    if (!prog_name)
        prog_name = cmd[0];
    if (limit <= 0) {
        if (!table)
            usage();
        limit = limit_from_table(table, prog_name);
    }

    /* Orphans of the tree (a forked child whose parent died) come to us,
     * so the tree can always be found, stacked and killed. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        say("cannot become a child subreaper: %s (orphans may escape)", strerror(errno));

    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, &old);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    int pfd[2];
    if (sfd < 0 || pipe2(pfd, O_CLOEXEC) != 0) {
        say("cannot set up: %s", strerror(errno));
        return 2;
    }

    char **child_argv = calloc((size_t)cmdc + 2, sizeof *child_argv);
    if (!child_argv)
        return 2;
    for (int k = 0; k < cmdc; k++)
        child_argv[k] = cmd[k];
    if (criterion)
        child_argv[cmdc] = (char *)"--verbose";

    double start = now_s();
    main_pid = fork();
    if (main_pid < 0) {
        say("cannot fork: %s", strerror(errno));
        return 2;
    }
    if (main_pid == 0) {
        setpgid(0, 0);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        sigprocmask(SIG_SETMASK, &old, NULL);
        execvp(child_argv[0], child_argv);
        fprintf(stderr, "watchdog: cannot run %s: %s\n", child_argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(main_pid, main_pid);
    close(pfd[1]);

    bool timed_out = false, pipe_open = true;
    double deadline = start + (double)limit;
    while (main_status == -1 || pipe_open) {
        double left = deadline - now_s();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        /* Once the program has ended, its pipe may be held by a leftover:
         * wait for it only as long as the leftover grace allows. */
        if (main_status != -1) {
            pid_t tree[MAX_TREE];
            if (collect_tree(tree, MAX_TREE, 0) > 0 && left > leftover_grace_s)
                deadline = now_s() + leftover_grace_s, left = leftover_grace_s;
        }
        struct pollfd fds[2] = {{sfd, POLLIN, 0}, {pipe_open ? pfd[0] : -1, POLLIN, 0}};
        int ms = left > 1.0 ? 1000 : (int)(left * 1000) + 1;
        if (poll(fds, 2, ms) < 0 && errno != EINTR)
            break;
        if (fds[1].revents) {
            char buf[4096];
            ssize_t n = read(pfd[0], buf, sizeof buf);
            if (n > 0)
                feed(buf, (size_t)n);
            else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                pipe_open = false;
        }
        if (fds[0].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP)
                    kill(-main_pid, (int)si.ssi_signo);
            }
        }
        reap_adopted();
    }
    flush_pending();
    double took = now_s() - start;

    if (timed_out && main_status == -1) {
        char cases[2048];
        inflight_text(cases, sizeof cases);
        say("%s did not finish within its limit of %ld s%s%s; the stacks of every "
            "thread of every process in its tree follow",
            prog_name, limit, cases[0] ? ", running test case(s): " : "", cases);
        pid_t tree[MAX_TREE];
        int n = collect_tree(tree, MAX_TREE, 0);
        for (int k = 0; k < n; k++)
            describe(tree[k]);
        for (int k = 0; k < n; k++) {
            say("---- stacks of process %d", (int)tree[k]);
            print_stacks(tree[k]);
        }
        kill_tree();
        say("FAILED: %s hung (limit %ld s, tests/limits.txt)%s%s; its tree was killed",
            prog_name, limit, cases[0] ? " in " : "", cases);
        return 124;
    }

    /* The program ended; what is still in its tree after the grace (orphans
     * on their way out are reaped meanwhile) was left behind. */
    pid_t tree[MAX_TREE];
    int left_behind;
    double grace_end = now_s() + leftover_grace_s;
    while ((left_behind = collect_tree(tree, MAX_TREE, 0)) > 0 && now_s() < grace_end) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        reap_adopted();
    }
    for (int k = 0; k < left_behind; k++)
        describe(tree[k]);
    if (left_behind)
        kill_tree();
    int rc;
    if (WIFSIGNALED(main_status)) {
        char cases[2048];
        inflight_text(cases, sizeof cases);
        rc = 128 + WTERMSIG(main_status);
        say("FAILED: %s was killed by signal %d (%s)%s%s", prog_name, WTERMSIG(main_status),
            strsignal(WTERMSIG(main_status)), cases[0] ? " while running " : "", cases);
        return rc;
    }
    rc = WEXITSTATUS(main_status);
    if (rc != 0)
        return rc;
    if (left_behind) {
        say("FAILED: %s passed but left %d process(es) behind (listed above; killed)", prog_name,
            left_behind);
        return 1;
    }
    if (stray_count) {
        say("FAILED: %s passed but printed %d line(s) starting with 'wsrun:' that no test "
            "captured (the first: \"%s\"): capture and check them in the test", prog_name,
            stray_count, stray_first);
        return 1;
    }
    if (getenv("WATCHDOG_TIMES"))
        say("%s passed in %.1f s (limit %ld s)", prog_name, took, limit);
    return 0;
}
