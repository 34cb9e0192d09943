/*
 * fuzz_options.c - libFuzzer target: the plugin-option parser
 * (runtime/plugin/options.c) and the CLI's whole-number parser.  The input is
 * split at newlines: line 1 becomes the default of an int option and the
 * choices of an enum option (a plugin's own table, checked by
 * wsrt_opts_setup), the other lines are "-o key=value" assignments and
 * --count/--jobs texts.  Any crash, leak or sanitizer report is a bug.
 * Must never write files or print beyond what the parser itself does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "options.h"
#include "run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *lines[32];
    size_t n = 0;
    for (char *p = text; n < 32;) {
        lines[n++] = p;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    /* Line 1 plays the plugin author: a default and a choices list. */
    ws_option table[] = {
        {.name = "n", .type = WS_OPT_INT, .default_value = "10", .min = 1, .max = 100},
        {.name = "big", .type = WS_OPT_INT},
        {.name = "ratio", .type = WS_OPT_DOUBLE, .default_value = "0.5", .min = 0, .max = 1},
        {.name = "label", .type = WS_OPT_STRING},
        {.name = "fast", .type = WS_OPT_BOOL, .default_value = "no"},
        {.name = "mode", .type = WS_OPT_ENUM, .default_value = "rgb", .choices = "gray|rgb|cmyk"},
        {.name = "fuzzed", .type = WS_OPT_ENUM, .choices = lines[0]},
        {.name = "fuzzed_int", .type = WS_OPT_INT, .default_value = lines[0], .min = -5, .max = 5},
        {.name = NULL},
    };
    char err[1024];
    ws_run run;
    memset(&run, 0, sizeof run);
    run.desc.name = "fuzz";
    run.desc.options = table;
    if (wsrt_opts_setup(&run, err, sizeof err) != 0) {
        /* A bad table is refused; the fixed part must still work. */
        table[6].name = NULL;
        memset(&run, 0, sizeof run);
        run.desc.name = "fuzz";
        run.desc.options = table;
        if (wsrt_opts_setup(&run, err, sizeof err) != 0)
            abort(); /* the fixed table is valid: refusing it is a bug */
    }
    for (size_t k = 1; k < n; k++) {
        (void)wsrt_opts_apply(&run, lines[k], err, sizeof err);
        uint64_t v;
        (void)wsrt_parse_u64(lines[k], UINT64_MAX, &v);
        (void)wsrt_parse_u64(lines[k], 4096, &v);
    }
    char *canonical = wsrt_journal_options_text(&run);
    free(canonical);
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
        wsrt_opts_print_table(sink, table);
        fclose(sink);
    }
    wsrt_opts_free(&run);
    free(text);
    return 0;
}
