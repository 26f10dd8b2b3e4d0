/*
 * grow_int.h - internal: the one growth rule for rill's dynamic arrays
 * (held forwards, driver captures, store undo logs): double the capacity,
 * starting from a given size. Not for processors.
 */
#ifndef RILL_GROW_INT_H
#define RILL_GROW_INT_H

#include <stddef.h>

#include "topology/rill.h"

/* Makes room for one more element in *arr (n used of *cap, each elsize
 * bytes), reallocating to twice the capacity (first first) when full.
 * Returns RILL_OK, or RILL_ERR_NOMEM with *arr and *cap unchanged. */
rill_err_t rill_grow(void *arr, size_t n, size_t *cap, size_t elsize, size_t first);

#endif
