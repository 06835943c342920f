/*
 * Flusher epochs: each flusher start claims a number no earlier flusher
 * used, by creating "flusher/epoch/<10 digits>" with put-if-absent.  The
 * epoch is the high half of every segment id, so segment names never
 * repeat, even after a crash.
 */
#ifndef ZEROFS_FLUSHER_EPOCH_H
#define ZEROFS_FLUSHER_EPOCH_H

#include "objstore.h"

#include <stdint.h>

#define EPOCH_PREFIX "flusher/epoch/"

/* Claims the next free epoch (1 or above) into *epoch.  Returns 0 or a
 * negative errno from the store; -EOVERFLOW when the epochs ran out. */
int epoch_claim(struct objstore *os, uint32_t *epoch);

#endif
