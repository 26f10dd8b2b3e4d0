/*
 * driver.c - the in-process test driver (see driver.h). Processor instances
 * are created on first use per (processor, partition); emitted records are
 * copied into a capture list and then processed by downstream readers in the
 * order they were emitted (a queue, not a recursion), so chains and feedback
 * loops behave as they would through Kafka (minus batching), and no
 * processor is ever re-entered while it is still handing out its outputs.
 */
#include "topology/driver/driver.h"
#include "processors/registry.h"
#include "topology/base/partition.h"
#include "topology/base/grow_int.h"
#include "state/store_rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRIVER_MAX_HOPS 1000000 /* records delivered for one piped record: a loop */

struct inst {
    const struct rill_proc_conf *pc;
    int32_t partition;
    rill_node_t *node;
    struct rill_driver *d;
    rill_store_t **stores;      /* memory stores, one per granted store */
    size_t nstores;
};

static void inst_free(struct inst *in)
{
    rill_node_free(in->node);
    for (size_t i = 0; i < in->nstores; i++)
        rill_store_free(in->stores[i]);
    free(in->stores);
    free(in);
}

/* Each record is its own transaction in the driver: the node already undid
 * the store writes of a retried or rejected record; what is left commits. */
static void inst_settle(struct inst *in, int keep)
{
    for (size_t i = 0; i < in->nstores; i++) {
        char err[RILL_ERRSTR_SIZE];
        if (keep)
            rill_store_commit(in->stores[i], -1, err, sizeof err);
        else
            rill_store_abort(in->stores[i]);
    }
}

struct rill_driver {
    const struct rill_topology *t;
    struct inst **insts;       /* stable pointers: they are the nodes' opaques */
    size_t ninsts;
    struct rill_captured *cap;
    size_t ncap, capcap;
    int64_t wall_ms;
    size_t next;               /* first captured record not yet delivered */
    int64_t piped;             /* the offset the next piped record gets */
    char err[RILL_ERRSTR_SIZE];
};

static int64_t driver_clock(void *arg)
{
    return ((const rill_driver_t *)arg)->wall_ms;
}

static char *dupmem(const void *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    if (c && n)
        memcpy(c, p, n);
    return c;
}

static rill_err_t capture(void *opaque, const struct rill_out *o)
{
    struct inst *in = opaque;
    rill_driver_t *d = in->d;
    if (rill_grow(&d->cap, d->ncap, &d->capcap, sizeof *d->cap, 64) != RILL_OK)
        return RILL_ERR_NOMEM;
    const struct rill_topic_conf *tc = rill_topology_topic(d->t, o->topic);
    int32_t part = in->partition;
    if (o->key && tc && tc->partitions > 0)
        part = rill_partition_murmur2(o->key, o->key_len, tc->partitions);
    struct rill_captured *c = &d->cap[d->ncap];
    memset(c, 0, sizeof *c);
    c->rec.topic = dupmem(o->topic, strlen(o->topic) + 1);
    c->rec.key = o->key ? dupmem(o->key, o->key_len) : NULL;
    c->rec.key_len = o->key_len;
    c->rec.value = o->value ? dupmem(o->value, o->value_len) : NULL;
    c->rec.value_len = o->value_len;
    c->rec.timestamp = o->timestamp;
    rill_header_t *h = o->header_cnt ? calloc(o->header_cnt, sizeof *h) : NULL;
    for (size_t i = 0; h && i < o->header_cnt; i++) {
        h[i].name = dupmem(o->headers[i].name, strlen(o->headers[i].name) + 1);
        h[i].value = o->headers[i].value ? dupmem(o->headers[i].value, o->headers[i].len) : NULL;
        h[i].len = o->headers[i].len;
    }
    c->rec.headers = h;
    c->rec.header_cnt = h ? o->header_cnt : 0;
    c->partition = part;
    c->producer = in->pc->name;
    int lost = !c->rec.topic || (o->key && !c->rec.key) || (o->value && !c->rec.value) ||
               (o->header_cnt && !h);
    for (size_t i = 0; h && i < o->header_cnt; i++)
        lost |= !h[i].name || (o->headers[i].value && !h[i].value);
    if (lost) { /* out of memory: not captured, all of it given back */
        for (size_t i = 0; h && i < o->header_cnt; i++) {
            free((void *)h[i].name);
            free((void *)h[i].value);
        }
        free(h);
        free((void *)c->rec.topic);
        free((void *)c->rec.key);
        free((void *)c->rec.value);
        return RILL_ERR_NOMEM;
    }
    d->ncap++;
    return RILL_OK;
}

static struct inst *instance(rill_driver_t *d, const struct rill_proc_conf *pc, int32_t partition)
{
    for (size_t i = 0; i < d->ninsts; i++)
        if (d->insts[i]->pc == pc && d->insts[i]->partition == partition)
            return d->insts[i];
    struct inst **arr = realloc(d->insts, (d->ninsts + 1) * sizeof *arr);
    if (!arr)
        return NULL;
    d->insts = arr;
    struct inst *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->pc = pc;
    in->partition = partition;
    in->d = d;
    in->stores = calloc(pc->stores.n ? pc->stores.n : 1, sizeof *in->stores);
    for (size_t i = 0; in->stores && i < pc->stores.n; i++) {
        struct rill_store_opts o = { .type = "memory" };
        if (rill_store_open(pc->stores.v[i], &o, &in->stores[i], d->err, sizeof d->err) != RILL_OK)
            break;
        in->nstores++;
    }
    /* Stores are bound before init, so that init may already use them. */
    struct rill_node_spec spec;
    rill_node_spec_of(pc, &spec);
    in->node = in->stores && in->nstores == pc->stores.n
                   ? rill_node_new_bound(&spec, partition, capture, in, pc->stores.v, in->stores,
                                         in->nstores, d->err, sizeof d->err)
                   : NULL;
    if (!in->node) {
        inst_free(in);
        return NULL;
    }
    rill_node_set_clock(in->node, driver_clock, d);
    d->insts[d->ninsts++] = in;
    return in;
}

static int reads(const struct rill_proc_conf *pc, const char *topic)
{
    for (size_t i = 0; i < pc->inputs.n; i++)
        if (!strcmp(pc->inputs.v[i], topic))
            return 1;
    return 0;
}

static rill_err_t deliver(rill_driver_t *d, const char *topic, int32_t partition,
                          const rill_record_t *given)
{
    /* as the engine hands a record over: its headers read on demand */
    struct rill_header_src src = { .v = given->headers, .n = given->header_cnt };
    rill_record_t r = *given;
    r.headers = NULL;
    r.header_cnt = 0;
    r.header_src = &src;
    const rill_record_t *rec = &r;
    rill_err_t ret = RILL_OK;
    for (size_t p = 0; p < d->t->nprocs && ret == RILL_OK; p++) {
        const struct rill_proc_conf *pc = &d->t->procs[p];
        if (!reads(pc, topic))
            continue;
        struct inst *in = instance(d, pc, partition);
        if (!in) {
            ret = RILL_ERR_CONFIG;
            break;
        }
        rill_proc_result_t res;
        rill_header_src_enter(&src);
        ret = rill_node_process(in->node, rec, &res);
        rill_header_src_leave();
        inst_settle(in, ret == RILL_OK);
        if (ret == RILL_OK && res == RILL_PROC_RETRY)
            ret = RILL_ERR_RETRY;
    }
    return ret;
}

/* Delivers the captured records not delivered yet, in emission order,
 * including what they cause in turn. */
static rill_err_t drain(rill_driver_t *d)
{
    size_t hops = 0;
    while (d->next < d->ncap) {
        if (++hops > DRIVER_MAX_HOPS) {
            d->next = d->ncap;
            return rill_errf(d->err, sizeof d->err, RILL_ERR_INVALID,
                             "more than %d records forwarded for one record", DRIVER_MAX_HOPS);
        }
        const struct rill_captured *c = &d->cap[d->next];
        rill_record_t rec = { /* d->cap may move while delivering: copy */
            .topic = c->rec.topic, .partition = c->partition, .offset = (int64_t)d->next,
            .timestamp = c->rec.timestamp, .key = c->rec.key, .key_len = c->rec.key_len,
            .value = c->rec.value, .value_len = c->rec.value_len, .headers = c->rec.headers,
            .header_cnt = c->rec.header_cnt,
        };
        d->next++;
        rill_err_t err = deliver(d, rec.topic, rec.partition, &rec);
        if (err != RILL_OK) {
            /* The chain stops here: the records still queued (whatever
             * caused them) stay captured but reach no reader. */
            d->next = d->ncap;
            return err;
        }
    }
    return RILL_OK;
}

rill_driver_t *rill_driver_new(const struct rill_topology *t, char *errstr, size_t errsz)
{
    if (rill_topology_check(t, rill_proc_builtins, rill_sink_builtins, errstr, errsz) != RILL_OK)
        return NULL;
    rill_driver_t *d = calloc(1, sizeof *d);
    if (!d) {
        rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    d->t = t;
    return d;
}

rill_err_t rill_driver_preflight(rill_driver_t *d, char *errstr, size_t errsz)
{
    for (size_t p = 0; p < d->t->nprocs; p++) {
        d->err[0] = '\0';
        if (!instance(d, &d->t->procs[p], 0)) {
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s",
                             d->err[0] ? d->err : "out of memory");
        }
    }
    return RILL_OK;
}

rill_err_t rill_driver_pipe(rill_driver_t *d, const char *topic, int32_t partition,
                            const void *key, size_t key_len, const void *value, size_t value_len,
                            const rill_header_t *headers, size_t header_cnt, int64_t ts,
                            char *errstr, size_t errsz)
{
    rill_record_t rec = {
        .topic = topic, .partition = partition, .offset = d->piped++, .timestamp = ts, .key = key,
        .key_len = key_len, .value = value, .value_len = value_len, .headers = headers,
        .header_cnt = header_cnt,
    };
    d->err[0] = '\0';
    d->next = d->ncap;
    rill_err_t err = deliver(d, topic, partition, &rec);
    if (err == RILL_OK)
        err = drain(d);
    if (err != RILL_OK && errstr)
        rill_errf(errstr, errsz, err, "%s", d->err[0] ? d->err : rill_err2str(err));
    return err;
}

rill_err_t rill_driver_pipe_str(rill_driver_t *d, const char *topic, int32_t partition,
                                const char *key, const char *value, int64_t ts)
{
    return rill_driver_pipe(d, topic, partition, key, key ? strlen(key) : 0, value,
                            value ? strlen(value) : 0, NULL, 0, ts, NULL, 0);
}

rill_err_t rill_driver_advance_wall_clock(rill_driver_t *d, int64_t ms)
{
    d->wall_ms += ms;
    d->next = d->ncap;
    for (size_t i = 0; i < d->ninsts; i++) {
        rill_proc_result_t res;
        rill_err_t err = rill_node_tick(d->insts[i]->node, d->wall_ms, &res);
        inst_settle(d->insts[i], err == RILL_OK);
        if (err != RILL_OK)
            return err;
    }
    return drain(d);
}

rill_store_t *rill_driver_store(rill_driver_t *d, const char *processor, const char *store,
                               int32_t partition)
{
    for (size_t i = 0; i < d->ninsts; i++) {
        struct inst *in = d->insts[i];
        if (strcmp(in->pc->name, processor) || in->partition != partition)
            continue;
        for (size_t k = 0; k < in->nstores; k++)
            if (!strcmp(in->pc->stores.v[k], store))
                return in->stores[k];
    }
    return NULL;
}

size_t rill_driver_count(const rill_driver_t *d, const char *topic)
{
    size_t n = 0;
    for (size_t i = 0; i < d->ncap; i++)
        n += !strcmp(d->cap[i].rec.topic, topic);
    return n;
}

const struct rill_captured *rill_driver_get(const rill_driver_t *d, const char *topic, size_t i)
{
    for (size_t k = 0; k < d->ncap; k++)
        if (!strcmp(d->cap[k].rec.topic, topic) && i-- == 0)
            return &d->cap[k];
    return NULL;
}

void rill_driver_free(rill_driver_t *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->ninsts; i++)
        inst_free(d->insts[i]);
    free(d->insts);
    for (size_t i = 0; i < d->ncap; i++) {
        struct rill_captured *c = &d->cap[i];
        free((void *)c->rec.topic);
        free((void *)c->rec.key);
        free((void *)c->rec.value);
        for (size_t h = 0; h < c->rec.header_cnt; h++) {
            free((void *)c->rec.headers[h].name);
            free((void *)c->rec.headers[h].value);
        }
        free((void *)c->rec.headers);
    }
    free(d->cap);
    free(d);
}
