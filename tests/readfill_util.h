/*
 * readfill_util.h - helpers shared by test_read.c and test_fill.c: a fresh
 * work folder under /tmp, running the real $WSRUN_BUILD/wsrun in it (with
 * an optional file-size limit, stdin file or another user) while capturing
 * its exit status, stdout, stderr and peak memory, and writing and decoding
 * PNGs with libpng directly, independently of the plugins' own decoder.
 *
 * Never writes outside its own /tmp/test_readfill.* folder (and, for a run
 * as nobody, a /tmp/test_readfill_bin.* copy of wsrun), and removes them.
 */
#ifndef WSTEST_READFILL_UTIL_H
#define WSTEST_READFILL_UTIL_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <png.h>
#include <zlib.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "work_util.h"

static inline void rf_setup(void)
{
    work_setup("/tmp/test_readfill.");
    chmod(work_dir, 0755); /* the unreadable-file tests run wsrun as nobody */
}

typedef struct rf_opts {
    const char *stdin_path; /* NULL: /dev/null */
    long fsize_limit;       /* bytes; 0: none (SIGXFSZ is ignored when set) */
    int as_nobody;          /* drop to uid/gid 65534 before exec */
    const char *cwd;        /* NULL: work_dir */
} rf_opts;

typedef struct rf_result {
    int status; /* exit code, or 128 + signal */
    char out[1 << 20];
    char err[16384];
    long maxrss_kb;
} rf_result;

static inline void rf_slurp(int fd, char *buf, size_t cap)
{
    lseek(fd, 0, SEEK_SET);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
}

/* Copy `from` to `to` with `mode`; fails the test on any error. */
static inline void rf_copy_file(const char *from, const char *to, mode_t mode)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    cr_assert(in >= 0, "open %s: %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    cr_assert(out >= 0, "create %s: %s", to, strerror(errno));
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        cr_assert_eq(write(out, buf, (size_t)n), n, "write %s: %s", to, strerror(errno));
    cr_assert_eq(n, 0, "read %s: %s", from, strerror(errno));
    close(in);
    cr_assert_eq(fchmod(out, mode), 0, "chmod %s: %s", to, strerror(errno)); /* umask */
    cr_assert_eq(close(out), 0, "close %s: %s", to, strerror(errno));
}

/* Another user cannot reach the build when the clone lives under a 0700
 * folder (/root on Debian): copy wsrun and the plugin into a fresh 0755
 * folder in /tmp for the run as nobody.  `dir` gets the folder (removed by
 * rf_remove_copy). */
static inline void rf_copy_for_nobody(const char *plugin, char *dir, size_t dir_size,
                                      char *wsrun, size_t wsrun_size, char *plugin_path,
                                      size_t plugin_size)
{
    snprintf(dir, dir_size, "/tmp/test_readfill_bin.XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    cr_assert_eq(chmod(dir, 0755), 0, "chmod %s: %s", dir, strerror(errno));
    char from[PATH_MAX + 64];
    snprintf(wsrun, wsrun_size, "%s/wsrun", dir);
    snprintf(from, sizeof from, "%s/wsrun", work_build);
    rf_copy_file(from, wsrun, 0755);
    snprintf(plugin_path, plugin_size, "%s/%s.so", dir, plugin);
    snprintf(from, sizeof from, "%s/plugins/%s.so", work_build, plugin);
    rf_copy_file(from, plugin_path, 0755);
}

static inline void rf_remove_copy(const char *dir, const char *wsrun, const char *plugin_path)
{
    unlink(wsrun);
    unlink(plugin_path);
    cr_assert_eq(rmdir(dir), 0, "rmdir %s: %s", dir, strerror(errno));
}

/* In the child: say why wsrun could not start (on the captured stderr),
 * then exit with `code` (120-124, which the parent reports). */
static inline _Noreturn void rf_child_fail(int err_fd, int code, const char *what,
                                           const char *detail)
{
    dprintf(err_fd, "test harness: %s%s: %s\n", what, detail ? detail : "", strerror(errno));
    _exit(code);
}

/* Run `wsrun --plugin <plugin> args...` (NULL-terminated). */
static inline void rf_wsrun_v(rf_result *r, const rf_opts *o, const char *plugin, const char **args)
{
    char wsrun[PATH_MAX + 16], plugin_path[PATH_MAX + 64], copy_dir[64] = "";
    snprintf(wsrun, sizeof wsrun, "%s/wsrun", work_build);
    snprintf(plugin_path, sizeof plugin_path, "%s/plugins/%s.so", work_build, plugin);
    if (o && o->as_nobody)
        rf_copy_for_nobody(plugin, copy_dir, sizeof copy_dir, wsrun, sizeof wsrun, plugin_path,
                           sizeof plugin_path);
    const char *argv[64];
    int argc = 0;
    argv[argc++] = wsrun;
    argv[argc++] = "--plugin";
    argv[argc++] = plugin_path;
    argv[argc++] = "--no-progress";
    for (int i = 0; args[i] && argc < 63; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;

    int out_fd = memfd_create("stdout", MFD_CLOEXEC);
    int err_fd = memfd_create("stderr", MFD_CLOEXEC);
    cr_assert(out_fd >= 0 && err_fd >= 0, "memfd_create: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        const char *cwd = o && o->cwd ? o->cwd : work_dir;
        if (chdir(cwd) != 0)
            rf_child_fail(err_fd, 120, "chdir ", cwd);
        int in = open(o && o->stdin_path ? o->stdin_path : "/dev/null", O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
            rf_child_fail(err_fd, 121, "redirect stdin/stdout/stderr", NULL);
        if (o && o->fsize_limit) {
            struct rlimit lim = {(rlim_t)o->fsize_limit, (rlim_t)o->fsize_limit};
            signal(SIGXFSZ, SIG_IGN); /* so writes fail with EFBIG instead */
            if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
                rf_child_fail(err_fd, 122, "setrlimit RLIMIT_FSIZE", NULL);
        }
        if (o && o->as_nobody && (setgid(65534) != 0 || setuid(65534) != 0))
            rf_child_fail(err_fd, 123, "drop to uid/gid 65534", NULL);
        execv(wsrun, (char *const *)argv);
        rf_child_fail(err_fd, 124, "exec ", wsrun);
    }
    int status;
    struct rusage ru;
    cr_assert_eq(wait4(pid, &status, 0, &ru), pid);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->maxrss_kb = ru.ru_maxrss;
    rf_slurp(out_fd, r->out, sizeof r->out);
    rf_slurp(err_fd, r->err, sizeof r->err);
    if (copy_dir[0])
        rf_remove_copy(copy_dir, wsrun, plugin_path);
    cr_assert(r->status < 120 || r->status > 124, "could not start wsrun (%d): %s", r->status,
              r->err);
}

#define rf_wsrun(r, o, plugin, ...)                                                            \
    rf_wsrun_v((r), (o), (plugin), (const char *[]){__VA_ARGS__, NULL})

/* Names in work_dir/sub (not . or ..) that start with a dot: temporaries. */
static inline int rf_count_hidden(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static inline int rf_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The whole file; *len set.  Fails the test if unreadable. */
static inline unsigned char *rf_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)size + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static inline void rf_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

/* A PNG of any type from its rows as PNG stores them (packed, 16-bit
 * big-endian).  palette/trans may be NULL. */
typedef struct rf_png {
    uint32_t width, height;
    int color_type, bit_depth, interlace;
    const unsigned char *rows; /* height rows of rf_png_rowbytes() */
    const png_color *palette;
    int palette_len;
    const unsigned char *trans; /* palette alpha, or NULL */
    int trans_len;
    const png_color_16 *trans_color; /* gray/RGB tRNS, or NULL */
} rf_png;

static inline size_t rf_png_channels(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1;
    }
}

static inline size_t rf_png_rowbytes(const rf_png *p)
{
    return ((size_t)p->width * rf_png_channels(p->color_type) * (size_t)p->bit_depth + 7) / 8;
}

static inline int rf_png_emit(png_structp png, png_infop info, FILE *f, const rf_png *p)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_init_io(png, f);
    png_set_IHDR(png, info, p->width, p->height, p->bit_depth, p->color_type, p->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (p->palette)
        png_set_PLTE(png, info, p->palette, p->palette_len);
    if (p->trans || p->trans_color)
        png_set_tRNS(png, info, p->trans, p->trans_len, p->trans_color);
    png_write_info(png, info);
    int passes = png_set_interlace_handling(png);
    size_t rb = rf_png_rowbytes(p);
    for (int pass = 0; pass < passes; pass++)
        for (uint32_t y = 0; y < p->height; y++)
            png_write_row(png, p->rows + (size_t)y * rb);
    png_write_end(png, NULL);
    return 0;
}

static inline void rf_write_png(const char *path, const rf_png *p)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s: %s", path, strerror(errno));
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    int rc = rf_png_emit(png, info, f, p);
    png_destroy_write_struct(&png, &info);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(rc, 0, "libpng could not write %s", path);
}

/* An 8-bit gray w x h PNG whose pixel (x, y) is (x + y * 7 + salt) & 255. */
static inline void rf_write_gray(const char *path, uint32_t w, uint32_t h, unsigned salt)
{
    unsigned char *rows = malloc((size_t)w * h);
    cr_assert_not_null(rows);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            rows[(size_t)y * w + x] = (unsigned char)((x + y * 7 + salt) & 255);
    rf_png p = {.width = w, .height = h, .color_type = PNG_COLOR_TYPE_GRAY, .bit_depth = 8,
                .rows = rows};
    rf_write_png(path, &p);
    free(rows);
}

typedef struct rf_image {
    uint32_t width, height, channels, bit_depth;
    size_t bytes;
    unsigned char *pixels; /* 16-bit samples little-endian */
} rf_image;

static inline int rf_decode_rows(png_structp png, png_infop info, FILE *f, rf_image *d)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_init_io(png, f);
    png_read_info(png, info);
    if (png_get_bit_depth(png, info) == 16)
        png_set_swap(png);
    png_read_update_info(png, info);
    d->width = png_get_image_width(png, info);
    d->height = png_get_image_height(png, info);
    d->channels = png_get_channels(png, info);
    d->bit_depth = png_get_bit_depth(png, info);
    size_t rb = png_get_rowbytes(png, info);
    d->bytes = rb * d->height;
    d->pixels = malloc(d->bytes ? d->bytes : 1);
    if (!d->pixels)
        return -1;
    for (uint32_t y = 0; y < d->height; y++)
        png_read_row(png, d->pixels + (size_t)y * rb, NULL);
    png_read_end(png, NULL);
    return 0;
}

/* Decode a non-interlaced 8- or 16-bit gray/RGB PNG with libpng directly. */
static inline void rf_decode(const char *path, rf_image *d)
{
    memset(d, 0, sizeof *d);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    int rc = rf_decode_rows(png, info, f, d);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    cr_assert_eq(rc, 0, "libpng could not decode %s", path);
}

/* Copy of `src` cut to its first `len` bytes, at dst. */
static inline void rf_truncate_copy(const char *src, const char *dst, size_t len)
{
    size_t n;
    unsigned char *data = rf_read_file(src, &n);
    cr_assert(len < n);
    rf_write_file(dst, data, len);
    free(data);
}

/* A valid-looking PNG start whose IHDR claims width x height: signature,
 * IHDR with a correct CRC, then an IDAT of a few bytes and IEND. */
static inline void rf_write_huge_header(const char *path, uint32_t width, uint32_t height)
{
    unsigned char buf[64];
    size_t n = 0;
    static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    memcpy(buf, sig, 8);
    n = 8;
    unsigned char ihdr[17] = {'I', 'H', 'D', 'R'};
    for (int k = 0; k < 4; k++) {
        ihdr[4 + k] = (unsigned char)(width >> (24 - 8 * k));
        ihdr[8 + k] = (unsigned char)(height >> (24 - 8 * k));
    }
    ihdr[12] = 8; /* bit depth */
    ihdr[13] = 0; /* gray */
    buf[n++] = 0, buf[n++] = 0, buf[n++] = 0, buf[n++] = 13;
    memcpy(buf + n, ihdr, 17);
    n += 17;
    uLong crc = crc32(0, ihdr, 17);
    for (int k = 0; k < 4; k++)
        buf[n++] = (unsigned char)(crc >> (24 - 8 * k));
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    memcpy(buf + n, iend, 12);
    n += 12;
    rf_write_file(path, buf, n);
}

/* Why a run as nobody cannot show a chmod 000 file failing here, or NULL
 * when it can: the child cannot change user (root without CAP_SETUID, as
 * in some containers), or nobody still reads the file. */
static inline const char *rf_nobody_cannot_test(const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(2);
        int fd = open(path, O_RDONLY);
        _exit(fd >= 0 ? 1 : 0);
    }
    int status;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return NULL;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
        return "running as root but cannot change to uid 65534 (no CAP_SETUID?)";
    return "running as root and uid 65534 still reads a mode 000 file";
}

#endif
