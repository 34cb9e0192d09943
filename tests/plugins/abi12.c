/*
 * abi12.c - test fixture: a fork-join plugin compiled against the frozen
 * ABI 1.2 header (tests/abi/wsrun-1.2.h), as one built before ABI
 * 1.3 was; its body is tests/plugins/abi_forkjoin.h.  Never used
 * as an example: new plugins use include/wsrun.h.
 */
#include "../abi/wsrun-1.2.h"

#define ABI_PLUGIN_NAME "abi12"
#include "abi_forkjoin.h"
