/*
 * fuzz_journal.c - libFuzzer target: the --resume reader
 * (wsrt_journal_scan_data in runtime/reports/journal_format.c) on arbitrary bytes,
 * against the key of a fixed command.  Checks what must hold for any input: no
 * read past the data, no bit set at or beyond count, keep_len within the
 * data and on a record boundary, and done equal to the bits it set.
 * Must never touch the file system.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_COUNT 200

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wsrt_journal_key key;
    static int have_key;
    if (!have_key) {
        if (wsrt_journal_key_build("noise", FUZZ_COUNT, 7, "width=100,prefix=img_", &key) != 0)
            abort();
        have_key = 1;
    }
    /* An exact-size copy, so ASan catches any read past the end. */
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    uint64_t bits[(FUZZ_COUNT + 63) / 64 + 1];
    memset(bits, 0, sizeof bits);
    wsrt_journal_scan scan;
    char err[1024];
    if (wsrt_journal_scan_data(copy, size, &key, bits, &scan, err, sizeof err) == 0 && !scan.fresh) {
        uint64_t set = 0;
        for (uint64_t i = 0; i < 64 * (sizeof bits / sizeof bits[0]); i++)
            if ((bits[i / 64] >> (i % 64)) & 1) {
                if (i >= FUZZ_COUNT)
                    abort();
                set++;
            }
        if (set != scan.done || scan.keep_len > size || scan.keep_len < key.header_len ||
            (scan.keep_len - key.header_len) % WSRT_JOURNAL_RECORD != 0)
            abort();
    }
    free(copy);
    return 0;
}
