/*
 * wake.c - the one variable behind wake.h's test hook (the handshake itself
 * is inline in wake.h).  Must never hold anything a run depends on.
 */
#include "wake.h"

_Atomic int wsrt_wake_test_untimed;
