/*
 * cli.h - internal: the wsrun command (cli.c), for its main.c.  Never
 * included by plugins; wsrun-mpi calls args.h and session.h itself.
 */
#ifndef WSRT_CLI_H
#define WSRT_CLI_H

/* The whole wsrun program: parse argv, load the plugin, run it.  Returns
 * the process exit status (WSRT_EXIT_* of run.h). */
int wsrt_cli_main(int argc, char **argv);

#endif
