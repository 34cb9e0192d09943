/*
 * input.c - choosing the input files of the read and fill plugins (see
 * input.h for what each spec means).  Used from init on the main thread
 * (wstask_input_origin from any thread, as it only reads).  Must never print
 * (errors go back through ws_fail), never read the files themselves
 * beyond a PNG signature check, never hold a list line longer than
 * WSTASK_LIST_LINE_MAX, and never keep listing once ws_stopping says so.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wsrun.h"
#include "input.h"

void wstask_input_free(wstask_input *in)
{
    for (size_t i = 0; i < in->n; i++)
        free(in->paths[i]);
    free(in->paths);
    free(in->list);
    free(in->lines);
    in->paths = NULL;
    in->list = NULL;
    in->lines = NULL;
    in->n = in->cap = 0;
}

const char *wstask_input_origin(const wstask_input *in, size_t i, char *buf, size_t size)
{
    if (!in->list || !in->lines || i >= in->n)
        return "";
    snprintf(buf, size, "%s:%zu: ", in->list, in->lines[i]);
    return buf;
}

/* Takes ownership of `path` (even on failure). */
static int wstask_input_push(wstask_input *in, char *path)
{
    if (!path)
        return -1;
    if (in->n == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 256;
        char **grown = (char **)realloc(in->paths, cap * sizeof *grown);
        if (!grown) {
            free(path);
            return -1;
        }
        in->paths = grown;
        in->cap = cap;
    }
    in->paths[in->n++] = path;
    return 0;
}

static int wstask_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int wstask_natural_cmp(const char *a, const char *b)
{
    const char *a_start = a, *b_start = b;
    while (*a && *b) {
        if (wstask_is_digit(*a) && wstask_is_digit(*b)) {
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            const char *a_end = a, *b_end = b;
            while (wstask_is_digit(*a_end))
                a_end++;
            while (wstask_is_digit(*b_end))
                b_end++;
            size_t a_len = (size_t)(a_end - a), b_len = (size_t)(b_end - b);
            if (a_len != b_len)
                return a_len < b_len ? -1 : 1;
            int c = memcmp(a, b, a_len);
            if (c)
                return c < 0 ? -1 : 1;
            a = a_end;
            b = b_end;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    if (*a || *b)
        return *a ? 1 : -1;
    int c = strcmp(a_start, b_start);
    return c < 0 ? -1 : c > 0;
}

static int wstask_natural_cmp_ptr(const void *a, const void *b)
{
    return wstask_natural_cmp(*(char *const *)a, *(char *const *)b);
}

static void wstask_input_sort(wstask_input *in)
{
    if (in->n > 1)
        qsort(in->paths, in->n, sizeof *in->paths, wstask_natural_cmp_ptr);
}

/* A printf pattern with one %d, %i or %u, optionally with a width and the
 * 0 flag (image_%05d.png); %% is a literal percent sign. */
typedef struct wstask_index_pattern {
    const char *text;
    size_t conv_start, conv_end; /* [start, end) of the conversion in text */
    int zero_pad;
    int width;
} wstask_index_pattern;

/* Widest number a pattern may ask for (%040d); numbers are formatted in
 * 64-byte buffers. */
#define WSTASK_PATTERN_MAX_WIDTH 40

/* 1: a pattern (parsed into *p); 0: no conversion at all; -1: a '%' that is
 * not one supported conversion (message in why). */
static int wstask_pattern_parse(const char *text, wstask_index_pattern *p, char *why, size_t why_size)
{
    int found = 0;
    memset(p, 0, sizeof *p);
    p->text = text;
    for (size_t i = 0; text[i]; i++) {
        if (text[i] != '%')
            continue;
        if (text[i + 1] == '%') {
            i++;
            continue;
        }
        size_t j = i + 1;
        int zero = 0, width = 0;
        if (text[j] == '0') {
            zero = 1;
            j++;
        }
        while (wstask_is_digit(text[j]) && width <= WSTASK_PATTERN_MAX_WIDTH)
            width = width * 10 + (text[j++] - '0');
        if (width > WSTASK_PATTERN_MAX_WIDTH ||
            (text[j] != 'd' && text[j] != 'i' && text[j] != 'u')) {
            snprintf(why, why_size,
                     "'%%' at character %zu is not %%d, %%i, %%u (with an optional 0 flag "
                     "and a width up to %d) or %%%%",
                     i + 1, WSTASK_PATTERN_MAX_WIDTH);
            return -1;
        }
        if (found) {
            snprintf(why, why_size, "more than one %%d conversion");
            return -1;
        }
        found = 1;
        p->conv_start = i;
        p->conv_end = j + 1;
        p->zero_pad = zero;
        p->width = width;
        i = j;
    }
    return found;
}

/* The pattern's path for `index`, with %% turned into %.  NULL when out of
 * memory. */
static char *wstask_pattern_path(const wstask_index_pattern *p, uint64_t index)
{
    char number[64];
    snprintf(number, sizeof number, p->zero_pad ? "%0*" PRIu64 : "%*" PRIu64, p->width, index);
    size_t len = strlen(p->text) + strlen(number) + 1;
    char *out = (char *)malloc(len);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; p->text[i];) {
        if (i == p->conv_start) {
            memcpy(out + o, number, strlen(number));
            o += strlen(number);
            i = p->conv_end;
        } else if (p->text[i] == '%' && p->text[i + 1] == '%') {
            out[o++] = '%';
            i += 2;
        } else {
            out[o++] = p->text[i++];
        }
    }
    out[o] = '\0';
    return out;
}

static int wstask_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Indices present in the pattern's folder, from one listing instead of a
 * stat per index (2000 stats cost about 5 ms here, a third of the decoding
 * that follows).  Index i is present when the pattern's name for i is in
 * the folder; indices at or above `len` are not covered and need a stat. */
typedef struct wstask_index_set {
    unsigned char *present;
    uint64_t len;
} wstask_index_set;

#define WSTASK_INDEX_SET_MAX (UINT64_C(1) << 24)

/* 0 with *set filled, or -1 when the fast path does not apply (a '%' or
 * an unreadable folder): then every index is checked with stat. */
static int wstask_index_set_build(const wstask_index_pattern *p, wstask_index_set *set)
{
    memset(set, 0, sizeof *set);
    const char *text = p->text;
    const char *slash = strrchr(text, '/');
    size_t base_at = slash ? (size_t)(slash - text) + 1 : 0;
    if (base_at > p->conv_start || memchr(text, '%', base_at))
        return -1;
    char dir[4096];
    if (base_at >= sizeof dir)
        return -1;
    if (base_at) {
        memcpy(dir, text, base_at);
        dir[base_at] = '\0';
    } else {
        strcpy(dir, ".");
    }
    /* The name around the number, with %% read as %. */
    char prefix[1024], suffix[1024];
    size_t np = 0, ns = 0;
    for (size_t i = base_at; i < p->conv_start && np + 1 < sizeof prefix; i++) {
        prefix[np++] = text[i];
        if (text[i] == '%')
            i++;
    }
    for (size_t i = p->conv_end; text[i] && ns + 1 < sizeof suffix; i++) {
        suffix[ns++] = text[i];
        if (text[i] == '%')
            i++;
    }
    prefix[np] = suffix[ns] = '\0';

    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        size_t len = strlen(name);
        if (len <= np + ns || strncmp(name, prefix, np) != 0 ||
            strcmp(name + len - ns, suffix) != 0)
            continue;
        const char *middle = name + np;
        size_t middle_len = len - np - ns;
        const char *digits = middle;
        size_t nd = middle_len;
        while (nd && *digits == ' ') /* %5d pads with spaces */
            digits++, nd--;
        if (nd == 0 || nd > 19)
            continue;
        uint64_t index = 0;
        size_t k = 0;
        while (k < nd && wstask_is_digit(digits[k]))
            index = index * 10 + (uint64_t)(digits[k++] - '0');
        if (k != nd || index >= WSTASK_INDEX_SET_MAX)
            continue;
        /* Only the exact spelling counts: image_07 is not image_%d's 7. */
        char number[64]; /* widths are at most WSTASK_PATTERN_MAX_WIDTH */
        int n = snprintf(number, sizeof number, p->zero_pad ? "%0*" PRIu64 : "%*" PRIu64,
                         p->width, index);
        if (n < 0 || (size_t)n != middle_len || memcmp(number, middle, middle_len) != 0)
            continue;
        if (index >= set->len) {
            uint64_t cap = set->len ? set->len : 4096;
            while (cap <= index)
                cap *= 2;
            unsigned char *grown = (unsigned char *)realloc(set->present, (size_t)cap);
            if (!grown) {
                closedir(d);
                free(set->present);
                memset(set, 0, sizeof *set);
                return -1;
            }
            memset(grown + set->len, 0, (size_t)(cap - set->len));
            set->present = grown;
            set->len = cap;
        }
        set->present[index] = 1;
    }
    closedir(d);
    /* Above the largest index seen, nothing is known: the set ends there
     * only if that was below the cap (else stat decides). */
    if (set->len > WSTASK_INDEX_SET_MAX)
        set->len = WSTASK_INDEX_SET_MAX;
    return 0;
}

static int wstask_input_from_pattern(ws_ctx *ctx, const char *spec, const wstask_index_pattern *p,
                                        wstask_input *in)
{
    int count_given = ws_count_given(ctx);
    uint64_t want = count_given ? ws_run_count(ctx) : UINT64_MAX;
    wstask_index_set set;
    int have_set = wstask_index_set_build(p, &set) == 0;
    for (uint64_t i = 0; i < want; i++) {
        if (ws_stopping(ctx)) { /* a Ctrl-C during a long --count */
            free(set.present);
            return ws_fail(ctx, "input '%s': listing stopped by an interrupt at index %" PRIu64,
                           spec, i);
        }
        char *path = wstask_pattern_path(p, i);
        if (!path) {
            free(set.present);
            return ws_fail(ctx, "out of memory listing input '%s'", spec);
        }
        int present = have_set && i < set.len ? set.present[i]
                      : have_set && set.len < WSTASK_INDEX_SET_MAX ? 0
                                                               : wstask_path_exists(path);
        if (!present) {
            free(set.present);
            if (count_given) {
                int rc = ws_fail(ctx,
                                 "input '%s': --count %" PRIu64 " asks for index %" PRIu64
                                 " but %s does not exist",
                                 spec, want, i, path);
                free(path);
                return rc;
            }
            free(path);
            return WS_OK; /* without --count the files run from 0 to the first gap */
        }
        if (wstask_input_push(in, path) != 0) {
            free(set.present);
            return ws_fail(ctx, "out of memory listing input '%s'", spec);
        }
    }
    free(set.present);
    return WS_OK;
}

/* A pattern whose wildcards are all in the last component is matched
 * against one folder listing with fnmatch, as glob(3) would, but without
 * glob's stat of every match (GLOB_MARK) or of every name: d_type tells the
 * folders apart.  -1 when that shortcut does not apply. */
static int wstask_glob_one_folder(const char *spec, wstask_input *in, int *out_of_memory)
{
    const char *slash = strrchr(spec, '/');
    size_t base_at = slash ? (size_t)(slash - spec) + 1 : 0;
    char dir[4096];
    if (base_at >= sizeof dir)
        return -1;
    memcpy(dir, spec, base_at);
    dir[base_at] = '\0';
    if (strpbrk(dir, "*?[\\"))
        return -1;
    DIR *d = opendir(base_at ? dir : ".");
    if (!d)
        return -1;
    const char *base = spec + base_at;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            fnmatch(base, e->d_name, FNM_PERIOD) != 0)
            continue;
        if (e->d_type == DT_DIR)
            continue;
        if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
            struct stat st;
            if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode))
                continue;
        }
        size_t len = base_at + strlen(e->d_name) + 1;
        char *path = (char *)malloc(len);
        if (path)
            snprintf(path, len, "%s%s", dir, e->d_name);
        if (wstask_input_push(in, path) != 0) {
            *out_of_memory = 1;
            break;
        }
    }
    closedir(d);
    return 0;
}

static int wstask_input_from_glob(ws_ctx *ctx, const char *spec, wstask_input *in)
{
    int out_of_memory = 0;
    if (wstask_glob_one_folder(spec, in, &out_of_memory) == 0) {
        if (out_of_memory)
            return ws_fail(ctx, "out of memory listing input '%s'", spec);
        wstask_input_sort(in);
        return WS_OK;
    }
    glob_t g;
    memset(&g, 0, sizeof g);
    /* GLOB_MARK appends '/' to folders, so they can be left out. */
    int rc = glob(spec, GLOB_NOSORT | GLOB_MARK, NULL, &g);
    if (rc == GLOB_NOSPACE) {
        globfree(&g);
        return ws_fail(ctx, "out of memory expanding input '%s'", spec);
    }
    if (rc == GLOB_ABORTED) {
        globfree(&g);
        return ws_fail(ctx, "input '%s': cannot read a folder while expanding the pattern", spec);
    }
    for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        size_t len = strlen(path);
        if (len && path[len - 1] == '/')
            continue;
        if (wstask_input_push(in, strdup(path)) != 0) {
            globfree(&g);
            return ws_fail(ctx, "out of memory listing input '%s'", spec);
        }
    }
    globfree(&g);
    wstask_input_sort(in);
    return WS_OK;
}

/* Regular files (or links to them) of a folder, without hidden files: the
 * temporaries of an unfinished run start with a dot. */
static int wstask_input_from_folder(ws_ctx *ctx, const char *spec, wstask_input *in)
{
    DIR *dir = opendir(spec);
    if (!dir)
        return ws_fail(ctx, "input folder '%s': %s", spec, strerror(errno));
    size_t spec_len = strlen(spec);
    int need_slash = spec_len && spec[spec_len - 1] != '/';
    struct dirent *e;
    errno = 0;
    while ((e = readdir(dir)) != NULL) {
        if (ws_stopping(ctx)) { /* a Ctrl-C in a folder of millions */
            closedir(dir);
            return ws_fail(ctx, "input folder '%s': listing stopped by an interrupt", spec);
        }
        if (e->d_name[0] == '.')
            continue;
        int regular = e->d_type == DT_REG;
        if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
            struct stat st;
            regular = fstatat(dirfd(dir), e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode);
        }
        if (!regular)
            continue;
        size_t len = spec_len + (size_t)need_slash + strlen(e->d_name) + 1;
        char *path = (char *)malloc(len);
        if (path)
            snprintf(path, len, "%s%s%s", spec, need_slash ? "/" : "", e->d_name);
        if (wstask_input_push(in, path) != 0) {
            closedir(dir);
            return ws_fail(ctx, "out of memory listing folder '%s'", spec);
        }
        errno = 0;
    }
    int read_errno = errno;
    closedir(dir);
    if (read_errno)
        return ws_fail(ctx, "input folder '%s': %s", spec, strerror(read_errno));
    wstask_input_sort(in);
    return WS_OK;
}

/* As wstask_input_push, recording that the path is line `line` of the list. */
static int wstask_input_push_listed(wstask_input *in, char *path, size_t line)
{
    size_t cap_before = in->cap;
    if (wstask_input_push(in, path) != 0)
        return -1;
    if (!in->lines || in->cap != cap_before) {
        size_t *grown = (size_t *)realloc(in->lines, in->cap * sizeof *grown);
        if (!grown)
            return -1;
        in->lines = grown;
    }
    in->lines[in->n - 1] = line;
    return 0;
}

/* The longest list line taken as a path: twice PATH_MAX, so a path the
 * system would refuse still reaches its own message ("File name too
 * long"), while /dev/zero or a binary file named as a list cannot make
 * one line grow without bound. */
#define WSTASK_LIST_LINE_MAX (2 * PATH_MAX)
#define WSTASK_LIST_READ_BYTES 65536

/* Wait until fd has bytes (or end of file) or the run is stopping: a pipe
 * or FIFO may block for ever, and a Ctrl-C may be delivered to another
 * thread, so the wait wakes now and then to look at ws_stopping.  1 when
 * stopping. */
static int wstask_list_wait(ws_ctx *ctx, int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        if (ws_stopping(ctx))
            return 1;
        int r = poll(&p, 1, 100);
        if (r > 0 || (r < 0 && errno != EINTR))
            return 0; /* ready, or a fault that read() will report */
    }
}

/* One path per line, in the list's order; blank lines are skipped and a
 * trailing '\r' is dropped.  Relative paths are taken from the current
 * folder, as a shell would.  A NUL byte, or a line longer than any path,
 * means the file is no list (an image named without its extension, a
 * device): an error naming the line.  Read through a fixed buffer, line
 * by line, so memory is bounded by the paths kept; a Ctrl-C ends it. */
static int wstask_input_from_list(ws_ctx *ctx, const char *spec, int fd, wstask_input *in)
{
    in->list = strdup(spec);
    char *buf = (char *)malloc(WSTASK_LIST_READ_BYTES);
    char *line = (char *)malloc(WSTASK_LIST_LINE_MAX + 1);
    if (!in->list || !buf || !line) {
        free(buf);
        free(line);
        return ws_fail(ctx, "out of memory reading list '%s'", spec);
    }
    struct stat st;
    int may_block = fstat(fd, &st) != 0 || !S_ISREG(st.st_mode);
    size_t len = 0, pos = 0, used = 0, line_no = 1;
    int rc = WS_OK, at_end = 0;
    while (rc == WS_OK && !at_end) {
        if (pos == len) {
            if (ws_stopping(ctx) || (may_block && wstask_list_wait(ctx, fd))) {
                rc = ws_fail(ctx, "%s: listing stopped by an interrupt at line %zu", spec, line_no);
                break;
            }
            ssize_t got = read(fd, buf, WSTASK_LIST_READ_BYTES);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0) {
                rc = ws_fail(ctx, "cannot read list '%s': %s", spec, strerror(errno));
                break;
            }
            len = (size_t)got;
            pos = 0;
            at_end = got == 0;
        }
        while (pos < len || at_end) {
            char c = at_end ? '\n' : buf[pos++];
            if (c == '\0') {
                rc = ws_fail(ctx, "%s:%zu: a NUL byte: this is not a list of paths, one per line "
                                  "(an image must be named with its extension, such as .png)",
                             spec, line_no);
                break;
            }
            if (c != '\n') {
                if (used == WSTASK_LIST_LINE_MAX) {
                    rc = ws_fail(ctx, "%s:%zu: a line longer than %d bytes: this is not a list of "
                                      "paths, one per line",
                                 spec, line_no, WSTASK_LIST_LINE_MAX);
                    break;
                }
                line[used++] = c;
                continue;
            }
            while (used > 0 && line[used - 1] == '\r')
                used--;
            line[used] = '\0';
            if (used > 0 && wstask_input_push_listed(in, strdup(line), line_no) != 0) {
                rc = ws_fail(ctx, "out of memory reading list '%s'", spec);
                break;
            }
            used = 0;
            line_no++;
            if (at_end)
                break;
        }
    }
    free(buf);
    free(line);
    return rc;
}

static int wstask_file_is_png(const char *path)
{
    static const unsigned char signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    unsigned char head[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t got = read(fd, head, sizeof head);
    close(fd);
    return got == (ssize_t)sizeof head && memcmp(head, signature, sizeof head) == 0;
}

/* 1 when the file name ends in an image extension, in any case.  Only PNG
 * is decoded; the others are here so that photo.jpg is refused as "not a
 * PNG file" (or checksummed whole with mode=raw) instead of being taken for a
 * list of paths. */
static int wstask_has_image_extension(const char *path)
{
    static const char *const wstask_image_extensions[] = {"png", "apng", "jpg",  "jpeg", "gif",
                                                      "bmp", "tif",  "tiff", "webp", NULL};
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    if (!dot || dot == (slash ? slash + 1 : path)) /* ".png" alone is a hidden name */
        return 0;
    for (int k = 0; wstask_image_extensions[k]; k++)
        if (strcasecmp(dot + 1, wstask_image_extensions[k]) == 0)
            return 1;
    return 0;
}

static int wstask_has_glob_chars(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

int wstask_input_select(ws_ctx *ctx, const char *spec, wstask_input *in)
{
    memset(in, 0, sizeof *in);
    if (!spec || !*spec)
        return ws_fail(ctx, "-o input=... is required: a glob ('image_*.png'), a folder, a list "
                            "file ('-' for stdin) or a pattern with --count (image_%%d.png)");

    char why[160];
    wstask_index_pattern pattern;
    struct stat st;
    int rc;
    const char *kind;
    int is_pattern = 0;

    if (strcmp(spec, "-") == 0) {
        kind = "list";
        rc = wstask_input_from_list(ctx, "stdin", STDIN_FILENO, in);
    } else if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode)) {
        kind = "folder";
        rc = wstask_input_from_folder(ctx, spec, in);
    } else if (stat(spec, &st) == 0) {
        /* Only a regular file is peeked at: the 8 bytes read from a pipe
         * (-o input=<(find ...)) would be gone for the list. */
        if (wstask_has_image_extension(spec) || (S_ISREG(st.st_mode) && wstask_file_is_png(spec))) {
            kind = "file";
            rc = wstask_input_push(in, strdup(spec)) == 0
                     ? WS_OK
                     : ws_fail(ctx, "out of memory listing input '%s'", spec);
        } else {
            /* A FIFO's open waits for its writer (a Ctrl-C ends the wait
             * with EINTR: the handler has no SA_RESTART). */
            int fd = open(spec, O_RDONLY | O_CLOEXEC);
            if (fd < 0 && (errno == EINTR || ws_stopping(ctx)))
                return ws_fail(ctx, "%s: listing stopped by an interrupt", spec);
            if (fd < 0)
                return ws_fail(ctx, "cannot open list '%s': %s", spec, strerror(errno));
            kind = "list";
            rc = wstask_input_from_list(ctx, spec, fd, in);
            close(fd);
        }
    } else if (errno != ENOENT && errno != ENOTDIR) {
        /* A symlink loop (ELOOP), a name too long, a folder not searchable:
         * the same reason the list case gives, not "no such file". */
        return ws_fail(ctx, "input '%s': %s", spec, strerror(errno));
    } else {
        int p = wstask_pattern_parse(spec, &pattern, why, sizeof why);
        if (p < 0)
            return ws_fail(ctx, "input pattern '%s': %s", spec, why);
        if (p == 1) {
            kind = "pattern";
            is_pattern = 1;
            rc = wstask_input_from_pattern(ctx, spec, &pattern, in);
        } else if (wstask_has_glob_chars(spec)) {
            kind = "glob";
            rc = wstask_input_from_glob(ctx, spec, in);
        } else {
            return ws_fail(ctx, "input '%s': no such file or folder", spec);
        }
    }
    if (rc != WS_OK) {
        wstask_input_free(in);
        return rc;
    }

    if (in->n == 0) {
        wstask_input_free(in);
        if (is_pattern) {
            char *first = wstask_pattern_path(&pattern, 0);
            rc = ws_fail(ctx, "input pattern '%s': no files (%s does not exist)", spec,
                         first ? first : "index 0");
            free(first);
            return rc;
        }
        return ws_fail(ctx, "input %s '%s': no files found", kind, spec);
    }
    if (ws_count_given(ctx)) {
        uint64_t want = ws_run_count(ctx);
        if (want > in->n) {
            size_t found = in->n;
            wstask_input_free(in);
            return ws_fail(ctx,
                           "input %s '%s' has %zu file(s) but --count is %" PRIu64
                           ": no file for index %zu",
                           kind, spec, found, want, found);
        }
        while (in->n > want)
            free(in->paths[--in->n]);
    } else {
        ws_set_count(ctx, in->n);
    }
    return WS_OK;
}
