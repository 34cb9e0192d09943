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

#endif
