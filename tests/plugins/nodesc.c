/*
 * nodesc.c - test fixture: a shared object without the ws_plugin_descriptor
 * symbol.  The loader must refuse it by name; it must never define one.
 */
#include "wsrun.h"

int nodesc_not_a_plugin(void);
int nodesc_not_a_plugin(void)
{
    return 42;
}
