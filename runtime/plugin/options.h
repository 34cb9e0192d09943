/*
 * options.h - internal: parsing of plugin options ("-o key=value") into
 * run->opts, and of the CLI's whole-number arguments.  The ws_opt_* queries
 * of wsrun.h are implemented in options.c on top of these.
 *
 * Every function that can fail because of user input writes one line (no
 * "wsrun: " prefix, no newline) into err and returns -1; it never prints
 * (docs/design.md, "Errors: one convention").
 */
#ifndef WSRT_OPTIONS_H
#define WSRT_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "run.h"

/* Build run->opts from run->desc.options and apply the defaults.  Fails
 * (a plugin bug, reported as such) when the table itself is wrong: an empty
 * or repeated name, an unknown type, an enum without choices, or a default
 * that does not parse. */
int wsrt_opts_setup(ws_run *run, char *err, size_t err_size);

/* Apply one "key=value" assignment; a repeated key overrides the earlier
 * value.  Needs wsrt_opts_setup first.  String values point into
 * `assignment`, which must outlive the run (argv does). */
int wsrt_opts_apply(ws_run *run, const char *assignment, char *err, size_t err_size);

/* Free run->opts. */
void wsrt_opts_free(ws_run *run);

/* Parse `text` as a value of `opt`'s type into *val (range-checked).  The
 * message names the option; `text` is kept by pointer in val->s. */
int wsrt_opts_parse_value(const ws_option *opt, const char *text, wsrt_optval *val, char *err,
                        size_t err_size);

/* Print a plugin's options as a table: name, type, default, range or
 * choices, help.  Prints "(no options)" for an empty table. */
void wsrt_opts_print_table(FILE *out, const ws_option *options);

/* "int", "double", "string", "bool", "enum", or "?" for anything else. */
const char *wsrt_opt_type_name(ws_opt_type type);

/* A whole decimal number 0..max: digits only (no sign, no spaces, no
 * hex), at least one.  Returns 0, or -1 when the text is not such a number
 * or is above max. */
int wsrt_parse_u64(const char *text, uint64_t max, uint64_t *out);

#endif
