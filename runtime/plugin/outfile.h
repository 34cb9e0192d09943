/*
 * outfile.h - internal controls of ws_outfile_* (runtime/plugin/outfile.c):
 * the registry a command's crash handler gives it, and switches for the
 * tests (never called by the runtime itself).  Nothing here may name a
 * higher layer: the command layer hands its functions down.
 */
#ifndef WSRT_OUTFILE_H
#define WSRT_OUTFILE_H

/* Where ws_outfile_* report their temporary names, so that whoever must
 * end the process at once (wsrun's crash and second-interrupt handlers)
 * can remove them.  track(path) when a named temporary is created,
 * untrack(path) before it is renamed or removed; path stays valid
 * between the two (nothing is copied).  Both are called from plugin
 * threads and must be thread-safe and never fail the caller. */
typedef struct wsrt_temp_registry {
    void (*track)(const char *path);
    void (*untrack)(const char *path);
} wsrt_temp_registry;

/* Use `registry` (static storage; NULL: none, the default) from now on.
 * Process-wide; set it before any output is opened and not during a run
 * (a temporary tracked with one registry must be untracked with it). */
void wsrt_outfile_set_temp_registry(const wsrt_temp_registry *registry);

/* Test hook: nonzero makes every later ws_outfile_open take the named
 * temporary path (as on a file system without O_TMPFILE); 0 restores the
 * default.  Process-wide. */
void wsrt_outfile_test_force_named(int on);

/* Test hook: nonzero makes anonymous files be linked through
 * /proc/self/fd/N (as where the kernel refuses AT_EMPTY_PATH); 0 lets
 * them try AT_EMPTY_PATH again.  Process-wide. */
void wsrt_outfile_test_force_proc_link(int on);

#endif
