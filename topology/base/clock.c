/*
 * clock.c - the one monotonic clock of the runtime (rill.h): milliseconds
 * for deadlines, intervals and back-offs, never for record timestamps (those
 * are wall-clock time from Kafka).
 */
#include "topology/rill.h"

#include <time.h>

int64_t rill_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
