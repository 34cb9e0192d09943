#!/usr/bin/env bash
# exports.sh - wsrun exports to plugins exactly the functions
# include/wsrun.h declares WS_API (issue 16): no internal ws_ function in
# the dynamic symbol table of wsrun, wsrun-mpi or a test binary that loads
# plugins, none of the header's missing; libwsrun.so exports exactly those
# of wsrun.h and wsrun_embed.h; every built plugin needs only
# those; a plugin that calls an internal function fails to load naming it.
# Needs nm (binutils, which gcc depends on) and cc.  Run from anywhere;
# writes only into its scratch folder under /tmp.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start exports exports
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$W" ] || { echo "exports: $W not built"; exit 2; }

"$ROOT/scripts/public-functions" "$ROOT/include/wsrun.h" >"$SCRATCH/api" ||
    { echo "exports: scripts/public-functions failed on include/wsrun.h"; exit 2; }
check "the header declares the fork-join slow paths WS_API" grep -qx 'ws__join_at' "$SCRATCH/api"
check "the header declares ws_fail WS_API" grep -qx 'ws_fail' "$SCRATCH/api"

# exports_match BINARY [LIST]: its defined dynamic ws* symbols equal the
# list (default: wsrun.h's).
exports_match() {
    local bin=$1 list=${2:-$SCRATCH/api} extra missing
    nm -D --defined-only "$bin" | awk '$3 ~ /^ws/ { print $3 }' | LC_ALL=C sort -u >"$SCRATCH/have"
    extra=$(LC_ALL=C comm -23 "$SCRATCH/have" "$list" | tr '\n' ' ')
    missing=$(LC_ALL=C comm -13 "$SCRATCH/have" "$list" | tr '\n' ' ')
    if [ -z "$extra" ] && [ -z "$missing" ]; then ok
    else bad "${bin#"$BUILD"/} exports $(wc -l <"$SCRATCH/have") ws symbols; not in the header: ${extra:-none}; missing: ${missing:-none}"; fi
}
exports_match "$W"
# Built by tests-build, not by `make all`: checked when there.
for bin in "$BUILD/wsrun-mpi" "$BUILD/tests/test_loader" "$BUILD/tests/test_discover"; do
    [ -x "$bin" ] && exports_match "$bin"
done

# libwsrun.so (make lib; checked when built) exports exactly the WS_API
# functions of wsrun.h and wsrun_embed.h, and leaves no ws symbol undefined
# for a program to interpose; wsrun itself exports none of the embedding API.
"$ROOT/scripts/public-functions" "$ROOT/include/wsrun.h" "$ROOT/include/wsrun_embed.h" \
    >"$SCRATCH/api_lib" || { echo "exports: scripts/public-functions failed on the two headers"; exit 2; }
check "wsrun_embed.h declares ws_pool_create WS_API" grep -qx 'ws_pool_create' "$SCRATCH/api_lib"
if [ -f "$BUILD/libwsrun.so" ]; then
    exports_match "$BUILD/libwsrun.so" "$SCRATCH/api_lib"
    undefined=$(nm -D --undefined-only "$BUILD/libwsrun.so" | awk '$2 ~ /^ws/ { print $2 }' | tr '\n' ' ')
    check "libwsrun.so needs no ws symbol from outside (needs: ${undefined:-none})" test -z "$undefined"
fi

# Every plugin (built-in, fixture, C++, frozen older ABI) needs from wsrun
# only functions the header declares.
n=0
for so in "$BUILD"/plugins/*.so "$FIXTURES"/*.so; do
    [ -f "$so" ] || continue
    n=$((n + 1))
    unknown=$(nm -D --undefined-only "$so" | awk '$2 ~ /^ws/ { print $2 }' | LC_ALL=C sort -u |
        LC_ALL=C comm -23 - "$SCRATCH/api" | tr '\n' ' ')
    if [ -z "$unknown" ]; then ok; else bad "${so#"$BUILD"/} needs functions wsrun does not export: $unknown"; fi
done
[ "$n" -ge 5 ] && ok || bad "only $n plugins found under $BUILD/plugins and $FIXTURES"

# A plugin calling an internal function (the runtime's JSON writer) does
# not load, and the message names the function; the same plugin calling
# only public functions runs.
cat >"$SCRATCH/probe.c" <<'EOF'
#include "wsrun.h"
#ifdef USE_INTERNAL
void wsrt_json_string(void *out, const char *s);
#endif
static int probe_init(ws_ctx *ctx, void **state)
{
    (void)state;
#ifdef USE_INTERNAL
    wsrt_json_string(0, "x");
#endif
    ws_set_count(ctx, 1);
    return WS_OK;
}
static int probe_run(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state, (void)index, (void)ctx;
    return WS_OK;
}
static const ws_plugin probe = {WS_PLUGIN_HEADER, .name = "probe", .version = "1",
                                .description = "exports.sh probe", .init = probe_init,
                                .run_one = probe_run};
WS_PLUGIN_DEFINE(probe)
EOF
mkdir -p "$SCRATCH/public" "$SCRATCH/internal"
cc -std=c11 -I"$ROOT/include" -fPIC -shared "$SCRATCH/probe.c" -o "$SCRATCH/public/probe.so" &&
    cc -std=c11 -I"$ROOT/include" -DUSE_INTERNAL -fPIC -shared "$SCRATCH/probe.c" \
        -o "$SCRATCH/internal/probe.so" ||
    { echo "exports: cannot build the probe plugin"; exit 2; }
"$W" -q -p "$SCRATCH/public/probe.so" >"$SCRATCH/out" 2>&1
rc=$?
check "a plugin calling only public functions runs (status $rc: $(head -1 "$SCRATCH/out"))" [ $rc -eq 0 ]
"$W" -q -p "$SCRATCH/internal/probe.so" >"$SCRATCH/out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q 'undefined symbol: wsrt_json_string' "$SCRATCH/out"; then ok
else bad "a plugin calling wsrt_json_string: status $rc, printed: $(head -2 "$SCRATCH/out")"; fi

cli_finish
