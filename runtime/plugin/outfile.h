/*
 * outfile.h - internal controls of ws_outfile_* (runtime/plugin/outfile.c) for the
 * tests; never called by the runtime itself.
 */
#ifndef WS_OUTFILE_H
#define WS_OUTFILE_H

/* Test hook: nonzero makes every later ws_outfile_open take the named
 * temporary path (as on a file system without O_TMPFILE); 0 restores the
 * default.  Process-wide. */
void wsrt_outfile_test_force_named(int on);

/* Test hook: nonzero makes anonymous files be linked through
 * /proc/self/fd/N (as where the kernel refuses AT_EMPTY_PATH); 0 lets
 * them try AT_EMPTY_PATH again.  Process-wide. */
void wsrt_outfile_test_force_proc_link(int on);

#endif
