/*
 * test_standby.c - the standby plan (topology/engine/standby_plan.c), which
 * predicts librdkafka's range assignor: a worked example of three
 * instances over six partitions; for random groups (instances, threads per
 * instance, partitions, replicas), that every partition an instance would
 * be given after any failure of up to `replicas` other instances is either
 * its own already or in its plan, that no planned partition is its own,
 * and that each planned one is given to it in some failure; and the plan's
 * refusal when there are too many cases to lay out. The reference
 * assignor here is written from the range assignor's rule, not from the
 * plan's code.
 */
#include "tests/lib/suite.h"
#include "topology/engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INST 6
#define MAX_THREADS 3
#define MAX_PARTS 24

struct group {
    int ninst, threads, nparts;
    char inst[MAX_INST][16];
    char ids[MAX_INST * MAX_THREADS][32];
    struct sb_member m[MAX_INST * MAX_THREADS];
    int owner_inst[MAX_INST * MAX_THREADS];
    size_t n;
};

/* Instances named in a shuffled order, so that their sort order is not
 * their index. */
static void group_make(struct group *g, int ninst, int threads, int nparts, unsigned seed)
{
    memset(g, 0, sizeof *g);
    g->ninst = ninst;
    g->threads = threads;
    g->nparts = nparts;
    for (int i = 0; i < ninst; i++)
        snprintf(g->inst[i], sizeof g->inst[i], "%08x", (seed * 2654435761u + (unsigned)i * 40503u) ^ 0x5bd1e995u);
    for (int i = 0; i < ninst; i++)
        for (int k = 0; k < threads; k++) {
            size_t l = strlen(g->inst[i]); /* the instance's name, then its thread */
            memcpy(g->ids[g->n], g->inst[i], l);
            snprintf(g->ids[g->n] + l, sizeof g->ids[g->n] - l, ".proc-%d", k);
            g->m[g->n] = (struct sb_member){ .instance = g->inst[i], .order = g->ids[g->n] };
            g->owner_inst[g->n] = i;
            g->n++;
        }
}

static int cmp_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The range assignor's rule, over the members whose instance is not dead:
 * sorted by id, the first P % C get P / C + 1 partitions, the others P / C.
 * out[p] = the instance given partition p. */
static void reference_range(const struct group *g, const int *dead, int *out)
{
    const char *alive[MAX_INST * MAX_THREADS];
    int c = 0;
    for (size_t i = 0; i < g->n; i++)
        if (!dead[g->owner_inst[i]])
            alive[c++] = g->ids[i];
    qsort(alive, (size_t)c, sizeof alive[0], cmp_ids);
    int p = 0;
    for (int i = 0; i < c; i++) {
        int len = g->nparts / c + (i < g->nparts % c ? 1 : 0);
        int inst = -1;
        for (size_t k = 0; k < g->n; k++)
            if (!strcmp(g->ids[k], alive[i]))
                inst = g->owner_inst[k];
        for (int j = 0; j < len; j++)
            out[p++] = inst;
    }
}

static void test_worked_example(void)
{
    /* A, B, C with one thread each over 6 partitions: A 0-1, B 2-3, C 4-5.
     * A dead: B 0-2, C 3-5; B dead: A 0-2, C 3-5; C dead: A 0-2, B 3-5. */
    struct sb_member m[3] = {
        { "B", "B.proc-0" }, { "A", "A.proc-0" }, { "C", "C.proc-0" },
    };
    unsigned char want[6];
    CU_ASSERT_EQUAL(standby_plan(m, 3, "A", 6, 1, want), 1);
    CU_ASSERT(!want[0] && !want[1] && want[2] && !want[3] && !want[4] && !want[5]);
    CU_ASSERT_EQUAL(standby_plan(m, 3, "B", 6, 1, want), 4);
    CU_ASSERT(want[0] && want[1] && !want[2] && !want[3] && want[4] && want[5]);
    CU_ASSERT_EQUAL(standby_plan(m, 3, "C", 6, 1, want), 1);
    CU_ASSERT(!want[0] && !want[1] && !want[2] && want[3] && !want[4] && !want[5]);
    /* alone in its group, or without replicas: nothing to copy */
    CU_ASSERT_EQUAL(standby_plan(m + 1, 1, "A", 6, 1, want), 0);
    CU_ASSERT_EQUAL(standby_plan(m, 3, "A", 6, 0, want), 0);
    /* two replicas: A would get everything with B and C dead */
    CU_ASSERT_EQUAL(standby_plan(m, 3, "A", 6, 2, want), 4);
    CU_ASSERT(!want[0] && !want[1] && want[2] && want[3] && want[4] && want[5]);
}

/* Every failure set of up to r instances other than me, as a bitmask. */
static long check_group(const struct group *g, int me, int r, long *cases)
{
    unsigned char want[MAX_PARTS];
    int rc = standby_plan(g->m, g->n, g->inst[me], g->nparts, r, want);
    if (rc < 0)
        return 1;
    int dead[MAX_INST] = { 0 }, now[MAX_PARTS], later[MAX_PARTS];
    reference_range(g, dead, now);
    long bad = 0;
    unsigned char given[MAX_PARTS] = { 0 };
    for (int p = 0; p < g->nparts; p++)
        if (want[p] && now[p] == me)
            bad++; /* its own is no standby */
    for (unsigned mask = 1; mask < (1u << g->ninst); mask++) {
        if (mask & (1u << me) || __builtin_popcount(mask) > r)
            continue;
        for (int i = 0; i < g->ninst; i++)
            dead[i] = (mask >> i) & 1;
        reference_range(g, dead, later);
        (*cases)++;
        for (int p = 0; p < g->nparts; p++)
            if (later[p] == me) {
                given[p] = 1;
                if (now[p] != me && !want[p])
                    bad++; /* taken over cold */
            }
    }
    for (int p = 0; p < g->nparts; p++)
        if (want[p] && !given[p])
            bad++; /* copied for nothing */
    return bad;
}

static void test_random_groups(void)
{
    srand(20261203);
    long bad = 0, cases = 0, groups = 0;
    for (int round = 0; round < 400; round++) {
        struct group g;
        int ninst = 1 + rand() % MAX_INST, threads = 1 + rand() % MAX_THREADS;
        int nparts = 1 + rand() % MAX_PARTS, r = 1 + rand() % 3;
        group_make(&g, ninst, threads, nparts, (unsigned)round);
        for (int me = 0; me < ninst; me++)
            bad += check_group(&g, me, r, &cases);
        groups++;
    }
    fprintf(stderr, "\n    standby plan: %ld groups, %ld failure cases, %ld wrong\n", groups,
            cases, bad);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(cases > 1000);
}

static void test_too_many_cases(void)
{
    /* 40 instances, up to 8 dead: millions of cases; refused, nothing marked */
    static char names[40][16];
    struct sb_member m[40];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "i%02d", i);
        m[i] = (struct sb_member){ names[i], names[i] };
    }
    unsigned char want[64];
    memset(want, 7, sizeof want);
    CU_ASSERT_EQUAL(standby_plan(m, 40, "i00", 64, 8, want), -1);
    int marked = 0;
    for (int p = 0; p < 64; p++)
        marked += want[p] != 0;
    CU_ASSERT_EQUAL(marked, 0);
    /* one failure over the same group is fine */
    CU_ASSERT(standby_plan(m, 40, "i00", 64, 1, want) >= 0);
}

static CU_TestInfo tests[] = {
    { "three instances over six partitions", test_worked_example },
    { "random groups: every takeover within replicas is warm", test_random_groups },
    { "too many failure cases: refused", test_too_many_cases },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("standby", tests)
