/*
 * standby_plan.c - which tasks an instance keeps standby copies of
 * (standby.h's standby_plan): librdkafka 2.0.2 offers no custom assignor, so
 * rill cannot place standbys and then assign to them, as Kafka Streams
 * does. Instead each instance predicts the assignor: for every way up to r
 * other instances may die, it lays out the range assignment of the members
 * left (members in group.instance.id order, the first P % C of them one
 * partition more: librdkafka's range assignor, the one rill's consumers
 * use) and keeps a copy of every partition it would be given that it does
 * not own today. A pure function of the group's description: no I/O.
 */
#include "topology/engine/engine_int.h"

#include <stdlib.h>
#include <string.h>

/* Beyond this many failure cases the plan gives up (the caller mirrors). */
#define PLAN_MAX_CASES 4096

struct plan {
    const struct sb_member *const *sorted; /* members in the assignor's order */
    size_t n;
    const char *me;
    int32_t nparts;
    const char **others;                   /* the other instances */
    size_t nothers;
    unsigned char *dead;                   /* per other instance: in this case */
    unsigned char *want;
    size_t cases;
};

static int by_order(const void *a, const void *b)
{
    const struct sb_member *x = *(const struct sb_member *const *)a;
    const struct sb_member *y = *(const struct sb_member *const *)b;
    return strcmp(x->order, y->order);
}

static int is_dead(const struct plan *pl, const char *instance)
{
    for (size_t k = 0; k < pl->nothers; k++)
        if (pl->dead[k] && !strcmp(pl->others[k], instance))
            return 1;
    return 0;
}

/* The range assignment of the members alive in this case: marks in out
 * (when set) or clears in want (when clear) the partitions of mine. */
static void lay_out(const struct plan *pl, unsigned char *out, int clear)
{
    size_t alive = 0;
    for (size_t i = 0; i < pl->n; i++)
        alive += !is_dead(pl, pl->sorted[i]->instance);
    if (!alive)
        return;
    int32_t per = pl->nparts / (int32_t)alive, extra = pl->nparts % (int32_t)alive;
    int32_t pos = 0;
    for (size_t i = 0; i < pl->n; i++) {
        const struct sb_member *m = pl->sorted[i];
        if (is_dead(pl, m->instance))
            continue;
        int32_t start = per * pos + (pos < extra ? pos : extra);
        int32_t len = per + (pos < extra ? 1 : 0);
        pos++;
        if (strcmp(m->instance, pl->me))
            continue;
        for (int32_t p = start; p < start + len; p++)
            out[p] = clear ? 0 : 1;
    }
}

/* Every set of at most left more dead instances from index from on. */
static int cases(struct plan *pl, size_t from, int left)
{
    for (size_t k = from; k < pl->nothers && left > 0; k++) {
        if (++pl->cases > PLAN_MAX_CASES)
            return -1;
        pl->dead[k] = 1;
        lay_out(pl, pl->want, 0);
        int rc = cases(pl, k + 1, left - 1);
        pl->dead[k] = 0;
        if (rc)
            return rc;
    }
    return 0;
}

int standby_plan(const struct sb_member *m, size_t n, const char *me, int32_t nparts,
                 int replicas, unsigned char *want)
{
    memset(want, 0, nparts > 0 ? (size_t)nparts : 0);
    if (nparts <= 0 || !n || replicas <= 0)
        return 0;
    const struct sb_member **sorted = malloc(n * sizeof *sorted);
    const char **others = malloc(n * sizeof *others);
    unsigned char *dead = calloc(n, 1);
    int rc = -1;
    if (!sorted || !others || !dead)
        goto out;
    struct plan pl = { .sorted = sorted, .n = n, .me = me, .nparts = nparts, .others = others,
                       .dead = dead, .want = want };
    for (size_t i = 0; i < n; i++) {
        sorted[i] = &m[i];
        int seen = !strcmp(m[i].instance, me);
        for (size_t k = 0; k < pl.nothers && !seen; k++)
            seen = !strcmp(others[k], m[i].instance);
        if (!seen)
            others[pl.nothers++] = m[i].instance;
    }
    qsort(sorted, n, sizeof *sorted, by_order);
    if (cases(&pl, 0, replicas))
        goto out;
    lay_out(&pl, want, 1); /* what it owns today is no standby */
    rc = 0;
    for (int32_t p = 0; p < nparts; p++)
        rc += want[p];
out:
    if (rc < 0)
        memset(want, 0, (size_t)nparts);
    free(sorted);
    free(others);
    free(dead);
    return rc;
}
