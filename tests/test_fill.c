/*
 * test_fill.c - the fill plugin end to end: the real wsrun fills a .npy from
 * what the noise plugin wrote and the test checks the header byte for byte,
 * every slot against the pixels libpng decodes here, -j1 == -j4, the noise,
 * constant and index sources, a real NumPy consumer (tests/py/check_npy.py
 * under /usr/bin/python3), and each kind of bad input with its exit status,
 * message and what is left on disk (never a .npy at the output path).
 *
 * Never writes outside its own /tmp/test_readfill.* folder.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <sys/mount.h>

#include "wsrun.h"
#include "readfill_util.h"

TestSuite(fill, .init = rf_setup, .fini = work_teardown);

typedef struct npy {
    unsigned char *data; /* whole file */
    size_t len;
    size_t offset; /* of the array */
    char dict[256];
} npy;

/* Load a .npy and check the parts of its header NumPy's format fixes. */
static void load_npy(const char *path, npy *n)
{
    n->data = rf_read_file(path, &n->len);
    cr_assert_geq(n->len, 64);
    cr_assert(memcmp(n->data, "\x93NUMPY\x01\x00", 8) == 0, "%s: not a v1.0 .npy", path);
    size_t hlen = n->data[8] | (size_t)n->data[9] << 8;
    n->offset = 10 + hlen;
    cr_assert_eq(n->offset % 64, 0, "%s: data at %zu, not 64-aligned", path, n->offset);
    cr_assert_leq(n->offset, n->len);
    cr_assert_eq(n->data[n->offset - 1], '\n', "%s: header does not end with a newline", path);
    size_t dict_len = hlen - 1;
    while (dict_len && n->data[10 + dict_len - 1] == ' ')
        dict_len--;
    cr_assert_lt(dict_len, sizeof n->dict);
    memcpy(n->dict, n->data + 10, dict_len);
    n->dict[dict_len] = '\0';
}

static void expect_dict(const npy *n, const char *descr, const char *shape)
{
    char want[256];
    snprintf(want, sizeof want, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr,
             shape);
    cr_expect_str_eq(n->dict, want);
}

static int files_equal(const char *a, const char *b)
{
    size_t la, lb;
    unsigned char *da = rf_read_file(a, &la), *db = rf_read_file(b, &lb);
    int same = la == lb && memcmp(da, db, la) == 0;
    free(da);
    free(db);
    return same;
}

/* Run the NumPy check; returns its exit status, output in `out`. */
static int check_with_numpy(const char *args, char *out, size_t size)
{
    cr_assert(rf_exists("tests/py/check_npy.py"),
              "run from the repository root: tests/py/check_npy.py not found");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/py/check_npy.py %s 2>&1", args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t len = fread(out, 1, size - 1, p);
    out[len] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---------------------------------------------------------------- round trips */

Test(fill, array_of_noise_files_equals_libpng_pixels_for_any_jobs)
{
    enum { N = 30 };
    rf_result *r = malloc(sizeof *r);
    mkdir(work_path("imgs"), 0755);
    rf_wsrun(r, NULL, "noise", "--count", "30", "--seed", "11", "-q", "-o", "prefix=imgs/image_");
    cr_assert_eq(r->status, 0, "%s", r->err);
    rf_wsrun(r, NULL, "fill", "-o", "input=imgs/image_*.png", "-o", "output=a1.npy", "-j", "1");
    cr_assert_eq(r->status, 0, "%s", r->err);
    rf_wsrun(r, NULL, "fill", "-o", "input=imgs", "-o", "output=a4.npy", "-j", "4");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_expect(files_equal(work_path("a1.npy"), work_path("a4.npy")), "-j1 and -j4 arrays differ");

    npy n;
    load_npy(work_path("a1.npy"), &n);
    expect_dict(&n, "|u1", "30, 100, 100");
    cr_assert_eq(n.len, n.offset + (size_t)N * 10000);
    for (int i = 0; i < N; i++) {
        rf_image img;
        rf_decode(work_path("imgs/image_%d.png", i), &img);
        cr_assert_eq(img.bytes, 10000);
        cr_expect(memcmp(n.data + n.offset + (size_t)i * 10000, img.pixels, 10000) == 0,
                  "slot %d differs from image_%d.png", i, i);
        free(img.pixels);
    }

    /* The noise source makes the same array without any file. */
    rf_wsrun(r, NULL, "fill", "-o", "source=noise", "--count", "30", "--seed", "11", "-o",
             "width=100", "-o", "height=100", "-o", "output=n.npy", "-j", "2");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_expect(files_equal(work_path("a1.npy"), work_path("n.npy")),
              "source=noise differs from the noise plugin's files");

    char args[1024], out[4096];
    rf_image img;
    rf_decode(work_path("imgs/image_29.png"), &img);
    snprintf(args, sizeof args, "%s 30,100,100 uint8 29,0,0=%u 29,99,99=%u 29,42,7=%u",
             work_path("a4.npy"), img.pixels[0], img.pixels[9999], img.pixels[42 * 100 + 7]);
    free(img.pixels);
    cr_expect_eq(check_with_numpy(args, out, sizeof out), 0, "numpy: %s", out);
    cr_expect_eq(rf_count_hidden(work_dir), 0, "a temporary file was left behind");
    free(n.data);
    free(r);
}

Test(fill, sixteen_bit_rgb_is_little_endian_u2_with_four_dimensions)
{
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "noise", "--count", "6", "--seed", "5", "-o", "depth=16", "-o",
             "channels=rgb", "-o", "width=13", "-o", "height=7", "-q");
    cr_assert_eq(r->status, 0, "%s", r->err);
    rf_wsrun(r, NULL, "fill", "-o", "input=image_%d.png", "-o", "output=c.npy", "-j", "3");
    cr_assert_eq(r->status, 0, "%s", r->err);
    npy n;
    load_npy(work_path("c.npy"), &n);
    expect_dict(&n, "<u2", "6, 7, 13, 3");
    size_t slot = 7 * 13 * 3 * 2;
    cr_assert_eq(n.len, n.offset + 6 * slot);
    for (int i = 0; i < 6; i++) {
        rf_image img;
        rf_decode(work_path("image_%d.png", i), &img); /* swapped to little-endian */
        cr_assert_eq(img.bytes, slot);
        cr_expect(memcmp(n.data + n.offset + (size_t)i * slot, img.pixels, slot) == 0,
                  "slot %d differs from image_%d.png", i, i);
        if (i == 5) {
            char args[1024], out[4096];
            unsigned v0 = img.pixels[0] | img.pixels[1] << 8;
            size_t last = slot - 2;
            unsigned v1 = img.pixels[last] | img.pixels[last + 1] << 8;
            snprintf(args, sizeof args, "%s 6,7,13,3 uint16 5,0,0,0=%u 5,6,12,2=%u",
                     work_path("c.npy"), v0, v1);
            cr_expect_eq(check_with_numpy(args, out, sizeof out), 0, "numpy: %s", out);
        }
        free(img.pixels);
    }
    rf_wsrun(r, NULL, "fill", "-o", "source=noise", "--count", "6", "--seed", "5", "-o",
             "width=13", "-o", "height=7", "-o", "channels=3", "-o", "dtype=u16", "-o",
             "output=cn.npy");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_expect(files_equal(work_path("c.npy"), work_path("cn.npy")),
              "16-bit source=noise differs from the noise plugin's files");
    free(n.data);
    free(r);
}

Test(fill, constant_and_index_sources)
{
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "fill", "-o", "source=constant", "-o", "value=300", "-o", "dtype=u16",
             "--count", "4", "-o", "width=3", "-o", "height=2", "-o", "output=k.npy");
    cr_assert_eq(r->status, 0, "%s", r->err);
    npy n;
    load_npy(work_path("k.npy"), &n);
    expect_dict(&n, "<u2", "4, 2, 3");
    cr_assert_eq(n.len, n.offset + 4 * 6 * 2);
    for (size_t k = 0; k < 24; k++)
        cr_expect(n.data[n.offset + 2 * k] == 44 && n.data[n.offset + 2 * k + 1] == 1,
                  "sample %zu is not 300", k);
    free(n.data);

    rf_wsrun(r, NULL, "fill", "-o", "source=index", "--count", "300", "-o", "width=4", "-o",
             "height=4", "-o", "channels=2", "-o", "output=i.npy", "-j", "2");
    cr_assert_eq(r->status, 0, "%s", r->err);
    load_npy(work_path("i.npy"), &n);
    expect_dict(&n, "|u1", "300, 4, 4, 2");
    for (size_t i = 0; i < 300; i++)
        for (size_t k = 0; k < 32; k++)
            cr_assert_eq(n.data[n.offset + i * 32 + k], i % 256, "image %zu sample %zu", i, k);
    char out[4096];
    char args[1024];
    snprintf(args, sizeof args, "%s 300,4,4,2 uint8 0,0,0,0=0 257,3,3,1=1 299,1,2,0=43",
             work_path("i.npy"));
    cr_expect_eq(check_with_numpy(args, out, sizeof out), 0, "numpy: %s", out);
    /* The checker itself must notice a wrong value. */
    snprintf(args, sizeof args, "%s 300,4,4,2 uint8 299,1,2,0=44", work_path("i.npy"));
    cr_expect_eq(check_with_numpy(args, out, sizeof out), 1, "numpy: %s", out);
    free(n.data);
    free(r);
}

Test(fill, convert_rgb_gives_three_channels)
{
    for (int i = 0; i < 3; i++)
        rf_write_gray(work_path("g%d.png", i), 5, 4, (unsigned)i);
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "fill", "-o", "input=g*.png", "-o", "convert=rgb", "-o", "output=rgb.npy");
    cr_assert_eq(r->status, 0, "%s", r->err);
    npy n;
    load_npy(work_path("rgb.npy"), &n);
    expect_dict(&n, "|u1", "3, 4, 5, 3");
    for (unsigned i = 0; i < 3; i++)
        for (unsigned y = 0; y < 4; y++)
            for (unsigned x = 0; x < 5; x++)
                for (unsigned c = 0; c < 3; c++)
                    cr_assert_eq(n.data[n.offset + ((i * 4 + y) * 5 + x) * 3 + c],
                                 (x + y * 7 + i) & 255);
    free(n.data);
    free(r);
}

/* ---------------------------------------------------------------- bad input */

static void four_good_images(void)
{
    for (int i = 0; i < 4; i++)
        rf_write_gray(work_path("g%d.png", i), 20, 10, (unsigned)i);
}

/* An old out.npy must survive a failed run unchanged, and no temporary
 * may be left beside it. */
static void write_old_output(void)
{
    rf_write_file(work_path("out.npy"), "old array", 9);
}

static void expect_old_output_intact(void)
{
    size_t len;
    unsigned char *old = rf_read_file(work_path("out.npy"), &len);
    cr_expect(len == 9 && memcmp(old, "old array", 9) == 0, "out.npy was replaced or changed");
    free(old);
    cr_expect_eq(rf_count_hidden(work_dir), 0, "a temporary file was left behind");
}

/* g0, g1, <bad>, g3: index 2 must fail with `message`, exit 1. */
static void expect_bad_index_2(const char *bad_name, const char *message, const rf_opts *o)
{
    char list[512];
    snprintf(list, sizeof list, "g0.png\ng1.png\n%s\ng3.png\n", bad_name);
    rf_write_file(work_path("list.txt"), list, strlen(list));
    write_old_output();
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, o, "fill", "-o", "input=list.txt", "-o", "output=out.npy", "-j", "2");
    cr_expect_eq(r->status, 1, "exit status %d: %s", r->status, r->err);
    cr_expect_not_null(strstr(r->err, "index 2 failed"), "%s", r->err);
    char want[512];
    snprintf(want, sizeof want, "%s: %s", bad_name, message);
    cr_expect_not_null(strstr(r->err, want), "no '%s' in: %s", want, r->err);
    expect_old_output_intact();
    free(r);
}

Test(fill, truncated_png_fails_its_index)
{
    four_good_images();
    rf_truncate_copy(work_path("g1.png"), work_path("cut.png"), 60);
    expect_bad_index_2("cut.png", "bad PNG: file ends early (truncated)", NULL);
}

Test(fill, not_a_png_fails_its_index)
{
    four_good_images();
    rf_write_file(work_path("text.png"), "hello", 5);
    expect_bad_index_2("text.png", "not a PNG file", NULL);
}

Test(fill, empty_file_fails_its_index)
{
    four_good_images();
    rf_write_file(work_path("empty.png"), "", 0);
    expect_bad_index_2("empty.png", "empty file (0 bytes)", NULL);
}

Test(fill, huge_header_fails_its_index_without_allocating)
{
    four_good_images();
    rf_write_huge_header(work_path("huge.png"), 1000000, 1000000);
    expect_bad_index_2("huge.png", "header says 1000000x1000000", NULL);
}

Test(fill, missing_file_fails_its_index)
{
    four_good_images();
    expect_bad_index_2("gone.png", "cannot open: No such file or directory", NULL);
}

Test(fill, unreadable_file_fails_its_index)
{
    four_good_images();
    rf_write_gray(work_path("locked.png"), 20, 10, 9);
    chmod(work_path("locked.png"), 0);
    /* As root, wsrun runs as nobody (from a copy nobody can reach), since
     * root reads any file; only where that is impossible is it skipped. */
    const char *why_not = getuid() == 0 ? rf_nobody_cannot_test(work_path("locked.png")) : NULL;
    if (why_not)
        cr_skip_test("%s", why_not);
    rf_opts o = {.as_nobody = getuid() == 0};
    chmod(work_dir, 0777);
    expect_bad_index_2("locked.png", "cannot open: Permission denied", &o);
}

Test(fill, shape_mismatch_names_the_file_and_both_shapes)
{
    four_good_images();
    rf_write_gray(work_path("wide.png"), 30, 10, 0);
    expect_bad_index_2("wide.png",
                       "image is (10, 30) uint8 but the array's images are (10, 20) uint8 (set by "
                       "g0.png)",
                       NULL);

    unsigned char rows[20 * 10 * 3] = {0};
    rf_png p = {.width = 20, .height = 10, .color_type = PNG_COLOR_TYPE_RGB, .bit_depth = 8,
                .rows = rows};
    rf_write_png(work_path("color.png"), &p);
    expect_bad_index_2("color.png",
                       "image is (10, 20, 3) uint8 but the array's images are (10, 20) uint8",
                       NULL);

    /* A shape given by options is checked against every file, index 0 too. */
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "fill", "-o", "input=g*.png", "-o", "width=20", "-o", "height=10", "-o",
             "channels=1", "-o", "dtype=u16", "-o", "output=out.npy");
    cr_expect_eq(r->status, 1, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "g0.png: image is (10, 20) uint8 but the array's images "
                                      "are (10, 20) uint16 (set by the options)"),
                       "%s", r->err);
    expect_old_output_intact();
    free(r);
}

Test(fill, bad_first_file_is_a_usage_error)
{
    four_good_images();
    rf_write_file(work_path("a_first.png"), "nope", 4);
    write_old_output();
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "fill", "-o", "input=*.png", "-o", "output=out.npy");
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "a_first.png (index 0, whose shape the array takes): not "
                                      "a PNG file"),
                       "%s", r->err);
    expect_old_output_intact();
    free(r);
}

Test(fill, usage_errors_exit_2_and_write_nothing)
{
    four_good_images();
    mkdir(work_path("none"), 0755);
    write_old_output();
    rf_result *r = malloc(sizeof *r);
    static const struct { const char *args[16]; const char *message; } cases[] = {
        {{"-o", "input=none", "-o", "output=out.npy"}, "input folder 'none': no files found"},
        {{"-o", "input=g*.png", "-o", "output=missing/dir/out.npy"},
         "cannot create missing/dir/out.npy"},
        {{"-o", "input=g*.png"}, "-o output=FILE.npy is required"},
        {{"-o", "source=noise", "-o", "width=4", "-o", "height=4", "-o", "output=out.npy"},
         "-o source=noise needs --count N"},
        {{"-o", "source=noise", "--count", "3", "-o", "width=4", "-o", "output=out.npy"},
         "-o source=noise needs -o width=... and -o height=..."},
        {{"-o", "source=constant", "-o", "value=300", "--count", "1", "-o", "width=1", "-o",
          "height=1", "-o", "output=out.npy"},
         "-o value=300 does not fit dtype u8"},
        {{"-o", "source=index", "-o", "input=g*.png", "--count", "1", "-o", "output=out.npy"},
         "-o input is only for -o source=files"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char **a = (const char **)cases[i].args;
        rf_wsrun_v(r, NULL, "fill", a);
        cr_expect_eq(r->status, 2, "case %zu: exit %d: %s", i, r->status, r->err);
        cr_expect_not_null(strstr(r->err, cases[i].message), "case %zu: no '%s' in: %s", i,
                           cases[i].message, r->err);
    }
    expect_old_output_intact();
    free(r);
}

Test(fill, file_size_limit_fails_before_any_work)
{
    write_old_output();
    rf_opts o = {.fsize_limit = 65536};
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, &o, "fill", "-o", "source=constant", "--count", "100", "-o", "width=100", "-o",
             "height=100", "-o", "output=out.npy");
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "cannot make out.npy 1000128 bytes long (100 images of "
                                      "10000 bytes): File too large"),
                       "%s", r->err);
    expect_old_output_intact();
    free(r);
}

Test(fill, full_tmpfs_fails_before_any_work)
{
    const char *small = work_path("small");
    mkdir(small, 0755);
    if (mount("tmpfs", small, "tmpfs", 0, "size=64k") != 0)
        cr_skip_test("cannot mount a small tmpfs here (%s); the file-size-limit test covers "
                     "a disk that refuses the array", strerror(errno));
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "fill", "-o", "source=noise", "--count", "100", "-o", "width=100", "-o",
             "height=100", "-o", "output=small/out.npy");
    int hidden = rf_count_hidden(small);
    int left = rf_exists(work_path("small/out.npy"));
    umount(small);
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "cannot make small/out.npy 1000128 bytes long"), "%s",
                       r->err);
    cr_expect_not_null(strstr(r->err, "No space left on device"), "%s", r->err);
    cr_expect_not(left, "an array was left on the full disk");
    cr_expect_eq(hidden, 0, "a temporary file was left on the full disk");
    free(r);
}

Test(fill, output_that_is_not_a_regular_file_is_refused)
{
    const char *pipe_path = work_path("pipe");
    cr_assert_eq(mkfifo(pipe_path, 0644), 0, "mkfifo: %s", strerror(errno));
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "fill", "-o", "source=index", "--count", "2", "-o", "width=2", "-o",
             "height=2", "-o", "output=pipe");
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "-o output=pipe is not a regular file"), "%s", r->err);
    struct stat st;
    cr_expect(stat(pipe_path, &st) == 0 && S_ISFIFO(st.st_mode),
              "the pipe was replaced by a regular file");
    cr_expect_eq(rf_count_hidden(work_dir), 0, "a temporary file was left behind");
    free(r);
}

Test(fill, a_shard_of_the_run_writes_no_partial_array)
{
    four_good_images();
    write_old_output();
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "fill", "-o", "input=g*.png", "--shard", "1/2", "-o", "output=out.npy");
    /* The runtime refuses --shard for a plugin that is not resumable
     * (exit 2); should that check go, finish refuses the partial result
     * (exit 1).  Either way: a message about the shard, no output. */
    cr_expect(r->status == 1 || r->status == 2, "exit %d: %s", r->status, r->err);
    cr_expect_not_null(strstr(r->err, "--shard"), "%s", r->err);
    expect_old_output_intact();
    free(r);
}

/* ---------------------------------------------------------------- inputs as users name them */

/* A file named as an image is an image whatever its bytes: a broken one
 * (here the only file, so the one whose shape the array would take) is
 * reported as a broken image under its own name, never read as a list. */
static void expect_broken_first_image(const char *name)
{
    const char *text = "this is not a png file\n";
    rf_write_file(work_path("%s", name), text, strlen(text));
    write_old_output();
    rf_result *r = malloc(sizeof *r);
    char input[300], want[1024];
    snprintf(input, sizeof input, "input=%s", name);
    rf_wsrun(r, NULL, "fill", "-j", "1", "-o", input, "-o", "output=out.npy");
    cr_expect_eq(r->status, 2, "exit status %d: %s", r->status, r->err);
    snprintf(want, sizeof want,
             "wsrun: fill: init failed: %s (index 0, whose shape the array takes): not a PNG "
             "file (no PNG signature in its first 8 bytes); -o width, height, channels and "
             "dtype set the shape instead\n",
             name);
    cr_expect_str_eq(r->err, want);
    expect_old_output_intact();
    free(r);
}

Test(fill, corrupt_photo_png_is_a_broken_image_not_a_list)
{
    expect_broken_first_image("photo.png");
}

Test(fill, image_extension_in_any_case_is_an_image)
{
    expect_broken_first_image("PHOTO.PNG");
}

Test(fill, truncated_photo_png_names_the_file_and_the_damage)
{
    rf_write_gray(work_path("whole.png"), 20, 10, 1);
    rf_truncate_copy(work_path("whole.png"), work_path("photo.png"), 60);
    write_old_output();
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "fill", "-j", "1", "-o", "input=photo.png", "-o", "output=out.npy");
    cr_expect_eq(r->status, 1, "exit status %d: %s", r->status, r->err);
    cr_expect_str_eq(r->err, "wsrun: fill: index 0 failed (worker 0): photo.png: bad PNG: file "
                             "ends early (truncated)\nwsrun: 1 of 1 tasks failed\n");
    expect_old_output_intact();
    free(r);
}

Test(fill, error_from_a_list_names_the_list_and_its_line)
{
    four_good_images();
    const char *list = "g0.png\n\ngone.png\ng1.png\n"; /* the blank line 2 still counts */
    rf_write_file(work_path("list.txt"), list, strlen(list));
    write_old_output();
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "fill", "-j", "1", "--keep-going", "-o", "input=list.txt", "-o",
             "output=out.npy");
    cr_expect_eq(r->status, 1, "exit status %d: %s", r->status, r->err);
    cr_expect_str_eq(r->err, "wsrun: fill: index 1 failed (worker 0): list.txt:3: gone.png: "
                             "cannot open: No such file or directory\n"
                             "wsrun: 1 of 3 tasks failed\n");
    expect_old_output_intact();

    /* The first file sets the shape in init: its line is named there too. */
    rf_write_file(work_path("first"), "\ngone.png\ng0.png\n", 17);
    rf_wsrun(r, NULL, "fill", "-o", "input=first", "-o", "output=out.npy");
    cr_expect_eq(r->status, 2, "exit status %d: %s", r->status, r->err);
    cr_expect_str_eq(r->err, "wsrun: fill: init failed: first:2: gone.png (index 0, whose shape "
                             "the array takes): cannot open: No such file or directory; -o "
                             "width, height, channels and dtype set the shape instead\n");
    expect_old_output_intact();
    free(r);
}

Test(fill, list_without_extension_still_works)
{
    four_good_images();
    rf_write_file(work_path("images"), "g3.png\ng1.png\n", 14);
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "fill", "-o", "input=images", "-o", "output=out.npy");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_expect_str_eq(r->err, "wsrun: fill: wrote out.npy: 2 images of (10, 20) uint8, 528 "
                             "bytes\n");
    npy n;
    load_npy(work_path("out.npy"), &n);
    cr_assert_eq(n.len, n.offset + 400);
    for (int slot = 0; slot < 2; slot++) {
        rf_image img;
        rf_decode(work_path("g%d.png", slot == 0 ? 3 : 1), &img);
        cr_expect(memcmp(n.data + n.offset + (size_t)slot * 200, img.pixels, 200) == 0,
                  "slot %d is not the list's file %d", slot, slot);
        free(img.pixels);
    }
    free(n.data);
    free(r);
}
