/*
 * grow.c - the growth rule of grow_int.h.
 */
#include "topology/base/grow_int.h"

#include <stdlib.h>
#include <string.h>

rill_err_t rill_grow(void *arr, size_t n, size_t *cap, size_t elsize, size_t first)
{
    if (n < *cap)
        return RILL_OK;
    void **p = arr;
    size_t ncap = *cap ? *cap * 2 : first;
    void *q = realloc(*p, ncap * elsize);
    if (!q)
        return RILL_ERR_NOMEM;
    *p = q;
    *cap = ncap;
    return RILL_OK;
}
