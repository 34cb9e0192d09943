/*
 * test_noise.c - the noise plugin end to end: runs the real $WSRUN_BUILD/wsrun
 * in a fresh folder under /tmp, decodes what it wrote with libpng and checks
 * size, format and every pixel against wstask_noise_pixels; -j1 against -j4
 * byte for byte; the bytes of 50 images against digests taken before; seeds; no temporary file left; write failures and bad
 * options with their exit status and message.
 *
 * Never writes outside its own /tmp/test_noise.* folders, and removes them.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "wsrun.h"
#include "../tasks/noise_pixels.h"
#include "../tasks/xxh64.h"

static char work[PATH_MAX];      /* this test's output folder */
static char wsrun_path[PATH_MAX];
static char err_text[8192];      /* stderr of the last run */

static void make_workdir(void)
{
    const char *build = getenv("WSRUN_BUILD");
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "%s/wsrun", build && *build ? build : "build");
    cr_assert_not_null(realpath(rel, wsrun_path), "cannot find %s (set WSRUN_BUILD)", rel);
    snprintf(work, sizeof work, "/tmp/test_noise.XXXXXX");
    cr_assert_not_null(mkdtemp(work), "mkdtemp: %s", strerror(errno));
}

static void remove_workdir(void)
{
    char cmd[2 * PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.err'", work, work);
    if (work[0] && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", work);
}

TestSuite(noise, .init = make_workdir, .fini = remove_workdir);

/* Run "wsrun --plugin noise ARGS" inside the work folder, with `shell_pre`
 * (e.g. a ulimit) before it.  Returns the exit status; stderr in err_text. */
static int run_noise_with(const char *shell_pre, const char *args)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s '%s' --plugin noise %s 2>'%s.err' >/dev/null", work,
             shell_pre, wsrun_path, args, work);
    int status = system(cmd);
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s.err", work);
    err_text[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(err_text, 1, sizeof err_text - 1, f);
        err_text[n] = '\0';
        fclose(f);
    }
    cr_assert(WIFEXITED(status), "wsrun did not exit normally (status %d): %s", status,
              err_text);
    return WEXITSTATUS(status);
}

/* The pixel definition of noise_pixels.h, spelled out with the public
 * header's own ws_rng_fill rather than the plugin's faster copy of it. */
static void definition_pixels(uint64_t seed, uint64_t index, unsigned char *buf, size_t n)
{
    ws_rng r = ws_rng_make(seed, index);
    ws_rng_fill(&r, buf, n);
}

static int run_noise(const char *args)
{
    return run_noise_with("", args);
}

/* Names in `dir` (not . or ..), sorted count only. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

typedef struct decoded {
    png_uint_32 width, height;
    int bit_depth, color_type, interlace;
    size_t rowbytes;
    unsigned char *samples; /* rows back to back, as stored (16-bit big-endian) */
} decoded;

static int decode_rows(png_structp png, png_infop info, FILE *f, decoded *d)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_init_io(png, f);
    png_read_info(png, info);
    png_get_IHDR(png, info, &d->width, &d->height, &d->bit_depth, &d->color_type,
                 &d->interlace, NULL, NULL);
    d->rowbytes = png_get_rowbytes(png, info);
    d->samples = malloc(d->rowbytes * d->height);
    if (!d->samples)
        return -1;
    for (png_uint_32 y = 0; y < d->height; y++)
        png_read_row(png, d->samples + (size_t)y * d->rowbytes, NULL);
    png_read_end(png, NULL);
    return 0;
}

/* Decode work/<name> without any transform; fails the test if libpng does. */
static void decode(const char *name, decoded *d)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", work, name);
    memset(d, 0, sizeof *d);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    int rc = decode_rows(png, info, f, d);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    cr_assert_eq(rc, 0, "libpng could not decode %s", path);
}

/* Decode image_<index>.png and check it is width x height of the given
 * format holding exactly the defined pixels of (seed, index). */
static void check_image(const char *prefix, uint64_t index, uint64_t seed, uint32_t width,
                        uint32_t height, int color_type, int bit_depth)
{
    char name[256];
    snprintf(name, sizeof name, "%s%llu.png", prefix, (unsigned long long)index);
    decoded d;
    decode(name, &d);
    int channels = color_type == PNG_COLOR_TYPE_RGB ? 3 : 1;
    cr_assert_eq(d.width, width, "%s: width %u", name, (unsigned)d.width);
    cr_assert_eq(d.height, height, "%s: height %u", name, (unsigned)d.height);
    cr_assert_eq(d.color_type, color_type, "%s: color type %d", name, d.color_type);
    cr_assert_eq(d.bit_depth, bit_depth, "%s: bit depth %d", name, d.bit_depth);
    cr_assert_eq(d.interlace, PNG_INTERLACE_NONE, "%s: interlaced", name);
    size_t nbytes = (size_t)width * height * channels * (bit_depth / 8);
    cr_assert_eq(d.rowbytes * d.height, nbytes, "%s: %zu sample bytes", name,
                 d.rowbytes * d.height);
    unsigned char *want = malloc(nbytes);
    cr_assert_not_null(want);
    definition_pixels(seed, index, want, nbytes);
    cr_assert(memcmp(want, d.samples, nbytes) == 0, "%s: pixels differ from the definition",
              name);
    free(want);
    free(d.samples);
}

static void check_run(const char *opts, uint64_t count, uint32_t width, uint32_t height,
                      int color_type, int bit_depth)
{
    char args[512];
    snprintf(args, sizeof args, "--count %llu -j2 --seed 7 %s", (unsigned long long)count, opts);
    cr_assert_eq(run_noise(args), 0, "wsrun %s failed: %s", args, err_text);
    cr_assert_eq(count_entries(work), (int)count, "expected exactly %llu files",
                 (unsigned long long)count);
    for (uint64_t i = 0; i < count; i++)
        check_image("image_", i, 7, width, height, color_type, bit_depth);
}

Test(noise, default_is_100x100_gray8)
{
    check_run("", 5, 100, 100, PNG_COLOR_TYPE_GRAY, 8);
}

Test(noise, gray16)
{
    check_run("-o depth=16", 4, 100, 100, PNG_COLOR_TYPE_GRAY, 16);
}

Test(noise, rgb8)
{
    check_run("-o channels=rgb -o width=64 -o height=33", 4, 64, 33, PNG_COLOR_TYPE_RGB, 8);
}

Test(noise, rgb16)
{
    check_run("-o channels=rgb -o depth=16 -o width=31 -o height=17", 4, 31, 17,
              PNG_COLOR_TYPE_RGB, 16);
}

Test(noise, one_by_one)
{
    check_run("-o width=1 -o height=1", 6, 1, 1, PNG_COLOR_TYPE_GRAY, 8);
}

Test(noise, seven_by_three_every_format)
{
    check_run("-o width=7 -o height=3 -o channels=rgb -o depth=16", 3, 7, 3, PNG_COLOR_TYPE_RGB,
              16);
}

Test(noise, odd_rows_gray16)
{
    check_run("-o width=7 -o height=3 -o depth=16", 3, 7, 3, PNG_COLOR_TYPE_GRAY, 16);
}

/* Big enough that libpng and zlib outgrow the worker's first arena block;
 * the block grows and the later images reuse it. */
Test(noise, large_image_grows_the_arena)
{
    check_run("-o width=400 -o height=300 -o channels=rgb -o depth=16", 3, 400, 300,
              PNG_COLOR_TYPE_RGB, 16);
}

/* Every non-default compression setting still writes the same pixels. */
Test(noise, compression_settings_keep_pixels)
{
    const char *settings[] = {"-o level=1 -o strategy=rle -o filter=sub",
                              "-o level=6 -o filter=adaptive",
                              "-o level=9 -o strategy=huffman -o filter=paeth",
                              "-o level=3 -o strategy=filtered -o filter=avg",
                              "-o level=2 -o strategy=fixed -o filter=up"};
    for (size_t s = 0; s < sizeof settings / sizeof settings[0]; s++) {
        char args[256];
        snprintf(args, sizeof args, "--count 2 --seed 3 -o width=33 -o height=9 %s",
                 settings[s]);
        cr_assert_eq(run_noise(args), 0, "%s: %s", args, err_text);
        for (uint64_t i = 0; i < 2; i++)
            check_image("image_", i, 3, 33, 9, PNG_COLOR_TYPE_GRAY, 8);
    }
}

Test(noise, prefix_with_folder)
{
    char sub[PATH_MAX + 8];
    snprintf(sub, sizeof sub, "%s/out", work);
    cr_assert_eq(mkdir(sub, 0755), 0);
    cr_assert_eq(run_noise("--count 3 -o prefix=out/img_"), 0, "%s", err_text);
    cr_assert_eq(count_entries(sub), 3);
    cr_assert_eq(count_entries(work), 1, "only out/ in the work folder");
    for (uint64_t i = 0; i < 3; i++)
        check_image("out/img_", i, 0, 100, 100, PNG_COLOR_TYPE_GRAY, 8);
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    rewind(f);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

Test(noise, j1_and_j4_are_byte_identical)
{
    char a[PATH_MAX + 8], b[PATH_MAX + 8];
    snprintf(a, sizeof a, "%s/a", work);
    snprintf(b, sizeof b, "%s/b", work);
    cr_assert_eq(mkdir(a, 0755), 0);
    cr_assert_eq(mkdir(b, 0755), 0);
    const int count = 64;
    cr_assert_eq(run_noise("--count 64 --seed 99 -j1 -o prefix=a/image_ -o width=37 -o height=11"),
                 0, "%s", err_text);
    cr_assert_eq(run_noise("--count 64 --seed 99 -j4 -o prefix=b/image_ -o width=37 -o height=11"),
                 0, "%s", err_text);
    cr_assert_eq(count_entries(a), count);
    cr_assert_eq(count_entries(b), count);
    for (int i = 0; i < count; i++) {
        char pa[PATH_MAX + 32], pb[PATH_MAX + 32];
        snprintf(pa, sizeof pa, "%s/image_%d.png", a, i);
        snprintf(pb, sizeof pb, "%s/image_%d.png", b, i);
        size_t na, nb;
        unsigned char *da = slurp(pa, &na), *db = slurp(pb, &nb);
        cr_assert(na == nb && memcmp(da, db, na) == 0, "image_%d.png differs between -j1 and -j4",
                  i);
        free(da);
        free(db);
    }
}

Test(noise, seeds_and_indices_differ)
{
    char a[PATH_MAX + 8], b[PATH_MAX + 8];
    snprintf(a, sizeof a, "%s/a", work);
    snprintf(b, sizeof b, "%s/b", work);
    cr_assert_eq(mkdir(a, 0755), 0);
    cr_assert_eq(mkdir(b, 0755), 0);
    cr_assert_eq(run_noise("--count 2 --seed 1 -o prefix=a/image_"), 0, "%s", err_text);
    cr_assert_eq(run_noise("--count 2 --seed 2 -o prefix=b/image_"), 0, "%s", err_text);
    check_image("a/image_", 0, 1, 100, 100, PNG_COLOR_TYPE_GRAY, 8);
    check_image("b/image_", 0, 2, 100, 100, PNG_COLOR_TYPE_GRAY, 8);
    decoded s1, s2, s1i1;
    decode("a/image_0.png", &s1);
    decode("b/image_0.png", &s2);
    decode("a/image_1.png", &s1i1);
    cr_assert(memcmp(s1.samples, s2.samples, 10000) != 0, "seeds 1 and 2 gave the same image 0");
    cr_assert(memcmp(s1.samples, s1i1.samples, 10000) != 0, "images 0 and 1 are the same");
    free(s1.samples);
    free(s2.samples);
    free(s1i1.samples);
}

/* The files' bytes, pinned: XXH64 chained over image_0.png .. image_49.png
 * (each file's hash seeds the next), as written by the plugin before the
 * issue-27 changes to its arena and row generation (zlib 1.2.13 and libpng
 * 1.6.39; level 0 stores the rows verbatim, so other versions agree).  A
 * change in how the plugin writes must not change a single byte. */
static void check_digest(const char *opts, int jobs, uint64_t want)
{
    char args[512];
    snprintf(args, sizeof args, "--count 50 -j%d %s", jobs, opts);
    cr_assert_eq(run_noise(args), 0, "wsrun %s failed: %s", args, err_text);
    uint64_t h = 0;
    for (int i = 0; i < 50; i++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/image_%d.png", work, i);
        size_t n;
        unsigned char *bytes = slurp(path, &n);
        h = wstask_xxh64(bytes, n, h);
        free(bytes);
    }
    cr_assert_eq(h, want, "%s: digest 0x%016llx, want 0x%016llx", args, (unsigned long long)h,
                 (unsigned long long)want);
}

Test(noise, bytes_are_as_before_at_j1_and_j2)
{
    for (int j = 1; j <= 2; j++) {
        check_digest("", j, UINT64_C(0x3a9b7e886f458abf));
        check_digest("-o channels=rgb -o depth=16 -o width=33 -o height=7", j,
                     UINT64_C(0x8717ddad518eaeab));
    }
}

/* Without --count the plugin writes the seed's 2000 images. */
Test(noise, default_count_is_2000)
{
    cr_assert_eq(run_noise("-o width=2 -o height=2"), 0, "%s", err_text);
    cr_assert_eq(count_entries(work), 2000);
    check_image("image_", 1999, 0, 2, 2, PNG_COLOR_TYPE_GRAY, 8);
}

Test(noise, missing_folder_fails_the_index_and_leaves_nothing)
{
    cr_assert_eq(run_noise("--count 3 -o prefix=nosuch/img_"), 1, "stderr: %s", err_text);
    cr_assert(strstr(err_text, "nosuch/img_") != NULL, "message lacks the path: %s", err_text);
    cr_assert(strstr(err_text, "No such file or directory") != NULL,
              "message lacks the reason: %s", err_text);
    cr_assert_eq(count_entries(work), 0, "something was left in the work folder");
}

/* A failed write (here EFBIG from a file size limit, as ENOSPC would be)
 * fails the index with the path and the system's reason, and neither the
 * temporary nor the final file remains. */
Test(noise, write_error_names_path_and_reason)
{
    /* 4 KB limit (ulimit -f counts 512- or 1024-byte blocks); images are 10 KB.
     * SIGXFSZ ignored so write() reports EFBIG instead of killing wsrun. */
    cr_assert_eq(run_noise_with("trap '' XFSZ; ulimit -f 4 &&", "--count 3 -j1"), 1,
                 "stderr: %s", err_text);
    cr_assert(strstr(err_text, "cannot write image_") != NULL, "no path in: %s", err_text);
    cr_assert(strstr(err_text, "File too large") != NULL, "no reason in: %s", err_text);
    cr_assert_eq(count_entries(work), 0, "a partial or temporary file remains");
}

/* An image bigger than the worker's 64 KB output buffer fails in the middle
 * of libpng's work (its write callback raises the error and libpng unwinds
 * with longjmp); the worker then goes on to the next index cleanly. */
Test(noise, write_error_mid_image_unwinds_libpng)
{
    cr_assert_eq(run_noise_with("trap '' XFSZ; ulimit -f 16 &&",
                                "--count 4 -j2 --keep-going -o width=400 -o height=300"),
                 1, "stderr: %s", err_text);
    cr_assert(strstr(err_text, "cannot write image_") != NULL, "no path in: %s", err_text);
    cr_assert(strstr(err_text, "File too large") != NULL, "no reason in: %s", err_text);
    cr_assert(strstr(err_text, "4 of 4") != NULL, "every index should fail: %s", err_text);
    cr_assert_eq(count_entries(work), 0, "a partial or temporary file remains");
}

Test(noise, no_temporary_file_left)
{
    cr_assert_eq(run_noise("--count 40 -j2 -o width=5 -o height=5"), 0, "%s", err_text);
    DIR *d = opendir(work);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        unsigned idx;
        char tail[8] = "";
        cr_assert(sscanf(e->d_name, "image_%u.%4s", &idx, tail) == 2 && !strcmp(tail, "png") &&
                      idx < 40,
                  "unexpected file %s", e->d_name);
        n++;
    }
    closedir(d);
    cr_assert_eq(n, 40);
}

static void expect_usage_error(const char *args, const char *fragment)
{
    cr_assert_eq(run_noise(args), 2, "%s: expected exit 2; stderr: %s", args, err_text);
    cr_assert(strstr(err_text, fragment) != NULL, "%s: message lacks '%s': %s", args, fragment,
              err_text);
    cr_assert_eq(count_entries(work), 0, "%s: files were written", args);
}

Test(noise, bad_options_exit_2)
{
    expect_usage_error("--count 1 -o width=0", "width");
    expect_usage_error("--count 1 -o height=65536", "height");
    expect_usage_error("--count 1 -o channels=cmyk", "channels");
    expect_usage_error("--count 1 -o depth=12", "depth");
    expect_usage_error("--count 1 -o level=10", "level");
    expect_usage_error("--count 1 -o filter=median", "filter");
    expect_usage_error("--count 1 -o strategy=best", "strategy");
}

Test(noise, oversized_image_exit_2)
{
    expect_usage_error("--count 1 -o width=65535 -o height=65535", "width=65535");
    expect_usage_error("--count 1 -o width=30000 -o height=10000 -o channels=rgb -o depth=16",
                       "limit");
}

/* wstask_noise_pixels and the row-at-an-offset generator agree with the
 * definition (ws_rng_fill) for every length and alignment. */
Test(noise_pixels, whole_image_matches_the_definition)
{
    unsigned char want[203], got[204];
    for (size_t n = 0; n <= sizeof want; n++) {
        definition_pixels(42, 9, want, n);
        memset(got, 0x5A, sizeof got);
        wstask_noise_pixels(42, 9, got, n);
        cr_assert(memcmp(want, got, n) == 0, "length %zu differs", n);
        cr_assert_eq(got[n], 0x5A, "length %zu wrote past the end", n);
    }
}

Test(noise_pixels, bytes_at_any_offset_match_the_definition)
{
    unsigned char whole[96], part[96];
    definition_pixels(5, 11, whole, sizeof whole);
    ws_rng stream = ws_rng_make(5, 11);
    for (size_t off = 0; off < 40; off++) {
        for (size_t n = 0; off + n < sizeof whole && n < 50; n++) {
            memset(part, 0xA5, sizeof part);
            wstask_noise_bytes_at(stream, off, part, n);
            cr_assert(memcmp(part, whole + off, n) == 0, "offset %zu length %zu differ", off, n);
            cr_assert_eq(part[n], 0xA5, "offset %zu length %zu wrote past the end", off, n);
        }
    }
}

Test(noise_pixels, image_bytes_overflow_is_caught)
{
    cr_assert_eq(wstask_noise_image_bytes(100, 100, 1, 1), 10000);
    cr_assert_eq(wstask_noise_image_bytes(65535, 65535, 3, 2), UINT64_C(25769017350));
    cr_assert_eq(wstask_noise_image_bytes(UINT64_MAX / 2, 3, 1, 1), 0);
}
