/*
 * log.h - internal: the message functions of log.c.  wsrt_err prints one
 * "wsrun: ..." line to stderr; wsrt_errf formats a message into a caller's
 * buffer for functions that report failure without printing (docs/
 * design.md, "Errors: one convention"); the progress line shares stderr
 * with both.  Never included by plugins (their ws_log / ws_fail are in
 * include/wsrun.h), and never declares anything that allocates or blocks
 * beyond the log lock.
 */
#ifndef WSRT_LOG_H
#define WSRT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "dir_cache.h"
#include "wsrun.h"

/* "wsrun: <tag><message>\n" to stderr, one write, under the log lock. */
void wsrt_err(const char *fmt, ...) WS_PRINTF(1, 2);
/* Format a message into err (for functions that report through a buffer)
 * and return -1, so they write "return wsrt_errf(err, size, ...);". */
int wsrt_errf(char *err, size_t err_size, const char *fmt, ...) WS_PRINTF(3, 4);

/* Put `tag` (e.g. "rank 3: ") after "wsrun: " in every message line of
 * wsrt_err and ws_log from now on; "" for none (the default). */
void wsrt_log_set_tag(const char *tag);
/* The tag, for crash.c's signal-safe lines (a plain array, set once). */
const char *wsrt_log_tag(void);

/* Draw `line` (no newline) as the progress line on stderr; messages written
 * by wsrt_err/ws_log meanwhile erase it and draw it again below themselves. */
void wsrt_log_progress_show(const char *line);
/* Erase the progress line and stop redrawing it. */
void wsrt_log_progress_clear(void);

/* A SIGINT or SIGTERM arrived (the command's handler calls this: one
 * lock-free atomic store, safe in a handler).  ws_stopping answers it for
 * the main thread's context, so init's long loops (a read plugin listing
 * its inputs) can end; the pool hears of it through its own flag. */
void wsrt_note_interrupt(void);
int wsrt_interrupt_noted(void);
/* Call the plugin's ws_on_interrupt function, if any: from the first
 * interrupt's handler (after the pools were told to stop) and in an
 * --isolate worker process told of that interrupt (never for a stop that
 * a failure caused).  Async-signal-safe as far as that function is. */
void wsrt_call_interrupt_hook(void);

/* The plugin's last ws_fail text of this context ("" when none), and
 * forgetting it before the next callback. */
void wsrt_ctx_clear_error(ws_ctx *ctx);
const char *wsrt_ctx_error(const ws_ctx *ctx);

/* Every ws_ctx the runtime hands out is the first member of this, so
 * ws_fail can find the buffer for its message.  Workers extend it. */
#define WSRT_ERRBUF 1024
typedef struct wsrt_ctx_base {
    ws_ctx ctx;
    char errbuf[WSRT_ERRBUF];
    /* Off worker threads the frame stack is this one spare frame, so a
     * spawn there writes in bounds and then fails with a message. */
    ws_frame no_frames;
    /* The folder ws_outfile last wrote to, kept open (dir_cache.h); off
     * unless the context's owner turns it on and ends it. */
    wsrt_dir_cache dirs;
} wsrt_ctx_base;

/* A context for the main thread's callbacks (init, finish). */
void wsrt_ctx_base_init(wsrt_ctx_base *b, const ws_run *run, uint32_t worker_id);

#endif
