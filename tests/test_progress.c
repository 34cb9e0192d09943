/*
 * test_progress.c - the progress line (runtime/cmd/progress.c): what it shows
 * comes only from the source handed to wsrt_progress_start (count and busy
 * workers), the last line shows the final count given to wsrt_progress_end
 * (clamped to the total), and the line is erased after it.
 *
 * No timing: the thread's own draw is awaited through the source's
 * callback (a semaphore), never by sleeping.  Redirects this process's
 * stderr into a file under /tmp to read it back.
 */
#include <criterion/criterion.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_util.h"
#include "progress.h"

#define ERASE "\r\033[K"

typedef struct fake_source {
    uint64_t done;
    unsigned busy;
    sem_t asked; /* posted on each done() call */
} fake_source;

static uint64_t fake_done(void *arg)
{
    fake_source *f = arg;
    sem_post(&f->asked);
    return f->done;
}

static unsigned fake_busy(void *arg)
{
    return ((fake_source *)arg)->busy;
}

static fake_source fake;
static uint64_t final_count;
static int wait_for_thread;

static void run_line(void)
{
    wsrt_progress p;
    wsrt_progress_source src = {fake_done, fake_busy, &fake};
    cr_assert_eq(wsrt_progress_start(&p, 10, "demo", src), 0);
    if (wait_for_thread)
        sem_wait(&fake.asked); /* the thread asked: its draw follows */
    wsrt_progress_stop_redraws(&p);
    wsrt_progress_end(&p, final_count);
}

static void setup(void)
{
    memset(&fake, 0, sizeof fake);
    sem_init(&fake.asked, 0, 0);
    wait_for_thread = 0;
}

TestSuite(progress, .init = setup);

/* The drawn lines, split at each erase; the last entry is "" (the clear). */
static int split_lines(char *text, char **lines, int max)
{
    int n = 0;
    for (char *at = strstr(text, ERASE); at && n < max; at = strstr(at, ERASE)) {
        *at = '\0';
        at += strlen(ERASE);
        lines[n++] = at;
    }
    for (int k = 0; k < n; k++) { /* cut each at the next erase */
        char *end = strstr(lines[k], ERASE);
        if (end)
            *end = '\0';
    }
    return n;
}

static void assert_line(const char *line, const char *head, const char *tail)
{
    cr_assert_eq(strncmp(line, head, strlen(head)), 0, "line '%s' does not start '%s'", line,
                 head);
    size_t len = strlen(line), tl = strlen(tail);
    cr_assert(len >= tl && strcmp(line + len - tl, tail) == 0, "line '%s' does not end '%s'",
              line, tail);
}

Test(progress, last_line_shows_the_final_count_then_is_erased)
{
    fake.busy = 3;
    final_count = 7;
    char *text = test_capture_stderr(run_line);
    char *lines[64];
    int n = split_lines(text, lines, 64);
    cr_assert_geq(n, 2, "no line drawn: '%s'", text);
    assert_line(lines[n - 2], "wsrun: demo: 7/10 (70.0%) ", ", 3 workers busy");
    cr_assert_str_eq(lines[n - 1], "", "the line is not erased at the end");
    free(text);
}

Test(progress, final_count_is_clamped_to_the_total)
{
    final_count = 15;
    char *text = test_capture_stderr(run_line);
    char *lines[64];
    int n = split_lines(text, lines, 64);
    cr_assert_geq(n, 2);
    assert_line(lines[n - 2], "wsrun: demo: 10/10 (100.0%) ", ", 0 workers busy");
    free(text);
}

Test(progress, thread_draws_what_its_source_says)
{
    fake.done = 4;
    fake.busy = 2;
    final_count = 9;
    wait_for_thread = 1;
    char *text = test_capture_stderr(run_line);
    char *lines[64];
    int n = split_lines(text, lines, 64);
    cr_assert_geq(n, 3, "the thread drew nothing: '%s'", text);
    assert_line(lines[0], "wsrun: demo: 4/10 (40.0%) ", ", 2 workers busy");
    assert_line(lines[n - 2], "wsrun: demo: 9/10 (90.0%) ", ", 2 workers busy");
    free(text);
}
