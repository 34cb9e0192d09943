/*
 * discover.h - internal: --list-plugins, every plugin on the search path
 * with its version and one-line description.
 *
 * The search path is the loader's (loader.h): $WSRUN_PLUGIN_PATH, then
 * <exe dir>/plugins, then <exe dir>/../lib/wsrun.  A plugin is opened and
 * its descriptor read and checked as `--plugin` would, but none of its
 * callbacks (init above all) is ever called.
 * Must never call a plugin's code beyond its descriptor function.
 */
#ifndef WSRT_DISCOVER_H
#define WSRT_DISCOVER_H

#include <stdio.h>

/* Print the plugins found, grouped by folder in search order, to `out`;
 * files that are not usable plugins get one "wsrun: skipping ..." line on
 * stderr each.  `search_path` is colon separated (may be NULL); exe_path
 * NULL means the running executable.  Returns the number of plugins
 * listed, or -1 (with a message printed) when memory ran out. */
int wsrt_discover_list(FILE *out, const char *search_path, const char *exe_path);

#endif
