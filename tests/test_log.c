/*
 * test_log.c - messages and run accessors (runtime/base/log.c): ws_fail's text
 * lands in the context's buffer, ws_log / wsrt_err print whole prefixed lines
 * (none under --quiet, never interleaved across threads), ws_set_count
 * obeys --count, and the ws_run_* accessors read the run.
 *
 * Redirects this process's stderr into a file under /tmp to read it back.
 */
#include <criterion/criterion.h>
#include "expect_abort.h"
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_util.h"
#include "run.h"

static ws_run run;
static wsrt_ctx_base base;

static void setup(void)
{
    memset(&run, 0, sizeof run);
    run.desc.name = "demo";
    run.count = WS_COUNT_UNSET;
    run.seed = 77;
    run.jobs = 3;
    wsrt_ctx_base_init(&base, &run, UINT32_MAX);
}

TestSuite(log, .init = setup);

#define CTX (&base.ctx)

Test(log, base_init_fills_the_context)
{
    cr_assert_eq(base.ctx.struct_size, sizeof(ws_ctx));
    cr_assert_eq(base.ctx.worker_id, UINT32_MAX);
    cr_assert_eq(base.ctx.run, &run);
    cr_assert_eq(base.ctx.seed, 77);
    cr_assert_null(base.ctx.worker_data);
    cr_assert_str_eq(wsrt_ctx_error(CTX), "");
}

Test(log, fail_records_message_and_returns_err)
{
    cr_assert_eq(ws_fail(CTX, "cannot open %s: %s", "x.png", "gone"), WS_ERR);
    cr_assert_str_eq(wsrt_ctx_error(CTX), "cannot open x.png: gone");
    ws_fail(CTX, "second\n\n");
    cr_assert_str_eq(wsrt_ctx_error(CTX), "second", "trailing newlines dropped");
    wsrt_ctx_clear_error(CTX);
    cr_assert_str_eq(wsrt_ctx_error(CTX), "");
}

Test(log, fail_truncates_long_messages)
{
    char big[3 * WSRT_ERRBUF];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ws_fail(CTX, "%s", big);
    cr_assert_leq(strlen(wsrt_ctx_error(CTX)), WSRT_ERRBUF - 1);
    cr_assert_geq(strlen(wsrt_ctx_error(CTX)), WSRT_ERRBUF - 64);
}

/* Issue 23: a 5000-byte path was cut at the buffer's end, and with it the
 * reason ("File name too long"); now the middle goes and both ends stay. */
Test(log, fail_keeps_the_reason_after_a_long_path)
{
    static char path[5001];
    memset(path, 'p', 5000);
    path[0] = '/';
    ws_fail(CTX, "list.txt:3: %s.png: cannot open: %s", path, "File name too long");
    const char *e = wsrt_ctx_error(CTX);
    cr_assert_leq(strlen(e), WSRT_ERRBUF - 1);
    cr_assert(strncmp(e, "list.txt:3: /ppp", 16) == 0, "start kept: %.40s", e);
    const char *end = ".png: cannot open: File name too long";
    cr_assert(strlen(e) > strlen(end) && strcmp(e + strlen(e) - strlen(end), end) == 0,
              "reason kept: %s", e + strlen(e) - 60);
    cr_assert_not_null(strstr(e, " bytes)..."), "the cut is marked");
}

/* The same for messages the runtime formats into a caller's buffer. */
Test(log, errf_keeps_the_reason_after_a_long_path)
{
    static char path[5001];
    char err[2048];
    memset(path, 'j', 5000);
    cr_assert_eq(wsrt_errf(err, sizeof err, "--journal %s: cannot open: %s", path,
                           "File name too long"), -1);
    cr_assert_lt(strlen(err), sizeof err);
    cr_assert(strncmp(err, "--journal jjj", 13) == 0);
    const char *end = "jjj: cannot open: File name too long";
    cr_assert(strcmp(err + strlen(err) - strlen(end), end) == 0, "%s", err + strlen(err) - 60);
}

static void log_hostile_text(void)
{
    ws_log(CTX, "%s: no such file", "\033]0;PWNED\007\033[2J.png");
    wsrt_err("path %s and %s", "a\nb\x7f", "caf\xc3\xa9 \xc2\x9b \xff");
    static char path[5001];
    memset(path, 'q', 5000);
    wsrt_err("%s: File name too long", path);
}

/* Issue 23: control bytes in a path or a plugin's text reached the terminal
 * raw (a list line could set the window title and clear the screen). */
Test(log, lines_escape_control_bytes_and_keep_the_end)
{
    char *text = test_capture_stderr(log_hostile_text);
    cr_assert_eq(strchr(text, '\033'), NULL, "no raw ESC in: %s", text);
    cr_assert_eq(strchr(text, '\007'), NULL);
    cr_assert_eq(strchr(text, '\x7f'), NULL);
    cr_assert_not_null(strstr(text, "wsrun: demo: \\x1b]0;PWNED\\x07\\x1b[2J.png: no such file\n"),
                       "%s", text);
    /* Valid UTF-8 stays; a C1 control (U+009B, CSI) and a stray byte do not. */
    cr_assert_not_null(strstr(text, "wsrun: path a\\x0ab\\x7f and caf\xc3\xa9 \\xc2\\x9b \\xff\n"),
                       "%s", text);
    const char *last = strstr(text, "wsrun: qqq");
    cr_assert_not_null(last);
    cr_assert_not_null(strstr(last, "qqq: File name too long\n"), "%s", last);
    cr_assert_lt(strlen(last), 2048);
    free(text);
}

Test(log, accessors_read_the_run)
{
    run.quiet = 1;
    cr_assert_eq(ws_run_seed(CTX), 77);
    cr_assert_eq(ws_run_jobs(CTX), 3);
    cr_assert_eq(ws_run_quiet(CTX), 1);
    cr_assert_str_eq(ws_plugin_name(CTX), "demo");
    cr_assert_eq(ws_run_count(CTX), WS_COUNT_UNSET);
    cr_assert_eq(ws_count_given(CTX), 0);
}

Test(log, set_count_unless_given)
{
    ws_set_count(CTX, 42);
    cr_assert_eq(ws_run_count(CTX), 42);
    run.count = 5;
    run.count_given = 1;
    ws_set_count(CTX, 9);
    cr_assert_eq(ws_run_count(CTX), 5, "--count wins over the plugin");
    cr_assert_eq(ws_count_given(CTX), 1);
}

static void set_count_on_worker_0(void *arg)
{
    (void)arg;
    wsrt_ctx_base worker;
    wsrt_ctx_base_init(&worker, &run, 0);
    ws_set_count(&worker.ctx, 1);
}

Test(log, set_count_from_a_worker_aborts)
{
    expect_abort_saying(set_count_on_worker_0, NULL,
                        "wsrun: plugin bug: demo called ws_set_count from worker 0 (init only)");
}

/* ------------------------------------------------- lines on stderr */

static void log_two_lines(void)
{
    ws_log(CTX, "hello %d", 5);
    ws_log(CTX, "with newline\n");
    wsrt_err("plain %s", "error");
}

Test(log, log_and_err_lines)
{
    char *text = test_capture_stderr(log_two_lines);
    cr_assert_str_eq(text, "wsrun: demo: hello 5\nwsrun: demo: with newline\nwsrun: plain "
                           "error\n");
    free(text);
}

Test(log, quiet_silences_log_but_not_errors)
{
    run.quiet = 1;
    char *text = test_capture_stderr(log_two_lines);
    cr_assert_str_eq(text, "wsrun: plain error\n");
    free(text);
}

enum { THREADS = 4, LINES = 2000 };

static void *log_many(void *arg)
{
    long id = (long)arg;
    for (int k = 0; k < LINES; k++)
        ws_log(CTX, "thread %ld line %d %s", id, k,
               "padding-padding-padding-padding-padding-padding-padding-padding");
    return NULL;
}

static void log_from_threads(void)
{
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, log_many, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
}

Test(log, lines_never_interleave)
{
    char *text = test_capture_stderr(log_from_threads);
    int seen[THREADS] = {0};
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        long id;
        int k;
        char pad[128];
        int n = sscanf(line, "wsrun: demo: thread %ld line %d %127s", &id, &k, pad);
        cr_assert_eq(n, 3, "mangled line: %s", line);
        cr_assert(id >= 0 && id < THREADS);
        cr_assert_eq(k, seen[id], "thread %ld lines out of order", id);
        seen[id]++;
        lines++;
    }
    cr_assert_eq(lines, THREADS * LINES);
    free(text);
}
