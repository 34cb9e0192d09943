/*
 * log.c - messages and run accessors: ws_fail / ws_vfail (a plugin's error
 * text for the current callback), ws_log and wsrt_err (one line each to
 * stderr), the progress line they share stderr with, and the ws_run_*
 * accessors of wsrun.h.
 *
 * Must never write a partial line: every line is formatted first and
 * written with one call while holding the log lock, so lines from different
 * threads never interleave.  Must never pass a control byte of a message
 * (a path, a plugin's text) to the terminal raw: term_text.c escapes it.  Must never allocate on the message path (a
 * failing task may be failing because memory ran out).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "run.h"
#include "term_text.h"
#include "wsrun.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* The progress line currently drawn on stderr ("" when none).  Messages
 * erase it, print themselves and draw it again, so they never end up glued
 * to the end of a progress line. */
static char progress_line[256];

/* Put after "wsrun: " in every message (wsrun-mpi: "rank 3: "); set once
 * before any thread starts. */
static char message_tag[32];

void wsrt_log_set_tag(const char *tag)
{
    snprintf(message_tag, sizeof message_tag, "%s", tag ? tag : "");
}

const char *wsrt_log_tag(void)
{
    return message_tag;
}

#define ERASE_LINE "\r\033[K"

/* Write `len` bytes of `text` to stderr, erasing and redrawing the progress
 * line around it.  Caller holds log_lock. */
static void emit_locked(const char *text, size_t len)
{
    if (progress_line[0])
        fputs(ERASE_LINE, stderr);
    fwrite(text, 1, len, stderr);
    if (progress_line[0])
        fputs(progress_line, stderr);
    fflush(stderr);
}

/* Format "<prefix><message>\n" into buf, dropping a trailing newline the
 * caller may have put in the message itself.  The whole line goes through
 * wsrt_term_text: a path or a plugin's text cannot send control sequences
 * to the terminal (each control byte shows as \xHH), and a message longer
 * than buf loses its middle, never its end (the reason). */
static size_t format_line(char *buf, size_t size, const char *prefix, const char *fmt, va_list ap)
{
    char raw[WSRT_MESSAGE_MAX];
    int head = snprintf(raw, sizeof raw, "%s", prefix);
    size_t used = head < 0 ? 0 : (size_t)head < sizeof raw ? (size_t)head : sizeof raw - 1;
    int body = vsnprintf(raw + used, sizeof raw - used, fmt, ap);
    if (body > 0)
        used += (size_t)body < sizeof raw - used ? (size_t)body : sizeof raw - used - 1;
    while (used > 0 && raw[used - 1] == '\n')
        used--;
    size_t len = wsrt_term_text(buf, size - 1, raw, used);
    buf[len++] = '\n';
    buf[len] = '\0';
    return len;
}

int wsrt_errf(char *err, size_t err_size, const char *fmt, ...)
{
    /* Whole first, then cut in the middle: a long path keeps its reason. */
    char raw[WSRT_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof raw ? (size_t)n : sizeof raw - 1;
    if (err_size > 64) {
        wsrt_text_shorten(err, err_size, raw, len);
    } else if (err_size > 0) { /* too small to mark a cut: the start */
        size_t keep = len < err_size - 1 ? len : err_size - 1;
        memcpy(err, raw, keep);
        err[keep] = '\0';
    }
    return -1;
}

void wsrt_err(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "wsrun: %s", message_tag);
    size_t len = format_line(line, sizeof line, prefix, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    emit_locked(line, len);
    pthread_mutex_unlock(&log_lock);
}

void ws_log(const ws_ctx *ctx, const char *fmt, ...)
{
    const ws_run *run = ctx ? ctx->run : NULL;
    if (run && run->quiet)
        return;
    char prefix[160];
    const char *name = run && run->desc.name ? run->desc.name : NULL;
    if (name)
        snprintf(prefix, sizeof prefix, "wsrun: %s%s: ", message_tag, name);
    else
        snprintf(prefix, sizeof prefix, "wsrun: %s", message_tag);
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    size_t len = format_line(line, sizeof line, prefix, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    emit_locked(line, len);
    pthread_mutex_unlock(&log_lock);
}

void wsrt_log_progress_show(const char *line)
{
    pthread_mutex_lock(&log_lock);
    snprintf(progress_line, sizeof progress_line, "%s", line);
    fputs(ERASE_LINE, stderr);
    fputs(progress_line, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

void wsrt_log_progress_clear(void)
{
    pthread_mutex_lock(&log_lock);
    if (progress_line[0]) {
        fputs(ERASE_LINE, stderr);
        fflush(stderr);
    }
    progress_line[0] = '\0';
    pthread_mutex_unlock(&log_lock);
}

static atomic_int interrupt_noted;

void wsrt_note_interrupt(void)
{
    /* relaxed: a flag polled by init's loops; nothing is published with
     * it, and the handler must stay a single lock-free store. */
    atomic_store_explicit(&interrupt_noted, 1, memory_order_relaxed);
}

int wsrt_interrupt_noted(void)
{
    return atomic_load_explicit(&interrupt_noted, memory_order_relaxed); /* see above */
}

/* ws_on_interrupt's function.  The pair is written in init, before any
 * handler can call it (wsrun's handlers are installed before init, so the
 * function is published last, with release, and read with acquire: a
 * handler that sees it sees its argument). */
static void (*_Atomic interrupt_fn)(void *);
static void *_Atomic interrupt_arg;

void ws_on_interrupt(ws_ctx *ctx, void (*fn)(void *arg), void *arg)
{
    if (ctx->worker_id != UINT32_MAX) {
        wsrt_err("plugin bug: %s called ws_on_interrupt from worker %u (init or finish only)",
                 ctx->run->desc.name ? ctx->run->desc.name : "?", ctx->worker_id);
        abort();
    }
    atomic_store_explicit(&interrupt_fn, NULL, memory_order_relaxed); /* no half pair */
    atomic_store_explicit(&interrupt_arg, arg, memory_order_relaxed);
    atomic_store_explicit(&interrupt_fn, fn, memory_order_release);
}

void wsrt_call_interrupt_hook(void)
{
    /* acquire: pairs with ws_on_interrupt's release (the argument). */
    void (*fn)(void *) = atomic_load_explicit(&interrupt_fn, memory_order_acquire);
    if (fn)
        fn(atomic_load_explicit(&interrupt_arg, memory_order_relaxed));
}

/* ------------------------------------------------------------ errors */

int ws_vfail(ws_ctx *ctx, const char *fmt, va_list ap)
{
    if (!ctx) {
        /* A plugin bug, but the message is still worth more than a crash. */
        char line[WSRT_ERRBUF];
        vsnprintf(line, sizeof line, fmt, ap);
        wsrt_err("ws_fail called without a context: %s", line);
        return WS_ERR;
    }
    wsrt_ctx_base *base = (wsrt_ctx_base *)ctx;
    /* Formatted whole first, then cut in the middle if it must be: a
     * 5000-byte path keeps the reason that follows it. */
    char raw[WSRT_MESSAGE_MAX];
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof raw ? (size_t)n : sizeof raw - 1;
    while (len > 0 && raw[len - 1] == '\n')
        len--;
    wsrt_text_shorten(base->errbuf, sizeof base->errbuf, raw, len);
    return WS_ERR;
}

int ws_fail(ws_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = ws_vfail(ctx, fmt, ap);
    va_end(ap);
    return rc;
}

void wsrt_ctx_clear_error(ws_ctx *ctx)
{
    ((wsrt_ctx_base *)ctx)->errbuf[0] = '\0';
}

const char *wsrt_ctx_error(const ws_ctx *ctx)
{
    return ((const wsrt_ctx_base *)ctx)->errbuf;
}

void wsrt_ctx_base_init(wsrt_ctx_base *b, const ws_run *run, uint32_t worker_id)
{
    memset(b, 0, sizeof *b);
    b->ctx.struct_size = (uint32_t)sizeof(ws_ctx);
    b->ctx.worker_id = worker_id;
    b->ctx.run = run;
    b->ctx.seed = run ? run->seed : 0;
    b->dirs.fd = -1;
    /* No frame stack: the first spawn's frame is the spare one, and its
     * trigger (0) sends it to the runtime, which refuses it. */
    b->ctx.fj_head = b->ctx.fj_pub = b->ctx.fj_limit = &b->no_frames;
    atomic_init(&b->ctx.fj_trigger, 0);
}

/* --------------------------------------------------------- accessors */

uint64_t ws_run_count(const ws_ctx *ctx)
{
    return ctx->run->count;
}

int ws_count_given(const ws_ctx *ctx)
{
    return ctx->run->count_given;
}

void ws_set_count(ws_ctx *ctx, uint64_t count)
{
    /* Workers read run->count without a lock; a change after init would
     * race with them, so only the main thread may call this. */
    if (ctx->worker_id != UINT32_MAX) {
        wsrt_err("plugin bug: %s called ws_set_count from worker %u (init only)",
               ctx->run->desc.name ? ctx->run->desc.name : "?", ctx->worker_id);
        abort();
    }
    ws_run *run = (ws_run *)ctx->run; /* documented: init may set the count */
    if (!run->count_given)
        run->count = count;
}

int ws_set_run_key(ws_ctx *ctx, const char *key)
{
    /* The journal reads it after init, on the main thread: init only. */
    if (ctx->worker_id != UINT32_MAX) {
        wsrt_err("plugin bug: %s called ws_set_run_key from worker %u (init only)",
                 ctx->run->desc.name ? ctx->run->desc.name : "?", ctx->worker_id);
        abort();
    }
    size_t n = strlen(key);
    if (n > WS_RUN_KEY_MAX)
        return ws_fail(ctx, "run key longer than %d characters", WS_RUN_KEY_MAX);
    for (size_t k = 0; k < n; k++)
        if (key[k] <= ' ' || key[k] >= 0x7f)
            return ws_fail(ctx, "run key has a space or a non-printable character");
    ws_run *run = (ws_run *)ctx->run; /* documented: init may set the key */
    memcpy(run->run_key, key, n + 1);
    return WS_OK;
}

uint64_t ws_run_seed(const ws_ctx *ctx)
{
    return ctx->run->seed;
}

unsigned ws_run_jobs(const ws_ctx *ctx)
{
    return ctx->run->jobs;
}

int ws_run_quiet(const ws_ctx *ctx)
{
    return ctx->run->quiet;
}

const char *ws_plugin_name(const ws_ctx *ctx)
{
    return ctx->run->desc.name;
}
