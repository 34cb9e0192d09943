/*
 * test_read.c - the read plugin end to end: the real wsrun reads what the
 * noise plugin wrote (manifest rows in index order, sizes, XXH64 of the
 * pixels libpng decodes, -j1 == -j4), every PNG colour type and bit depth
 * against pixels worked out here by hand, -o verify, the input specs, and
 * each kind of bad input with its exit status, message and what is left
 * on disk.
 *
 * Never writes outside its own /tmp/test_readfill.* folder.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <sys/mount.h>

#include "wsrun.h"
#include "../tasks/common/input.h"
#include "../tasks/xxh64.h"
#include "readfill_util.h"

TestSuite(read, .init = rf_setup, .fini = work_teardown);

/* ---------------------------------------------------------------- units */

Test(read, xxh64_matches_reference_values)
{
    /* Values printed by `xxhsum -H1` (Debian's xxhash package). */
    static const unsigned char zeros[1000];
    const char *long_text = "Nobody inspects the spammish repetition";
    cr_expect_eq(wstask_xxh64("", 0, 0), UINT64_C(0xef46db3751d8e999));
    cr_expect_eq(wstask_xxh64("abc", 3, 0), UINT64_C(0x44bc2cf5ad770999));
    cr_expect_eq(wstask_xxh64(long_text, strlen(long_text), 0), UINT64_C(0xfbcea83c8a378bf1));
    cr_expect_eq(wstask_xxh64(zeros, sizeof zeros, 0), UINT64_C(0x0e2b1ef27944075a));
}

/* Issue 23: mode=raw hashes a file in pieces; any split gives the one-shot
 * checksum (pieces of 1..70 bytes cross the 32-byte stripes every way). */
Test(read, xxh64_in_pieces_equals_one_shot)
{
    unsigned char data[300];
    for (size_t k = 0; k < sizeof data; k++)
        data[k] = (unsigned char)(k * 131 + 7);
    for (size_t len = 0; len <= sizeof data; len += 13) {
        for (size_t piece = 1; piece <= 70; piece += 3) {
            wstask_xxh64_state h;
            wstask_xxh64_init(&h, 5);
            for (size_t at = 0; at < len; at += piece)
                wstask_xxh64_update(&h, data + at, len - at < piece ? len - at : piece);
            cr_assert_eq(wstask_xxh64_digest(&h), wstask_xxh64(data, len, 5),
                         "len %zu in pieces of %zu", len, piece);
        }
    }
}

Test(read, natural_order_compares_numbers_by_value)
{
    cr_expect_lt(wstask_natural_cmp("image_2.png", "image_10.png"), 0);
    cr_expect_gt(wstask_natural_cmp("image_10.png", "image_9.png"), 0);
    cr_expect_lt(wstask_natural_cmp("a", "a1"), 0);
    cr_expect_lt(wstask_natural_cmp("x9y", "x10y"), 0);
    cr_expect_lt(wstask_natural_cmp("img1_5", "img1_40"), 0);
    cr_expect_lt(wstask_natural_cmp("b", "c1"), 0);
    cr_expect_eq(wstask_natural_cmp("same_3", "same_3"), 0);
    /* Equal by value: byte order decides, both ways consistently. */
    int c = wstask_natural_cmp("a01", "a1");
    cr_expect_neq(c, 0);
    cr_expect_eq(wstask_natural_cmp("a1", "a01"), -c);
    cr_expect_lt(wstask_natural_cmp("a01b", "a1c"), 0, "the value ties, then 'b' < 'c'");
}

/* ---------------------------------------------------------------- manifest parsing */

typedef struct row {
    unsigned long long index, bytes;
    char path[256];
    unsigned width, height, channels, depth;
    uint64_t sum;
} row;

static uint64_t total_checksum(const row *rows, size_t n);

/* Parse a CSV manifest: the header, then one row per file and nothing else
 * (no total row: every line has the header's 8 columns, as pandas and
 * numpy.genfromtxt need).  Returns the row count; *total gets the count in
 * index, the sum of bytes and the total checksum worked out from the rows,
 * for comparing with read's stderr summary. */
static size_t parse_csv(const char *text, row *rows, size_t max, row *total)
{
    const char *header = "index,path,width,height,channels,bit_depth,bytes,xxh64\n";
    cr_assert(strncmp(text, header, strlen(header)) == 0, "manifest header: %.80s", text);
    const char *p = text + strlen(header);
    size_t n = 0;
    memset(total, 0, sizeof *total);
    while (*p) {
        const char *eol = strchr(p, '\n');
        cr_assert_not_null(eol, "manifest line without newline");
        char line[512];
        size_t len = (size_t)(eol - p);
        cr_assert_lt(len, sizeof line);
        memcpy(line, p, len);
        line[len] = '\0';
        p = eol + 1;
        cr_assert(strncmp(line, "total", 5) != 0, "a total row in the CSV manifest: %s", line);
        size_t commas = 0; /* the tests' paths hold no comma */
        for (size_t k = 0; k < len; k++)
            commas += line[k] == ',';
        cr_assert_eq(commas, 7, "row of %zu columns, not 8: %s", commas + 1, line);
        cr_assert_lt(n, max);
        row *r = &rows[n++];
        cr_assert_eq(sscanf(line, "%llu,%255[^,],%u,%u,%u,%u,%llu,%" SCNx64, &r->index, r->path,
                            &r->width, &r->height, &r->channels, &r->depth, &r->bytes, &r->sum),
                     8, "row: %s", line);
        total->bytes += r->bytes;
    }
    total->index = n;
    total->sum = total_checksum(rows, n);
    return n;
}

static uint64_t total_checksum(const row *rows, size_t n)
{
    unsigned char *sums = malloc(n * 8 + 1);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 8; k++)
            sums[i * 8 + (size_t)k] = (unsigned char)(rows[i].sum >> (8 * k));
    uint64_t h = wstask_xxh64(sums, n * 8, 0);
    free(sums);
    return h;
}

/* ---------------------------------------------------------------- round trip */

Test(read, manifest_of_noise_images_is_ordered_and_matches_libpng)
{
    enum { N = 40 };
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "noise", "--count", "40", "-j", "2", "-q");
    cr_assert_eq(r->status, 0, "noise failed: %s", r->err);

    rf_wsrun(r, NULL, "read", "-o", "input=image_*.png", "-j", "1");
    cr_assert_eq(r->status, 0, "read -j1: %s", r->err);
    char *j1 = strdup(r->out);
    char *j1_err = strdup(r->err);
    rf_wsrun(r, NULL, "read", "-o", "input=image_*.png", "-j", "4", "-o", "output=m.csv");
    cr_assert_eq(r->status, 0, "read -j4: %s", r->err);
    cr_assert_str_empty(r->out, "manifest went to the file, not stdout");
    size_t len;
    char *j4 = (char *)rf_read_file(work_path("m.csv"), &len);
    j4[len] = '\0';
    cr_assert_str_eq(j1, j4, "-j1 and -j4 manifests differ");

    static row rows[N + 1];
    row total;
    cr_assert_eq(parse_csv(j1, rows, N + 1, &total), N);
    for (unsigned i = 0; i < N; i++) {
        char name[64];
        snprintf(name, sizeof name, "image_%u.png", i);
        rf_image img;
        rf_decode(work_path("%s", name), &img);
        cr_expect_eq(rows[i].index, i);
        cr_expect_str_eq(rows[i].path, name, "row %u is %s", i, rows[i].path);
        cr_expect_eq(rows[i].width, 100);
        cr_expect_eq(rows[i].height, 100);
        cr_expect_eq(rows[i].channels, 1);
        cr_expect_eq(rows[i].depth, 8);
        cr_expect_eq(rows[i].bytes, 10000);
        cr_expect_eq(rows[i].sum, wstask_xxh64(img.pixels, img.bytes, 0), "checksum of %s", name);
        free(img.pixels);
    }
    /* The total is a stderr line (the CSV has none), worked out here from
     * the rows and the pixels libpng decoded. */
    cr_expect_eq(total.bytes, (unsigned long long)N * 10000);
    char want[160];
    snprintf(want, sizeof want,
             "wsrun: read: manifest total: 40 files, 400000 bytes, xxh64 %016" PRIx64 "\n",
             total.sum);
    cr_expect_str_eq(j1_err, want, "stderr of read -j1");
    cr_expect_eq(rf_count_hidden(work_dir), 0, "a temporary file was left behind");
    rf_wsrun(r, NULL, "read", "-o", "input=image_*.png", "-q");
    cr_assert_eq(r->status, 0, "read -q: %s", r->err);
    cr_expect_str_eq(r->err, "", "--quiet leaves the total out");
    cr_expect_str_eq(r->out, j1);
    free(j1_err);
    free(j1);
    free(j4);
    free(r);
}

/* The manifest's JSON strings use the runtime's escaper (trace, stats):
 * short forms for tab, newline and return, \u00XX for other controls. */
Test(read, json_escapes_names_as_the_reports_do)
{
    rf_result *r = malloc(sizeof *r);
    rf_write_gray(work_path("q\"b\\s\tn\x01.png"), 4, 3, 1);
    rf_wsrun(r, NULL, "read", "-o", "input=.", "-o", "format=json", "-q");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_expect_not_null(strstr(r->out, "\"path\": \"./q\\\"b\\\\s\\tn\\u0001.png\""),
                       "json: %s", r->out);
    free(r);
}

Test(read, json_and_tsv_carry_the_same_rows)
{
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "noise", "--count", "12", "-q");
    cr_assert_eq(r->status, 0, "%s", r->err);
    rf_wsrun(r, NULL, "read", "-o", "input=.", "-o", "format=csv");
    cr_assert_eq(r->status, 0, "%s", r->err);
    static row rows[13];
    row total;
    cr_assert_eq(parse_csv(r->out, rows, 13, &total), 12);

    rf_wsrun(r, NULL, "read", "-o", "input=.", "-o", "format=json", "-j", "3");
    cr_assert_eq(r->status, 0, "%s", r->err);
    const char *p = r->out;
    cr_assert(strncmp(p, "{\"files\": [\n", 12) == 0, "json starts: %.40s", p);
    for (unsigned i = 0; i < 12; i++) {
        char want[256];
        snprintf(want, sizeof want,
                 "{\"index\": %u, \"path\": \"./image_%u.png\", \"width\": 100, \"height\": 100, "
                 "\"channels\": 1, \"bit_depth\": 8, \"bytes\": 10000, \"xxh64\": \"%016" PRIx64
                 "\"}",
                 i, i, rows[i].sum);
        const char *at = strstr(p, want);
        cr_assert_not_null(at, "json lacks (in order) %s", want);
        p = at + strlen(want);
    }
    char want_total[160];
    snprintf(want_total, sizeof want_total,
             "\"total\": {\"files\": 12, \"bytes\": 120000, \"xxh64\": \"%016" PRIx64 "\"}}\n",
             total.sum);
    cr_expect_not_null(strstr(p, want_total), "json total: %s", p);

    rf_wsrun(r, NULL, "read", "-o", "input=.", "-o", "format=tsv");
    cr_assert_eq(r->status, 0, "%s", r->err);
    const char *tsv_last = r->out + strlen(r->out) - 1;
    while (tsv_last > r->out && tsv_last[-1] != '\n')
        tsv_last--;
    cr_expect(strncmp(tsv_last, "11\t", 3) == 0, "the TSV's last line is not file 11: %s",
              tsv_last);
    char want_summary[160];
    snprintf(want_summary, sizeof want_summary,
             "wsrun: read: manifest total: 12 files, 120000 bytes, xxh64 %016" PRIx64 "\n",
             total.sum);
    cr_expect_str_eq(r->err, want_summary);
    char want_row[200];
    snprintf(want_row, sizeof want_row, "\n11\t./image_11.png\t100\t100\t1\t8\t10000\t%016" PRIx64 "\n",
             rows[11].sum);
    cr_expect_not_null(strstr(r->out, want_row), "tsv lacks %s in %s", want_row, r->out);
    free(r);
}

/* ---------------------------------------------------------------- verify */

Test(read, verify_accepts_noise_files_and_names_every_one_that_differs)
{
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "noise", "--count", "12", "--seed", "7", "-q");
    cr_assert_eq(r->status, 0, "%s", r->err);
    rf_wsrun(r, NULL, "read", "-o", "input=image_*.png", "-o", "verify=true", "--seed", "7");
    cr_expect_eq(r->status, 0, "verify of untouched files: %s", r->err);
    cr_expect_not_null(strstr(r->err, "all 12 file(s) match"), "%s", r->err);

    rf_wsrun(r, NULL, "read", "-o", "input=image_*.png", "-o", "verify=true", "--seed", "8",
             "-o", "output=m.csv");
    cr_expect_eq(r->status, 1, "verify with the wrong seed must fail: %s", r->err);
    cr_expect_not_null(strstr(r->err, "differ"), "%s", r->err);
    cr_expect_not(rf_exists(work_path("m.csv")), "a manifest was left after a failed verify");

    /* Two images replaced by other pixels of the same size. */
    rf_write_gray(work_path("image_3.png"), 100, 100, 0);
    rf_write_gray(work_path("image_9.png"), 100, 100, 1);
    rf_wsrun(r, NULL, "read", "-o", "input=image_*.png", "-o", "verify=true", "--seed", "7",
             "--keep-going", "-o", "output=m.csv");
    cr_expect_eq(r->status, 1, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "image_3.png: pixels differ from noise image 3 of seed 7"),
                       "%s", r->err);
    cr_expect_not_null(strstr(r->err, "image_9.png: pixels differ from noise image 9 of seed 7"),
                       "%s", r->err);
    cr_expect_null(strstr(r->err, "image_4.png"), "an intact file was reported: %s", r->err);
    cr_expect_not_null(strstr(r->err, "verify: 2 file(s) differ"), "%s", r->err);
    cr_expect_not(rf_exists(work_path("m.csv")));
    cr_expect_eq(rf_count_hidden(work_dir), 0, "a temporary file was left behind");
    free(r);
}

Test(read, verify_handles_16_bit_rgb_noise)
{
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "noise", "--count", "5", "--seed", "3", "-o", "depth=16", "-o",
             "channels=rgb", "-o", "width=17", "-o", "height=9", "-q");
    cr_assert_eq(r->status, 0, "%s", r->err);
    rf_wsrun(r, NULL, "read", "-o", "input=image_%d.png", "-o", "verify=true", "--seed", "3");
    cr_expect_eq(r->status, 0, "%s", r->err);
    static row rows[6];
    row total;
    cr_assert_eq(parse_csv(r->out, rows, 6, &total), 5);
    cr_expect_eq(rows[4].channels, 3);
    cr_expect_eq(rows[4].depth, 16);
    cr_expect_eq(rows[4].bytes, 17 * 9 * 3 * 2);
    rf_wsrun(r, NULL, "read", "-o", "input=image_%d.png", "-o", "verify=true", "-o",
             "convert=rgb");
    cr_expect_eq(r->status, 2, "verify needs convert=keep: %s", r->err);
    cr_expect_not_null(strstr(r->err, "convert=keep"), "%s", r->err);
    free(r);
}

/* ---------------------------------------------------------------- colour types */

/* Sample value of channel c of pixel (x, y) in a test image of `depth` bits. */
static unsigned sample_at(uint32_t x, uint32_t y, unsigned c, int depth)
{
    if (depth == 16)
        return (x * 4099u + y * 257u + c * 13u + 1u) & 0xffffu;
    return (x * 31u + y * 17u + c * 5u + 3u) & ((1u << depth) - 1u);
}

/* PNG rows (packed, big-endian) of w x h pixels of `channels` samples. */
static unsigned char *pack_rows(uint32_t w, uint32_t h, unsigned channels, int depth,
                                unsigned (*value)(uint32_t, uint32_t, unsigned, int))
{
    size_t rb = ((size_t)w * channels * (size_t)depth + 7) / 8;
    unsigned char *rows = calloc(h, rb);
    for (uint32_t y = 0; y < h; y++) {
        unsigned char *out = rows + y * rb;
        size_t bit = 0;
        for (uint32_t x = 0; x < w; x++)
            for (unsigned c = 0; c < channels; c++) {
                unsigned v = value(x, y, c, depth);
                if (depth == 16) {
                    out[bit / 8] = (unsigned char)(v >> 8);
                    out[bit / 8 + 1] = (unsigned char)v;
                } else if (depth == 8) {
                    out[bit / 8] = (unsigned char)v;
                } else {
                    out[bit / 8] |= (unsigned char)(v << (8 - depth - bit % 8));
                }
                bit += (size_t)depth;
            }
    }
    return rows;
}

typedef struct expect {
    const char *name;
    unsigned channels, depth;
    size_t bytes;
    unsigned char pixels[4096];
} expect;

/* Decoded samples as the plugin must produce them: 8 bits scaled up from
 * 1/2/4, 16 bits little-endian. */
static void expect_direct(expect *e, uint32_t w, uint32_t h, unsigned channels, int depth)
{
    e->channels = channels;
    e->depth = depth == 16 ? 16 : 8;
    e->bytes = 0;
    unsigned scale = depth < 8 ? 255u / ((1u << depth) - 1u) : 1u;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (unsigned c = 0; c < channels; c++) {
                unsigned v = sample_at(x, y, c, depth);
                if (depth == 16) {
                    e->pixels[e->bytes++] = (unsigned char)v;
                    e->pixels[e->bytes++] = (unsigned char)(v >> 8);
                } else {
                    e->pixels[e->bytes++] = (unsigned char)(v * scale);
                }
            }
}

static const png_color test_palette[16] = {
    {0, 0, 0},      {255, 0, 0},   {0, 255, 0},    {0, 0, 255},  {10, 20, 30},  {40, 50, 60},
    {70, 80, 90},   {100, 110, 120}, {130, 140, 150}, {160, 170, 180}, {190, 200, 210},
    {220, 230, 240}, {1, 2, 3},    {4, 5, 6},      {7, 8, 9},    {250, 251, 252}};
static const unsigned char test_alpha[5] = {0, 50, 100, 150, 200};

/* Palette indices: all of a 1-bit palette, the 16 entries otherwise. */
static unsigned palette_index(uint32_t x, uint32_t y, unsigned c, int depth)
{
    return sample_at(x, y, c, depth == 8 ? 4 : depth);
}

static void expect_palette(expect *e, uint32_t w, uint32_t h, int depth, int with_alpha)
{
    e->channels = with_alpha ? 4 : 3;
    e->depth = 8;
    e->bytes = 0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            unsigned idx = palette_index(x, y, 0, depth);
            e->pixels[e->bytes++] = test_palette[idx].red;
            e->pixels[e->bytes++] = test_palette[idx].green;
            e->pixels[e->bytes++] = test_palette[idx].blue;
            if (with_alpha)
                e->pixels[e->bytes++] = idx < 5 ? test_alpha[idx] : 255;
        }
}

static void check_rows_against(const char *manifest, const expect *ex, size_t n, uint32_t w,
                               uint32_t h)
{
    static row rows[64];
    row total;
    cr_assert_eq(parse_csv(manifest, rows, 64, &total), n, "%s", manifest);
    for (size_t i = 0; i < n; i++) {
        cr_expect_str_eq(rows[i].path, ex[i].name);
        cr_expect_eq(rows[i].width, w, "%s width", ex[i].name);
        cr_expect_eq(rows[i].height, h, "%s height", ex[i].name);
        cr_expect_eq(rows[i].channels, ex[i].channels, "%s: %u channels", ex[i].name,
                     rows[i].channels);
        cr_expect_eq(rows[i].depth, ex[i].depth, "%s: depth %u", ex[i].name, rows[i].depth);
        cr_expect_eq(rows[i].bytes, ex[i].bytes, "%s: %llu bytes", ex[i].name, rows[i].bytes);
        cr_expect_eq(rows[i].sum, wstask_xxh64(ex[i].pixels, ex[i].bytes, 0),
                     "%s: pixels differ from the expected ones", ex[i].name);
    }
}

Test(read, decodes_every_colour_type_and_bit_depth_as_stored)
{
    enum { W = 7, H = 5 };
    static const struct { const char *name; int type, depth, interlace; } cases[] = {
        {"g1.png", PNG_COLOR_TYPE_GRAY, 1, 0},     {"g2.png", PNG_COLOR_TYPE_GRAY, 2, 0},
        {"g4.png", PNG_COLOR_TYPE_GRAY, 4, 0},     {"g8.png", PNG_COLOR_TYPE_GRAY, 8, 0},
        {"g16.png", PNG_COLOR_TYPE_GRAY, 16, 0},   {"ga8.png", PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0},
        {"ga16.png", PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0}, {"rgb8.png", PNG_COLOR_TYPE_RGB, 8, 0},
        {"rgb16.png", PNG_COLOR_TYPE_RGB, 16, 0},  {"rgba8.png", PNG_COLOR_TYPE_RGB_ALPHA, 8, 0},
        {"rgba16.png", PNG_COLOR_TYPE_RGB_ALPHA, 16, 0},
        {"rgb8i.png", PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7},
        {"g16i.png", PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_ADAM7},
        {"p1.png", PNG_COLOR_TYPE_PALETTE, 1, 0},  {"p4.png", PNG_COLOR_TYPE_PALETTE, 4, 0},
        {"p4t.png", PNG_COLOR_TYPE_PALETTE, 4, 0}, {"p8i.png", PNG_COLOR_TYPE_PALETTE, 8, 1},
    };
    enum { NCASES = sizeof cases / sizeof cases[0] };
    static expect ex[NCASES];
    char list[4096] = "";
    for (size_t i = 0; i < NCASES; i++) {
        int pal = cases[i].type == PNG_COLOR_TYPE_PALETTE;
        int with_alpha = pal && strchr(cases[i].name, 't') != NULL;
        unsigned channels = (unsigned)rf_png_channels(cases[i].type);
        unsigned char *rows =
            pack_rows(W, H, channels, cases[i].depth, pal ? palette_index : sample_at);
        rf_png p = {.width = W, .height = H, .color_type = cases[i].type,
                    .bit_depth = cases[i].depth, .interlace = cases[i].interlace, .rows = rows,
                    .palette = pal ? test_palette : NULL,
                    .palette_len = pal ? (cases[i].depth == 1 ? 2 : 16) : 0,
                    .trans = with_alpha ? test_alpha : NULL, .trans_len = with_alpha ? 5 : 0};
        rf_write_png(work_path("%s", cases[i].name), &p);
        free(rows);
        ex[i].name = cases[i].name;
        if (pal)
            expect_palette(&ex[i], W, H, cases[i].depth, with_alpha);
        else
            expect_direct(&ex[i], W, H, channels, cases[i].depth);
        strcat(list, cases[i].name);
        strcat(list, "\n");
    }
    rf_write_file(work_path("list.txt"), list, strlen(list));
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "read", "-o", "input=list.txt", "-j", "2");
    cr_assert_eq(r->status, 0, "%s", r->err);
    check_rows_against(r->out, ex, NCASES, W, H);
    free(r);
}

/* Gray values that survive every conversion exactly: 16-bit v*257 scales
 * to v, and RGB with R = G = B converts to that gray. */
static unsigned gray_exact(uint32_t x, uint32_t y, unsigned c, int depth)
{
    (void)c;
    unsigned v = (x * 37u + y * 11u) & 255u;
    return depth == 16 ? v * 257u : depth == 8 ? v : sample_at(x, y, 0, depth);
}

Test(read, converts_to_8_bit_gray_and_rgb)
{
    enum { W = 6, H = 4 };
    static const struct { const char *name; int type, depth; } cases[] = {
        {"g1.png", PNG_COLOR_TYPE_GRAY, 1},        {"g16.png", PNG_COLOR_TYPE_GRAY, 16},
        {"ga8.png", PNG_COLOR_TYPE_GRAY_ALPHA, 8}, {"rgb16.png", PNG_COLOR_TYPE_RGB, 16},
        {"rgba8.png", PNG_COLOR_TYPE_RGB_ALPHA, 8},
    };
    enum { NCASES = sizeof cases / sizeof cases[0] };
    static expect gray[NCASES], rgb[NCASES];
    char list[1024] = "";
    for (size_t i = 0; i < NCASES; i++) {
        unsigned channels = (unsigned)rf_png_channels(cases[i].type);
        unsigned char *rows = pack_rows(W, H, channels, cases[i].depth, gray_exact);
        rf_png p = {.width = W, .height = H, .color_type = cases[i].type,
                    .bit_depth = cases[i].depth, .rows = rows};
        rf_write_png(work_path("%s", cases[i].name), &p);
        free(rows);
        gray[i].name = rgb[i].name = cases[i].name;
        gray[i].channels = 1;
        rgb[i].channels = 3;
        gray[i].depth = rgb[i].depth = 8;
        for (uint32_t y = 0; y < H; y++)
            for (uint32_t x = 0; x < W; x++) {
                unsigned v = gray_exact(x, y, 0, cases[i].depth);
                unsigned v8 = cases[i].depth == 16 ? v / 257 : cases[i].depth == 1 ? v * 255 : v;
                gray[i].pixels[gray[i].bytes++] = (unsigned char)v8;
                for (int c = 0; c < 3; c++)
                    rgb[i].pixels[rgb[i].bytes++] = (unsigned char)v8;
            }
        strcat(list, cases[i].name);
        strcat(list, "\n");
    }
    rf_write_file(work_path("list.txt"), list, strlen(list));
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "read", "-o", "input=list.txt", "-o", "convert=gray");
    cr_assert_eq(r->status, 0, "%s", r->err);
    check_rows_against(r->out, gray, NCASES, W, H);
    rf_wsrun(r, NULL, "read", "-o", "input=list.txt", "-o", "convert=rgb");
    cr_assert_eq(r->status, 0, "%s", r->err);
    check_rows_against(r->out, rgb, NCASES, W, H);
    free(r);
}

Test(read, raw_and_auto_modes_checksum_file_bytes)
{
    const char *text = "not an image, just text\n";
    rf_write_file(work_path("a.txt"), text, strlen(text));
    rf_write_gray(work_path("b.png"), 3, 2, 5);
    size_t png_len;
    unsigned char *png = rf_read_file(work_path("b.png"), &png_len);
    rf_write_file(work_path("list"), "a.txt\nb.png\n", 12);
    rf_result *r = malloc(sizeof *r);
    static row rows[3];
    row total;

    rf_wsrun(r, NULL, "read", "-o", "input=list", "-o", "mode=raw");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_eq(parse_csv(r->out, rows, 3, &total), 2);
    cr_expect_eq(rows[0].bytes, strlen(text));
    cr_expect_eq(rows[0].sum, wstask_xxh64(text, strlen(text), 0));
    cr_expect_eq(rows[0].width, 0);
    cr_expect_eq(rows[1].bytes, png_len);
    cr_expect_eq(rows[1].sum, wstask_xxh64(png, png_len, 0));

    rf_wsrun(r, NULL, "read", "-o", "input=list", "-o", "mode=auto");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_eq(parse_csv(r->out, rows, 3, &total), 2);
    cr_expect_eq(rows[0].sum, wstask_xxh64(text, strlen(text), 0));
    unsigned char px[6];
    for (int k = 0; k < 6; k++)
        px[k] = (unsigned char)((k % 3) + (k / 3) * 7 + 5);
    cr_expect_eq(rows[1].width, 3);
    cr_expect_eq(rows[1].bytes, 6);
    cr_expect_eq(rows[1].sum, wstask_xxh64(px, 6, 0));

    rf_wsrun(r, NULL, "read", "-o", "input=list");
    cr_expect_eq(r->status, 1, "mode=png must refuse a text file: %s", r->err);
    cr_expect_not_null(strstr(r->err, "a.txt: not a PNG file"), "%s", r->err);
    free(png);
    free(r);
}

/* ---------------------------------------------------------------- input specs */

static void paths_of(const char *manifest, char *out, size_t size)
{
    static row rows[64];
    row total;
    size_t n = parse_csv(manifest, rows, 64, &total);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(rows[i].index, i);
        strncat(out, rows[i].path, size - strlen(out) - 2);
        strcat(out, " ");
    }
}

Test(read, input_specs_give_natural_or_listed_order)
{
    const char *names[] = {"b_10.png", "b_2.png", "b_1.png", ".hidden.png", "sub/b_3.png"};
    mkdir(work_path("sub"), 0755);
    for (int i = 0; i < 5; i++)
        rf_write_gray(work_path("%s", names[i]), 2, 2, (unsigned)i);
    rf_result *r = malloc(sizeof *r);
    char got[1024];

    rf_wsrun(r, NULL, "read", "-o", "input=.");
    cr_assert_eq(r->status, 0, "%s", r->err);
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "./b_1.png ./b_2.png ./b_10.png ", "folder order");

    rf_wsrun(r, NULL, "read", "-o", "input=b_*.png", "-j", "3");
    cr_assert_eq(r->status, 0, "%s", r->err);
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "b_1.png b_2.png b_10.png ", "glob order");

    const char *list = "b_10.png\r\n\nsub/b_3.png\nb_1.png";
    rf_write_file(work_path("list.txt"), list, strlen(list));
    rf_wsrun(r, NULL, "read", "-o", "input=list.txt");
    cr_assert_eq(r->status, 0, "%s", r->err);
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "b_10.png sub/b_3.png b_1.png ", "list order");

    rf_opts from_stdin = {.stdin_path = work_path("list.txt")};
    rf_wsrun(r, &from_stdin, "read", "-o", "input=-", "-j", "2");
    cr_assert_eq(r->status, 0, "%s", r->err);
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "b_10.png sub/b_3.png b_1.png ", "stdin list order");

    rf_wsrun(r, NULL, "read", "-o", "input=b_2.png");
    cr_assert_eq(r->status, 0, "%s", r->err);
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "b_2.png ", "a single PNG");

    rf_wsrun(r, NULL, "read", "-o", "input=b_*.png", "--count", "2");
    cr_assert_eq(r->status, 0, "%s", r->err);
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "b_1.png b_2.png ", "--count below the files found");

    /* A folder that matches is not a file; hidden files need an explicit
     * dot; wildcards in a folder name go through glob(3). */
    mkdir(work_path("b_99.png"), 0755);
    rf_wsrun(r, NULL, "read", "-o", "input=*.png");
    cr_assert_eq(r->status, 0, "%s", r->err);
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "b_1.png b_2.png b_10.png ", "glob with a matching folder");
    rf_wsrun(r, NULL, "read", "-o", "input=s?b/*.png");
    cr_assert_eq(r->status, 0, "%s", r->err);
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "sub/b_3.png ", "wildcard in the folder part");

    rf_wsrun(r, NULL, "read", "-o", "input=b_*.png", "--count", "5");
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "has 3 file(s) but --count is 5: no file for index 3"),
                       "%s", r->err);
    free(r);
}

Test(read, printf_patterns_follow_the_count)
{
    for (int i = 0; i < 5; i++)
        rf_write_gray(work_path("p_%d.png", i), 2, 2, (unsigned)i);
    for (int i = 0; i < 3; i++)
        rf_write_gray(work_path("q_%03d.png", i), 2, 2, (unsigned)i);
    rf_result *r = malloc(sizeof *r);
    char got[1024];

    rf_wsrun(r, NULL, "read", "-o", "input=p_%d.png");
    cr_assert_eq(r->status, 0, "%s", r->err);
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "p_0.png p_1.png p_2.png p_3.png p_4.png ");

    rf_wsrun(r, NULL, "read", "-o", "input=p_%d.png", "--count", "3");
    cr_assert_eq(r->status, 0, "%s", r->err);
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "p_0.png p_1.png p_2.png ");

    rf_wsrun(r, NULL, "read", "-o", "input=q_%03d.png");
    cr_assert_eq(r->status, 0, "%s", r->err);
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "q_000.png q_001.png q_002.png ");

    /* Only the pattern's exact spelling counts, in a subfolder too. */
    mkdir(work_path("sub"), 0755);
    rf_write_gray(work_path("sub/p_0.png"), 2, 2, 0);
    rf_write_gray(work_path("sub/p_01.png"), 2, 2, 0);
    rf_write_gray(work_path("sub/p_2.png"), 2, 2, 0);
    rf_wsrun(r, NULL, "read", "-o", "input=sub/p_%d.png");
    cr_assert_eq(r->status, 0, "%s", r->err);
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "sub/p_0.png ", "p_01.png is not index 1 of p_%%d.png");
    rf_wsrun(r, NULL, "read", "-o", "input=sub/p_%02d.png", "--count", "2");
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "asks for index 0 but sub/p_00.png does not exist"), "%s",
                       r->err);

    rf_wsrun(r, NULL, "read", "-o", "input=p_%d.png", "--count", "7", "-o", "output=m.csv");
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "--count 7 asks for index 5 but p_5.png does not exist"),
                       "%s", r->err);
    cr_expect_not(rf_exists(work_path("m.csv")));

    rf_wsrun(r, NULL, "read", "-o", "input=p_%s.png");
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "p_%s.png"), "%s", r->err);
    rf_wsrun(r, NULL, "read", "-o", "input=nothing_here");
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "'nothing_here': no such file or folder"), "%s", r->err);
    free(r);
}

/* ---------------------------------------------------------------- bad input */

/* Four good images with `bad` written as index 2 by `make_bad`; read must
 * fail index 2 with `message`, exit 1, and leave no manifest or temporary. */
static void expect_bad_index_2(const char *bad_name, const char *message, rf_opts *o)
{
    char list[512];
    snprintf(list, sizeof list, "g0.png\ng1.png\n%s\ng3.png\n", bad_name);
    rf_write_file(work_path("list.txt"), list, strlen(list));
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, o, "read", "-o", "input=list.txt", "-o", "output=m.csv", "-j", "2");
    cr_expect_eq(r->status, 1, "exit status %d: %s", r->status, r->err);
    char want[512];
    snprintf(want, sizeof want, "index 2 failed");
    cr_expect_not_null(strstr(r->err, want), "no '%s' in: %s", want, r->err);
    snprintf(want, sizeof want, "%s: %s", bad_name, message);
    cr_expect_not_null(strstr(r->err, want), "no '%s' in: %s", want, r->err);
    cr_expect_not(rf_exists(work_path("m.csv")), "a manifest was written by a failed run");
    cr_expect_eq(rf_count_hidden(work_dir), 0, "a temporary file was left behind");
    free(r);
}

static void four_good_images(void)
{
    for (int i = 0; i < 4; i++)
        rf_write_gray(work_path("g%d.png", i), 20, 10, (unsigned)i);
}

Test(read, truncated_png_fails_its_index)
{
    four_good_images();
    rf_truncate_copy(work_path("g1.png"), work_path("cut.png"), 60);
    expect_bad_index_2("cut.png", "bad PNG: file ends early (truncated)", NULL);
}

Test(read, not_a_png_fails_its_index)
{
    four_good_images();
    rf_write_file(work_path("fake.png"), "GIF89a this is not a png", 24);
    expect_bad_index_2("fake.png", "not a PNG file", NULL);
}

Test(read, empty_file_fails_its_index)
{
    four_good_images();
    rf_write_file(work_path("empty.png"), "", 0);
    expect_bad_index_2("empty.png", "empty file (0 bytes)", NULL);
}

Test(read, huge_header_is_refused_before_allocating)
{
    four_good_images();
    rf_write_huge_header(work_path("huge.png"), 1000000, 1000000);
    expect_bad_index_2("huge.png", "header says 1000000x1000000 = 1000000000000 pixels, over "
                                   "the limit of 100000000 (option max-pixels)", NULL);
    /* The process never grew anywhere near the 1e12 bytes the image needs. */
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "read", "-o", "input=huge.png", "-o", "max-pixels=1000000000000");
    cr_expect_eq(r->status, 1, "%s", r->err);
    cr_expect_lt(r->maxrss_kb, 200 * 1024, "peak memory %ld KB", r->maxrss_kb);
    rf_wsrun(r, NULL, "read", "-o", "input=g0.png", "-o", "max-pixels=199");
    cr_expect_eq(r->status, 1, "the limit applies to ordinary images too: %s", r->err);
    cr_expect_not_null(strstr(r->err, "20x10 = 200 pixels, over the limit of 199"), "%s", r->err);
    free(r);
}

Test(read, missing_file_fails_its_index)
{
    four_good_images();
    expect_bad_index_2("gone.png", "cannot open: No such file or directory", NULL);
}

Test(read, unreadable_file_fails_its_index)
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
    /* nobody must be able to create the manifest's temporary. */
    chmod(work_dir, 0777);
    expect_bad_index_2("locked.png", "cannot open: Permission denied", &o);
}

Test(read, folder_without_files_is_a_usage_error)
{
    mkdir(work_path("empty"), 0755);
    mkdir(work_path("empty/sub"), 0755);
    rf_write_file(work_path("empty/.hidden"), "x", 1);
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "read", "-o", "input=empty", "-o", "output=m.csv");
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "input folder 'empty': no files found"), "%s", r->err);
    cr_expect_not(rf_exists(work_path("m.csv")));
    rf_wsrun(r, NULL, "read", "-o", "input=empty/*.png");
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "no files found"), "%s", r->err);
    free(r);
}

Test(read, missing_output_folder_is_a_usage_error)
{
    four_good_images();
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "read", "-o", "input=g*.png", "-o", "output=no/such/dir/m.csv");
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "cannot create no/such/dir/m.csv"), "%s", r->err);
    cr_expect_not_null(strstr(r->err, "No such file or directory"), "%s", r->err);
    free(r);
}

/* A list naming one small file 300 times: a manifest of about 15 KB. */
static void long_manifest_input(void)
{
    rf_write_file(work_path("x.bin"), "xyz", 3);
    FILE *f = fopen(work_path("list.txt"), "w");
    for (int i = 0; i < 300; i++)
        fprintf(f, "x.bin\n");
    fclose(f);
}

Test(read, file_size_limit_leaves_no_manifest)
{
    long_manifest_input();
    rf_write_file(work_path("m.csv"), "old manifest\n", 13);
    rf_opts o = {.fsize_limit = 4096};
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, &o, "read", "-o", "input=list.txt", "-o", "mode=raw", "-o", "output=m.csv");
    cr_expect_eq(r->status, 1, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "cannot write m.csv: File too large"), "%s", r->err);
    size_t len;
    char *old = (char *)rf_read_file(work_path("m.csv"), &len);
    cr_expect(len == 13 && memcmp(old, "old manifest\n", 13) == 0,
              "the earlier manifest was changed");
    free(old);
    cr_expect_eq(rf_count_hidden(work_dir), 0, "a temporary file was left behind");
    free(r);
}

Test(read, full_tmpfs_leaves_no_manifest)
{
    long_manifest_input();
    const char *small = work_path("small");
    mkdir(small, 0755);
    if (mount("tmpfs", small, "tmpfs", 0, "size=8k") != 0)
        cr_skip_test("cannot mount a small tmpfs here (%s); the file-size-limit test covers "
                     "a failing write", strerror(errno));
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "read", "-o", "input=list.txt", "-o", "mode=raw", "-o",
             "output=small/m.csv");
    int hidden = rf_count_hidden(small);
    int left = rf_exists(work_path("small/m.csv"));
    umount(small);
    cr_expect_eq(r->status, 1, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "cannot write small/m.csv: No space left on device"), "%s",
                       r->err);
    cr_expect_not(left, "a manifest was left on the full disk");
    cr_expect_eq(hidden, 0, "a temporary file was left on the full disk");
    free(r);
}

Test(read, output_to_a_pipe_is_written_not_replaced)
{
    rf_write_gray(work_path("g0.png"), 4, 3, 0);
    const char *pipe_path = work_path("pipe");
    cr_assert_eq(mkfifo(pipe_path, 0644), 0, "mkfifo: %s", strerror(errno));
    /* Holding both ends open lets wsrun open the pipe and write without
     * blocking; the manifest fits in the pipe's buffer. */
    int fd = open(pipe_path, O_RDWR | O_NONBLOCK);
    cr_assert_geq(fd, 0);
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "read", "-o", "input=g0.png", "-o", "output=pipe");
    cr_expect_eq(r->status, 0, "%s", r->err);
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    cr_assert_gt(n, 0, "nothing came through the pipe");
    buf[n] = '\0';
    cr_expect(strncmp(buf, "index,path,", 11) == 0, "pipe got: %s", buf);
    cr_expect_not_null(strstr(buf, "\n0,g0.png,4,3,1,8,12,"), "pipe got: %s", buf);
    struct stat st;
    cr_expect(stat(pipe_path, &st) == 0 && S_ISFIFO(st.st_mode),
              "the pipe was replaced by a regular file");
    free(r);
}

Test(read, a_shard_of_the_run_writes_no_partial_manifest)
{
    four_good_images();
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "read", "-o", "input=g*.png", "--shard", "0/2", "-o", "output=m.csv");
    /* The runtime refuses --shard for a plugin that is not resumable
     * (exit 2); should that check go, finish refuses the partial result
     * (exit 1).  Either way: a message about the shard, no output. */
    cr_expect(r->status == 1 || r->status == 2, "exit %d: %s", r->status, r->err);
    cr_expect_not_null(strstr(r->err, "--shard"), "%s", r->err);
    cr_expect_not(rf_exists(work_path("m.csv")));
    cr_expect_eq(rf_count_hidden(work_dir), 0, "a temporary file was left behind");
    free(r);
}

/* ---------------------------------------------------------------- the manifest as a table */

/* numpy.genfromtxt reads the CSV manifest as a table of one row per file
 * with a type per column: integers stay integers, as a total row at the
 * end (a word in index, blanks in width) used to prevent. */
Test(read, csv_manifest_loads_in_numpy_with_integer_columns)
{
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "noise", "--count", "5", "-q");
    cr_assert_eq(r->status, 0, "noise failed: %s", r->err);
    rf_wsrun(r, NULL, "read", "-o", "input=image_*.png", "-o", "output=m.csv");
    cr_assert_eq(r->status, 0, "%s", r->err);
    char cmd[PATH_MAX + 512];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import numpy, sys; "
             "a = numpy.genfromtxt(sys.argv[1], delimiter=\",\", names=True, dtype=None, "
             "encoding=\"utf-8\"); "
             "print(len(a), \" \".join(n + \":\" + a.dtype[n].kind for n in a.dtype.names), "
             "int(a[\"bytes\"].sum()))' %s 2>&1",
             work_path("m.csv"));
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char out[1024];
    size_t len = fread(out, 1, sizeof out - 1, p);
    out[len] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "python3: %s", out);
    cr_expect_str_eq(out, "5 index:i path:U width:i height:i channels:i bit_depth:i bytes:i "
                          "xxh64:U 50000\n");
    free(r);
}

/* ---------------------------------------------------------------- inputs as users name them */

/* A file named as an image is an image, whatever its bytes: a broken one
 * fails as a broken image under its own name, never as a list of paths
 * (which used to give "this is not a png file: cannot open: ..."). */
static void expect_broken_image(const char *name, const char *why)
{
    rf_result *r = malloc(sizeof *r);
    char input[300], want[1024];
    snprintf(input, sizeof input, "input=%s", name);
    rf_wsrun(r, NULL, "read", "-j", "1", "-o", input, "-o", "output=m.csv");
    cr_expect_eq(r->status, 1, "exit status %d: %s", r->status, r->err);
    snprintf(want, sizeof want,
             "wsrun: read: index 0 failed (worker 0): %s: %s\nwsrun: 1 of 1 tasks failed\n", name,
             why);
    cr_expect_str_eq(r->err, want);
    cr_expect_str_empty(r->out);
    cr_expect_not(rf_exists(work_path("m.csv")), "a manifest was written by a failed run");
    free(r);
}

Test(read, corrupt_photo_png_is_a_broken_image_not_a_list)
{
    const char *text = "this is not a png file\n";
    rf_write_file(work_path("photo.png"), text, strlen(text));
    expect_broken_image("photo.png", "not a PNG file (no PNG signature in its first 8 bytes)");
}

Test(read, image_extension_in_any_case_is_an_image)
{
    const char *text = "this is not a png file\n";
    rf_write_file(work_path("PHOTO.PNG"), text, strlen(text));
    expect_broken_image("PHOTO.PNG", "not a PNG file (no PNG signature in its first 8 bytes)");
    rf_write_file(work_path("shot.Jpg"), text, strlen(text));
    expect_broken_image("shot.Jpg", "not a PNG file (no PNG signature in its first 8 bytes)");
}

Test(read, truncated_photo_png_names_the_file_and_the_damage)
{
    rf_write_gray(work_path("whole.png"), 20, 10, 1);
    rf_truncate_copy(work_path("whole.png"), work_path("photo.png"), 60);
    expect_broken_image("photo.png", "bad PNG: file ends early (truncated)");
}

Test(read, error_from_a_list_names_the_list_and_its_line)
{
    rf_write_gray(work_path("g0.png"), 20, 10, 0);
    rf_write_gray(work_path("g1.png"), 20, 10, 1);
    const char *list = "g0.png\n\ngone.png\ng1.png\n"; /* the blank line 2 still counts */
    rf_write_file(work_path("list.txt"), list, strlen(list));
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "read", "-j", "1", "--keep-going", "-o", "input=list.txt");
    cr_expect_eq(r->status, 1, "exit status %d: %s", r->status, r->err);
    cr_expect_str_eq(r->err, "wsrun: read: index 1 failed (worker 0): list.txt:3: gone.png: "
                             "cannot open: No such file or directory\n"
                             "wsrun: 1 of 3 tasks failed\n");
    cr_expect_str_empty(r->out);

    rf_opts from_stdin = {.stdin_path = work_path("list.txt")};
    rf_wsrun(r, &from_stdin, "read", "-j", "1", "--keep-going", "-o", "input=-");
    cr_expect_eq(r->status, 1, "exit status %d: %s", r->status, r->err);
    cr_expect_str_eq(r->err, "wsrun: read: index 1 failed (worker 0): stdin:3: gone.png: "
                             "cannot open: No such file or directory\n"
                             "wsrun: 1 of 3 tasks failed\n");
    free(r);
}

Test(read, list_without_extension_still_works)
{
    rf_write_gray(work_path("g0.png"), 20, 10, 0);
    rf_write_gray(work_path("g1.png"), 20, 10, 1);
    rf_write_file(work_path("images"), "g1.png\ng0.png\n", 14);
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "read", "-o", "input=images", "-q");
    cr_assert_eq(r->status, 0, "%s", r->err);
    char got[256];
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "g1.png g0.png ", "the list's order");
    free(r);
}

Test(read, binary_file_without_extension_is_no_list)
{
    static const unsigned char blob[] = {'G', 'I', 'F', '8', '9', 'a', 0, 1, 2, '\n', 'x'};
    rf_write_file(work_path("picture"), blob, sizeof blob);
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "read", "-o", "input=picture", "-o", "output=m.csv");
    cr_expect_eq(r->status, 2, "exit status %d: %s", r->status, r->err);
    cr_expect_str_eq(r->err, "wsrun: read: init failed: picture:1: a NUL byte: this is not a "
                             "list of paths, one per line (an image must be named with its "
                             "extension, such as .png)\n");
    cr_expect_not(rf_exists(work_path("m.csv")));
    free(r);
}

/* A list that is a pipe (-o input=<(find ...)) is read once, from its
 * first byte: peeking at it for a PNG signature used to eat the first 8
 * bytes of the first path. */
Test(read, list_from_a_pipe_keeps_its_first_bytes)
{
    rf_write_gray(work_path("image_0.png"), 2, 2, 0);
    rf_write_gray(work_path("image_1.png"), 2, 2, 1);
    int p[2];
    cr_assert_eq(pipe(p), 0, "pipe: %s", strerror(errno));
    const char *list = "image_0.png\nimage_1.png\n";
    cr_assert_eq(write(p[1], list, strlen(list)), (ssize_t)strlen(list));
    close(p[1]); /* wsrun, inheriting p[0], reads the list and then end of file */
    char input[64];
    snprintf(input, sizeof input, "input=/dev/fd/%d", p[0]);
    rf_result *r = malloc(sizeof *r);
    rf_wsrun(r, NULL, "read", "-o", input, "-q");
    close(p[0]);
    cr_assert_eq(r->status, 0, "%s", r->err);
    char got[256];
    paths_of(r->out, got, sizeof got);
    cr_expect_str_eq(got, "image_0.png image_1.png ");
    free(r);
}
