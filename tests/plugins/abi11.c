/*
 * abi11.c - test fixture: a fork-join plugin compiled against the frozen
 * ABI 1.1 header (tests/abi/wsrun-1.1.h), as one built before ABI
 * 1.2 was; its body is tests/plugins/abi_forkjoin.h.  Never used
 * as an example: new plugins use include/wsrun.h.
 */
#include "../abi/wsrun-1.1.h"

#define ABI_PLUGIN_NAME "abi11"
#include "abi_forkjoin.h"
