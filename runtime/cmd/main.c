/*
 * main.c - the wsrun executable's entry point.  Everything lives in the
 * runtime library (cli.c, args.c, session.c) so tests can link it without
 * a second main; keep this file to this one call.
 * Must never grow options or logic of its own.
 */
#include "cli.h"

int main(int argc, char **argv)
{
    return wsrt_cli_main(argc, argv);
}
