/*
 * cli.h - internal: the wsrun command line (cli.c) and the progress line it
 * shares stderr with (log.c).  Never included by plugins.
 */
#ifndef WSRUN_CLI_H
#define WSRUN_CLI_H

/* The whole wsrun program: parse argv, load the plugin, run it.  Returns
 * the process exit status (WS_EXIT_* of run.h). */
int ws_cli_main(int argc, char **argv);

/* Draw `line` (no newline) as the progress line on stderr; messages written
 * by ws_err/ws_log meanwhile erase it and draw it again below themselves. */
void ws_log_progress_show(const char *line);
/* Erase the progress line and stop redrawing it. */
void ws_log_progress_clear(void);

#endif
