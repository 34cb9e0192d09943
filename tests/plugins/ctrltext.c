/*
 * ctrltext.c - test fixture: a plugin whose own text holds terminal
 * control sequences (set the window title, clear the screen), so
 * tests/cli/hostile.sh can check that wsrun prints all of it escaped:
 * the version and description (--list-plugins, --help), an option's
 * help and default (--help), and the name.  A plugin's name must equal
 * its file's name, so this one takes its name from the file it was loaded
 * from: linked as "ctrl<ESC>]0;PWNED<BEL>.so" it is named that, and the
 * progress line, --stats, ws_fail's line and the crash report (-o crash=on:
 * SIGSEGV in run_one) must print it escaped too.  Never used as an example.
 */
#include <dlfcn.h>
#include <signal.h>
#include <string.h>

#include "fixture.h"

static const ws_option ctrltext_options[] = {
    {"crash", WS_OPT_BOOL, "off", "\033]0;PWNED\007 SIGSEGV in run_one", NULL, 0, 0},
    {"fail", WS_OPT_BOOL, "off", "ws_fail in run_one", NULL, 0, 0},
    {"note", WS_OPT_STRING, "x\033[2Jy", "free text", NULL, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int ctrltext_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    (void)index;
    if (ws_opt_bool(ctx, "crash"))
        raise(SIGSEGV);
    if (ws_opt_bool(ctx, "fail"))
        return ws_fail(ctx, "failed \033[2J on purpose");
    return WS_OK;
}

static ws_plugin ctrltext = {
    WS_PLUGIN_HEADER,
    .name = "ctrltext",
    .version = "1\033[2J",
    .description = "evil \033]0;PWNED\007 text",
    .options = ctrltext_options,
    .run_one = ctrltext_run_one,
};

WS__EXTERN_C WS_EXPORT const ws_plugin *ws_plugin_descriptor(void);
WS__EXTERN_C WS_EXPORT const ws_plugin *ws_plugin_descriptor(void)
{
    /* The file's name less ".so", as the loader expects it. */
    static char name[256];
    Dl_info info;
    if (dladdr((void *)ws_plugin_descriptor, &info) && info.dli_fname) {
        const char *base = strrchr(info.dli_fname, '/');
        base = base ? base + 1 : info.dli_fname;
        size_t len = strlen(base);
        if (len > 3 && len - 3 < sizeof name && strcmp(base + len - 3, ".so") == 0) {
            memcpy(name, base, len - 3);
            name[len - 3] = '\0';
            ctrltext.name = name;
        }
    }
    return &ctrltext;
}
