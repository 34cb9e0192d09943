/*
 * json_escape.c - the one JSON string escaper (json_escape.h).  Shared by
 * source with the plugins' helper library, so it must never call anything
 * of wsrun's and never keep state.
 */
#include "json_escape.h"

#include <stdio.h>

const char *wsrt_json_escape(unsigned char c, char room[WSRT_JSON_ESCAPE_MAX])
{
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\t': return "\\t";
    case '\r': return "\\r";
    default:
        if (c >= 0x20)
            return NULL;
        snprintf(room, WSRT_JSON_ESCAPE_MAX, "\\u%04x", c);
        return room;
    }
}
