# cli_lib.bash - what every tests/cli/*.sh script starts and ends with:
# the build folder, a scratch folder under /tmp removed at exit, the
# pass/fail counters with ok/bad/check, and the summary line.  Sourced by
# those scripts (it lives outside tests/cli/ so `make test-cli` does not
# run it as a script); must never change the caller's working folder.

# cli_start NAME TAG [relative]: messages say NAME; SCRATCH is
# /tmp/wsrun-TAG.XXXXXX; BUILD is $WSRUN_BUILD (else build), made
# absolute unless `relative` is given.  Also sets W and FIXTURES.
cli_start() {
    CLI_NAME=$1
    BUILD=${WSRUN_BUILD:-build}
    if [ "${3:-}" != relative ]; then
        BUILD=$(cd "$BUILD" 2>/dev/null && pwd) ||
            { echo "$CLI_NAME: build folder ${WSRUN_BUILD:-build} missing"; exit 2; }
    fi
    W=$BUILD/wsrun
    FIXTURES=$BUILD/test-plugins
    SCRATCH=$(mktemp -d "/tmp/wsrun-$2.XXXXXX") || exit 2
    # Only the script's own shell removes the folder: bash runs an
    # inherited EXIT trap in a ( ... ) & subshell that a signal kills
    # before its first command, and $BASHPID there can still read as the
    # parent's (seen: a backstop subshell killed early emptied the folder
    # under the running test).  /proc/self/stat, read by a builtin, is
    # always the process's own pid.
    read -r CLI_SHELL _ </proc/self/stat
    trap 'read -r cli_self _ </proc/self/stat
          [ "$cli_self" = "$CLI_SHELL" ] && rm -rf "$SCRATCH"' EXIT
    unset WSRUN_PLUGIN_PATH
    passed=0
    failed=0
}

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
# check NAME CONDITION...: a case that passes when the command succeeds.
check() { local name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }

# The last line of every script, and its exit status.
cli_finish() {
    echo "$CLI_NAME: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
