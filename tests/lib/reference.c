/*
 * reference.c - the tests' model of the pipeline's rules (reference.h).
 */
#include "tests/lib/reference.h"

int it_payment_approves(uint64_t seed, const char *order_id, int rate_e4)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 8; i++)
        h = (h ^ ((seed >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
    for (const unsigned char *p = (const unsigned char *)order_id; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return (int)(h % 10000) < rate_e4;
}
