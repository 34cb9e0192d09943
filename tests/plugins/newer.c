/*
 * newer.c - test fixture: a plugin built against a future minor ABI whose
 * descriptor has extra fields after the v1 ones.  The loader must accept it,
 * copy only the v1 part, and run it.
 */
#include "fixture.h"

typedef struct newer_descriptor {
    ws_plugin v1;
    void (*future_callback)(void);
    uint64_t future_field;
} newer_descriptor;

static const newer_descriptor newer = {
    .v1 =
        {
            .abi_major = WS_ABI_MAJOR,
            .abi_minor = WS_ABI_MINOR + 1,
            .struct_size = (uint32_t)sizeof(newer_descriptor),
            .name = "newer",
            .version = "9.9",
            .description = "descriptor from a newer minor ABI",
            .run_one = fixture_run_nothing,
        },
    .future_field = 0xdeadbeef,
};

/* The descriptor function returns the v1 view of the longer struct. */
WS_EXPORT const ws_plugin *ws_plugin_descriptor(void);
WS_EXPORT const ws_plugin *ws_plugin_descriptor(void)
{
    return &newer.v1;
}
