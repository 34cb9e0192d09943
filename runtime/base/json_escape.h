/*
 * json_escape.h - the one JSON string escaper: what a byte of a string
 * becomes inside JSON quotes.  Compiled into the runtime (report.c: trace
 * and stats JSON) and, as its own hidden copy, into the built-in plugins'
 * helper library (tasks/common/manifest.c), because a plugin must never
 * call wsrun's private functions.  Pure: no output, no state.
 */
#ifndef WSRT_JSON_ESCAPE_H
#define WSRT_JSON_ESCAPE_H

/* Room for the longest escape, \u001f, and its NUL. */
#define WSRT_JSON_ESCAPE_MAX 7

/* The escape of byte c (a quote, a backslash or a control character), in
 * `room` or a constant; NULL when c stands for itself (bytes >= 0x80 too:
 * UTF-8 passes through, as JSON allows). */
const char *wsrt_json_escape(unsigned char c, char room[WSRT_JSON_ESCAPE_MAX]);

#endif
