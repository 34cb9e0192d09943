/*
 * input.h - choosing the input files of the read and fill plugins: the
 * `-o input=` spec (glob, folder, list file or `-` for stdin, a single
 * image, or a printf pattern such as image_%d.png) becomes an ordered list
 * of paths, where path i is the file of index i.  A file named as an image
 * (photo.png, PHOTO.PNG) is one image, whatever its bytes, so a broken one
 * is reported as a broken image; any other file is a list of paths unless
 * it starts with the PNG signature.  Paths from a list remember their line,
 * so an error names the list and the line.  Part of build/libwstasks.a
 * (input.c): declares only what the plugins and tests use.
 */
#ifndef WSTASK_INPUT_H
#define WSTASK_INPUT_H

#include <limits.h>
#include <stddef.h>

#include "wsrun.h"

typedef struct wstask_input {
    char **paths; /* n paths, each its own allocation */
    size_t n;
    size_t cap;
    char *list;    /* the list file the paths came from ("stdin" for -), or NULL */
    size_t *lines; /* with list: the line of path i, counting from 1 (cap entries) */
} wstask_input;

/* Resolve `spec` into in->paths and settle the run's count: without
 * --count it becomes the number of files found; with --count the first
 * `count` files are used, and asking for more than exist is an error that
 * names the first missing one.  init only (it may call ws_set_count). */
int wstask_input_select(ws_ctx *ctx, const char *spec, wstask_input *in);

void wstask_input_free(wstask_input *in);

/* Room for wstask_input_origin's text: a list's path and a line number. */
#define WSTASK_INPUT_ORIGIN_MAX (PATH_MAX + 32)

/* "list.txt:3: " when path i came from line 3 of list.txt, else "": the
 * prefix of every message about path i, so the user finds the line to fix. */
const char *wstask_input_origin(const wstask_input *in, size_t i, char *buf, size_t size);

/* Natural order: runs of digits compare by value, so image_2 < image_10;
 * everything else compares byte by byte.  Names equal by that rule (a1
 * and a01) fall back to plain byte order, so the order is total. */
int wstask_natural_cmp(const char *a, const char *b);

#endif
