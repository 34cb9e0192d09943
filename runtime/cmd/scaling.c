/*
 * scaling.c - `wsrun --scaling LIST [--repeat R]` (scaling.h): runs the
 * same wsrun command once at each -j of LIST per round, rounds interleaved
 * (round 1 at every -j, then round 2, ...) so drift in the machine's speed
 * hits every -j alike.  Each run is a fresh process (/proc/self/exe with the
 * same arguments), so plugins with static state work; it reports its
 * parallel span through a pipe named in its environment, and its stdout is
 * captured and hashed, never shown.
 *
 * Must never show a figure from a run that failed or was interrupted, never
 * start a run after a failure or an interrupt, and never leave a CSV, plot
 * or kept output under its final name unless the whole study completed.
 */
#include "scaling.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crash.h"
#include "options.h"
#include "report.h"
#include "run.h"
#include "placement.h"

extern char **environ;

/* ------------------------------------------------------------ the machine */

static void read_cpu_model(char *buf, size_t size)
{
    snprintf(buf, size, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        colon += 1 + (colon[1] == ' ');
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(buf, size, "%s", colon);
        break;
    }
    fclose(f);
}

static double load_average(void)
{
    double load;
    return getloadavg(&load, 1) == 1 ? load : -1.0;
}

/* ------------------------------------------------------------ signals */

static volatile sig_atomic_t interrupted_by;
static volatile sig_atomic_t running_child;

/* A signal sent to this process alone (kill, raise: si_code <= 0) is passed
 * on to the running child; Ctrl-C at a terminal reaches it already. */
static void on_interrupt(int sig, siginfo_t *info, void *context)
{
    (void)context;
    if (!interrupted_by)
        interrupted_by = sig;
    pid_t child = (pid_t)running_child;
    if (child > 0 && info && info->si_code <= 0)
        kill(child, sig);
}

static void catch_interrupts(struct sigaction *saved_int, struct sigaction *saved_term)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_interrupt;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, saved_int);
    sigaction(SIGTERM, &sa, saved_term);
}

/* ------------------------------------------------------------ one run */

typedef struct run_outcome {
    int started, exited, code, signo, reported;
    int start_errno; /* why it did not start */
} run_outcome;

/* environ without WSRUN_SCALING_CHILD, plus ours ("<fd>,<jobs>"). */
static char **child_environment(int report_fd, unsigned jobs, char *entry, size_t entry_size)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env)
        return NULL;
    size_t used = 0;
    size_t name_len = strlen(WSRT_SCALING_CHILD_ENV);
    for (size_t k = 0; k < n; k++)
        if (!(strncmp(environ[k], WSRT_SCALING_CHILD_ENV, name_len) == 0 &&
              environ[k][name_len] == '='))
            env[used++] = environ[k];
    snprintf(entry, entry_size, "%s=%d,%u", WSRT_SCALING_CHILD_ENV, report_fd, jobs);
    env[used] = entry;
    return env;
}

static uint64_t fnv1a(uint64_t hash, const unsigned char *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        hash = (hash ^ p[k]) * 0x100000001b3ULL;
    return hash;
}

static int parse_report(const char *text, wsrt_scaling_run *run)
{
    unsigned long long wall, cpu, steals, parked;
    char tail;
    if (sscanf(text, "wsrun-scaling-1 %llu %llu %llu %llu%c", &wall, &cpu, &steals, &parked,
               &tail) != 5 || tail != '\n')
        return -1;
    run->span_s = (double)wall / 1e9;
    run->cpu_s = (double)cpu / 1e9;
    run->steals = steals;
    run->parked_ms = (double)parked / 1e6;
    return 0;
}

/* Read the child's stdout (hashed, and copied to keep when not NULL) and
 * its report until both pipes end. */
static void collect(int out_fd, int report_fd, wsrt_scaling_run *run, FILE *keep, char *report,
                    size_t report_size)
{
    struct pollfd fds[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = report_fd, .events = POLLIN}};
    size_t report_len = 0;
    unsigned char buf[65536];
    run->output_hash = 0xcbf29ce484222325ULL;
    run->output_bytes = 0;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int k = 0; k < 2; k++) {
            if (fds[k].fd < 0 || !fds[k].revents)
                continue;
            ssize_t n = read(fds[k].fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(fds[k].fd);
                fds[k].fd = -1;
                continue;
            }
            if (k == 0) {
                run->output_hash = fnv1a(run->output_hash, buf, (size_t)n);
                run->output_bytes += (uint64_t)n;
                if (keep)
                    fwrite(buf, 1, (size_t)n, keep);
            } else {
                size_t room = report_size - 1 - report_len;
                size_t take = (size_t)n < room ? (size_t)n : room;
                memcpy(report + report_len, buf, take);
                report_len += take;
            }
        }
    }
    report[report_len] = '\0';
}

static void run_once(char **argv, unsigned jobs, wsrt_scaling_run *run, FILE *keep,
                     run_outcome *o)
{
    memset(o, 0, sizeof *o);
    int out_pipe[2], report_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) {
        o->start_errno = errno;
        return;
    }
    if (pipe2(report_pipe, O_CLOEXEC) != 0) {
        o->start_errno = errno;
        close(out_pipe[0]);
        close(out_pipe[1]);
        return;
    }
    char entry[96];
    char **env = child_environment(report_pipe[1], jobs, entry, sizeof entry);
    pid_t pid = env ? fork() : -1;
    o->start_errno = env ? errno : ENOMEM;
    if (pid == 0) { /* only async-signal-safe calls until exec */
        if (dup2(out_pipe[1], STDOUT_FILENO) < 0 || fcntl(report_pipe[1], F_SETFD, 0) != 0)
            _exit(127);
        execve("/proc/self/exe", argv, env);
        static const char msg[] = "wsrun: --scaling: cannot start /proc/self/exe\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        _exit(127);
    }
    free(env);
    close(out_pipe[1]);
    close(report_pipe[1]);
    if (pid < 0) {
        close(out_pipe[0]);
        close(report_pipe[0]);
        return;
    }
    o->started = 1;
    running_child = pid;
    if (interrupted_by) /* arrived between the check before the run and now */
        kill(pid, interrupted_by);
    char report[256];
    collect(out_pipe[0], report_pipe[0], run, keep, report, sizeof report);
    int status = -1; /* neither exited nor signalled, should waitpid fail */
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    running_child = 0;
    if (WIFEXITED(status)) {
        o->exited = 1;
        o->code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        o->signo = WTERMSIG(status);
    }
    o->reported = parse_report(report, run) == 0;
}

static void describe_failure(const run_outcome *o, char *buf, size_t size)
{
    if (!o->started)
        snprintf(buf, size, "could not start a run: %s", strerror(o->start_errno));
    else if (o->signo)
        snprintf(buf, size, "the run was killed by %s",
                 wsrt_signal_name(o->signo) ? wsrt_signal_name(o->signo) : "a signal");
    else if (o->code == WSRT_EXIT_USAGE)
        snprintf(buf, size, "the run exited with status 2 (command line, plugin or its init "
                            "refused: see above)");
    else if (o->code != 0)
        snprintf(buf, size, "the run exited with status %d (see above)", o->code);
    else if (o->exited)
        snprintf(buf, size, "the run exited 0 without reporting its span");
    else
        snprintf(buf, size, "the run's end could not be observed (waitpid failed)");
}

/* ------------------------------------------------------------ the files */

typedef struct study_files {
    wsrt_report_file csv, plot, keep;
    int want_csv, want_plot, want_keep;
} study_files;

static int open_file(wsrt_report_file *f, int *want, const char *option, const char *path)
{
    char err[4600];
    if (!path)
        return 0;
    if (strcmp(path, "-") == 0) {
        wsrt_err("%s: '-' is not allowed here (standard output carries the table)", option);
        return -1;
    }
    if (wsrt_report_open(f, option, path, err, sizeof err) != 0) {
        wsrt_err("%s", err);
        return -1;
    }
    *want = 1;
    return 0;
}

static void abort_files(study_files *f)
{
    if (f->want_csv)
        wsrt_report_abort(&f->csv);
    if (f->want_plot)
        wsrt_report_abort(&f->plot);
    if (f->want_keep)
        wsrt_report_abort(&f->keep);
    f->want_csv = f->want_plot = f->want_keep = 0;
}

static int gnuplot_on_path(void)
{
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    char *copy = strdup(path), *save = NULL;
    int found = 0;
    for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char full[4200];
        snprintf(full, sizeof full, "%s/gnuplot", dir);
        found = access(full, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* gnuplot reads the script on its stdin and writes the PNG to its stdout,
 * the plot's temporary file. */
static int draw_plot(const wsrt_scaling_study *s, wsrt_report_file *plot)
{
    int script[2];
    fflush(plot->fp);
    if (pipe2(script, O_CLOEXEC) != 0) {
        wsrt_err("--scaling-plot: cannot start gnuplot: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (dup2(script[0], STDIN_FILENO) < 0 || dup2(fileno(plot->fp), STDOUT_FILENO) < 0)
            _exit(127);
        execlp("gnuplot", "gnuplot", (char *)NULL);
        _exit(127);
    }
    close(script[0]);
    if (pid < 0) {
        close(script[1]);
        wsrt_err("--scaling-plot: cannot start gnuplot: %s", strerror(errno));
        return -1;
    }
    struct sigaction ignore, saved;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &saved);
    FILE *to = fdopen(script[1], "w");
    if (to) {
        wsrt_scaling_write_plot_script(to, s);
        fclose(to);
    } else {
        close(script[1]);
    }
    sigaction(SIGPIPE, &saved, NULL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        wsrt_err("--scaling-plot: gnuplot failed (%s %d); no plot written",
               WIFEXITED(status) ? "exit status" : "signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}

static int commit_files(const wsrt_scaling_study *s, study_files *f)
{
    char err[4600];
    int rc = 0;
    if (f->want_csv) {
        wsrt_scaling_write_csv(f->csv.fp, s);
        f->want_csv = 0;
        if (wsrt_report_commit(&f->csv, err, sizeof err) != 0) {
            wsrt_err("%s", err);
            rc = -1;
        }
    }
    if (f->want_keep) {
        f->want_keep = 0;
        if (wsrt_report_commit(&f->keep, err, sizeof err) != 0) {
            wsrt_err("%s", err);
            rc = -1;
        }
    }
    if (f->want_plot) {
        f->want_plot = 0;
        if (draw_plot(s, &f->plot) != 0) {
            wsrt_report_abort(&f->plot);
            rc = -1;
        } else if (wsrt_report_commit(&f->plot, err, sizeof err) != 0) {
            wsrt_err("%s", err);
            rc = -1;
        }
    }
    return rc;
}

/* ------------------------------------------------------------ the study */

static int check_args(const wsrt_scaling_args *a, const char *clash, wsrt_scaling_study *s,
                      unsigned *rounds)
{
    char err[512];
    if (clash) {
        wsrt_err("%s cannot be used with --scaling (its runs are plain wsrun runs, one per -j of "
               "the list)", clash);
        return -1;
    }
    if (a->list) { /* "--scaling=" is an empty list, bare --scaling the default */
        if (wsrt_scaling_parse_list(a->list, &s->jobs, &s->n_jobs, err, sizeof err) != 0) {
            wsrt_err("%s", err);
            return -1;
        }
    } else if (wsrt_scaling_default_list(s->cpus_allowed, &s->jobs, &s->n_jobs) != 0) {
        wsrt_err("out of memory");
        return -1;
    }
    uint64_t r = WSRT_SCALING_DEFAULT_ROUNDS;
    if (a->repeat && (wsrt_parse_u64(a->repeat, UINT64_MAX, &r) != 0 || r < 1 ||
                      r > WSRT_SCALING_MAX_ROUNDS)) {
        wsrt_err("--repeat: expected a whole number from 1 to %d, got '%s'", WSRT_SCALING_MAX_ROUNDS,
               a->repeat);
        return -1;
    }
    *rounds = (unsigned)r;
    if (a->plot_path && !gnuplot_on_path()) {
        wsrt_err("--scaling-plot: gnuplot is not installed (on Debian: apt-get install "
               "gnuplot-nox); run without --scaling-plot or install it");
        return -1;
    }
    return 0;
}

static int interrupt_after_round(void)
{
    const char *v = getenv(WSRT_SCALING_TEST_INTERRUPT_ENV);
    uint64_t k;
    return v && wsrt_parse_u64(v, WSRT_SCALING_MAX_ROUNDS, &k) == 0 ? (int)k : -1;
}

/* Every run of every round; returns 0, or the exit status that stops it. */
static int run_rounds(wsrt_scaling_study *s, char **argv, study_files *files)
{
    int hook_round = interrupt_after_round();
    int show_rounds = isatty(STDERR_FILENO);
    for (unsigned r = 0; r < s->rounds; r++) {
        for (size_t k = 0; k < s->n_jobs; k++) {
            if (interrupted_by)
                return 128 + interrupted_by;
            run_outcome o;
            wsrt_scaling_run *run = &s->runs[r * s->n_jobs + k];
            FILE *keep = r == 0 && k == 0 && files->want_keep ? files->keep.fp : NULL;
            run_once(argv, s->jobs[k], run, keep, &o);
            if (interrupted_by)
                return 128 + interrupted_by;
            if (!o.started || !o.exited || o.code != 0 || !o.reported) {
                char why[256];
                describe_failure(&o, why, sizeof why);
                wsrt_err("--scaling: round %u of %u, -j %u: %s", r + 1, s->rounds, s->jobs[k],
                       why);
                return o.exited && o.code == WSRT_EXIT_USAGE ? WSRT_EXIT_USAGE : WSRT_EXIT_TASK_FAILED;
            }
        }
        s->rounds_done = r + 1;
        if (show_rounds) /* a long study on a terminal says how far it got */
            wsrt_err("--scaling: round %u of %u done", r + 1, s->rounds);
        if (hook_round == (int)(r + 1))
            raise(SIGINT);
    }
    return 0;
}

int wsrt_scaling_main(const wsrt_scaling_args *args, const char *plugin, const char *clash,
                    char **argv)
{
    wsrt_scaling_study s;
    memset(&s, 0, sizeof s);
    s.plugin = plugin;
    s.allow_diff = args->allow_diff;
    s.cpus_allowed = wsrt_cpus_allowed(WSRT_SCALING_MAX_JOBS);
    study_files files;
    memset(&files, 0, sizeof files);
    int status = WSRT_EXIT_USAGE;
    if (check_args(args, clash, &s, &s.rounds) != 0)
        goto out;
    s.runs = calloc((size_t)s.rounds * s.n_jobs, sizeof *s.runs);
    if (!s.runs) {
        wsrt_err("--scaling: out of memory for %u rounds of %zu runs", s.rounds, s.n_jobs);
        goto out;
    }
    if (open_file(&files.csv, &files.want_csv, "--scaling-csv", args->csv_path) != 0 ||
        open_file(&files.plot, &files.want_plot, "--scaling-plot", args->plot_path) != 0 ||
        open_file(&files.keep, &files.want_keep, "--scaling-keep-output", args->keep_output) != 0)
        goto out;
    read_cpu_model(s.cpu_model, sizeof s.cpu_model);
    s.load_before = load_average();
    struct sigaction saved_int, saved_term;
    catch_interrupts(&saved_int, &saved_term);
    status = run_rounds(&s, argv, &files);
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    s.load_after = load_average();
    if (s.rounds_done > 0)
        wsrt_scaling_print_table(stdout, &s);
    fflush(stdout);
    if (status == 0) {
        if (commit_files(&s, &files) != 0)
            status = WSRT_EXIT_TASK_FAILED;
    } else if (interrupted_by) {
        wsrt_err("--scaling: interrupted by %s during round %u of %u: %s",
               wsrt_signal_name(interrupted_by), s.rounds_done + 1, s.rounds,
               s.rounds_done ? "the table holds the rounds done; no file was written"
                             : "no round was done; no file was written");
    }
out:
    abort_files(&files);
    free(s.jobs);
    free(s.runs);
    return status;
}
