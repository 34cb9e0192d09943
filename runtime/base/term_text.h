/*
 * term_text.h - internal: making message text safe and short for a
 * terminal (runtime/base/term_text.c).  Paths and plugin text reach stderr
 * through log.c; a path may hold terminal control sequences (a list line
 * "\033]0;PWNED\007.png" would set the window title) or be thousands of
 * bytes long (its reason, at the end of the message, must still show).
 * Never allocates, never prints: log.c calls it on the message path.
 */
#ifndef WSRT_TERM_TEXT_H
#define WSRT_TERM_TEXT_H

#include <stddef.h>

/* Room for one message before it is shortened: more than a path the
 * system accepts (PATH_MAX), a list's line bound and the reason together. */
#define WSRT_MESSAGE_MAX 16384

/* Copy in[0..len) into out (out_size > 64) as text a terminal shows as
 * is: control bytes (below 0x20, 0x7f), C1 controls (U+0080..U+009F) and
 * bytes that are not UTF-8 become "\xHH" per byte (so ESC is \x1b); valid
 * UTF-8 stays.  When the result does not fit, its middle is replaced by
 * "...(N bytes)...", so the start and the end (where a message says why)
 * both remain.  Always NUL-terminated; returns the length written. */
size_t wsrt_term_text(char *out, size_t out_size, const char *in, size_t len);

/* The same shortening without escaping (text kept for later printing or
 * for an embedder): in[0..len) into out, middle cut when too long. */
size_t wsrt_text_shorten(char *out, size_t out_size, const char *in, size_t len);

#endif
