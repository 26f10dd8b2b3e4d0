/*
 * test_engine.c - the engine's parts that need no broker: a stream thread's
 * state machine (legal transitions pass, illegal ones are refused and leave
 * the state as it was), the transaction begin refused outside READY, the one
 * retry helper (attempts, early success, a stop), and a task built the way
 * a rebalance builds it, whose processor is bound to every one of 100
 * granted stores (no cap); static membership by default (an id from the
 * instance id, processor and thread, a short session), a prefix of the
 * topology's own, or off; the Kafka settings rill chooses unless the
 * topology does: memory.bytes' queue shares and record counts, consumers'
 * queued.min.messages, an exactly-once producer's transaction timeout and
 * retry back-off. The consume-process-produce path itself is the
 * integration tier's (tests/integration/test_eos.c).
 */
#include "tests/lib/suite.h"
#include "tests/lib/drive.h"
#include "tests/lib/util.h"
#include "topology/engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stream thread of processor 0 of t, outside any thread and client. */
static void thread_of(struct sthread *st, rill_engine_t *e, const struct rill_topology *t)
{
    memset(st, 0, sizeof *st);
    st->e = e;
    st->pc = &t->procs[0];
    st->state = STHREAD_INIT;
}

static const char one_proc[] = "application.id: a\n"
                               "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
                               "processors:\n"
                               "  p: {type: passthrough, inputs: [in], outputs: [out]}\n";

static void test_state_transitions(void)
{
    struct rill_topology *t = it_load(one_proc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_engine_t *e = NULL;
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL_FATAL(rill_engine_new(t, &e, err, sizeof err), RILL_OK);
    struct sthread st;
    thread_of(&st, e, t);
    /* a commit interval, an abort, a fatal error and its rebuild */
    static const enum sthread_state path[] = {
        STHREAD_CREATING, STHREAD_READY, STHREAD_IN_TXN, STHREAD_COMMITTING, STHREAD_READY,
        STHREAD_IN_TXN, STHREAD_ABORTING, STHREAD_READY, STHREAD_COMMITTING, STHREAD_FATAL,
        STHREAD_FATAL, STHREAD_CREATING, STHREAD_FATAL, STHREAD_DEAD,
    };
    for (size_t i = 0; i < sizeof path / sizeof *path; i++) {
        CU_ASSERT_EQUAL(sthread_set_state(&st, path[i], "test"), RILL_OK);
        CU_ASSERT_EQUAL(st.state, path[i]);
    }
    /* refused, and the state stays */
    static const struct { enum sthread_state from, to; } bad[] = {
        { STHREAD_INIT, STHREAD_READY },       { STHREAD_INIT, STHREAD_IN_TXN },
        { STHREAD_READY, STHREAD_ABORTING },   { STHREAD_READY, STHREAD_CREATING },
        { STHREAD_IN_TXN, STHREAD_IN_TXN },    { STHREAD_IN_TXN, STHREAD_DEAD },
        { STHREAD_COMMITTING, STHREAD_IN_TXN }, { STHREAD_ABORTING, STHREAD_COMMITTING },
        { STHREAD_FATAL, STHREAD_READY },      { STHREAD_DEAD, STHREAD_FATAL },
        { STHREAD_DEAD, STHREAD_CREATING },    { STHREAD_READY, STHREAD_STATE__COUNT },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        st.state = bad[i].from;
        CU_ASSERT_EQUAL(sthread_set_state(&st, bad[i].to, "test"), RILL_ERR_STATE);
        CU_ASSERT_EQUAL(st.state, bad[i].from);
    }
    CU_ASSERT_STRING_EQUAL(sthread_state_name(STHREAD_IN_TXN), "in_transaction");
    CU_ASSERT_STRING_EQUAL(sthread_state_name(STHREAD_STATE__COUNT), "unknown");
    rill_engine_free(e);
    rill_topology_free(t);
}

/* A transaction begins from READY only; no producer is touched otherwise. */
static void test_txn_begin_needs_ready(void)
{
    struct rill_topology *t = it_load(one_proc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_engine_t *e = NULL;
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL_FATAL(rill_engine_new(t, &e, err, sizeof err), RILL_OK);
    struct sthread st;
    thread_of(&st, e, t);
    /* a begin refused by the table makes the thread rebuild, so that the
     * record in hand is not skipped by the next commit */
    st.state = STHREAD_COMMITTING;
    CU_ASSERT_EQUAL(txn_ensure(&st), RILL_ERR_FATAL);
    CU_ASSERT_EQUAL(st.state, STHREAD_FATAL);
    st.state = STHREAD_FATAL;
    CU_ASSERT_EQUAL(txn_ensure(&st), RILL_ERR_FATAL);
    st.state = STHREAD_IN_TXN;
    CU_ASSERT_EQUAL(txn_ensure(&st), RILL_OK); /* already open */
    /* nothing is committed from a state without an interval */
    st.state = STHREAD_CREATING;
    CU_ASSERT_EQUAL(txn_commit(&st), RILL_OK);
    CU_ASSERT_EQUAL(st.state, STHREAD_CREATING);
    st.state = STHREAD_FATAL;
    CU_ASSERT_EQUAL(txn_commit(&st), RILL_ERR_FATAL);
    rill_engine_free(e);
    rill_topology_free(t);
}

struct steps {
    int calls, ok_at; /* succeeds on call ok_at (0: never) */
    rill_engine_t *stop_at_first;
};

static rill_err_t step(void *arg, char *errstr, size_t errsz)
{
    struct steps *s = arg;
    s->calls++;
    if (s->stop_at_first)
        rill_engine_stop(s->stop_at_first);
    if (s->ok_at && s->calls >= s->ok_at)
        return RILL_OK;
    return rill_errf(errstr, errsz, RILL_ERR_RETRY, "not yet (call %d)", s->calls);
}

static rill_err_t step_fails(void *arg, char *errstr, size_t errsz)
{
    ((struct steps *)arg)->calls++;
    return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "broken");
}

static void test_retry_helper(void)
{
    struct rill_topology *t = it_load(one_proc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_engine_t *e = NULL;
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL_FATAL(rill_engine_new(t, &e, err, sizeof err), RILL_OK);
    const struct engine_retry p = { .attempts = 4, .backoff_ms = 1, .linear = 1,
                                    .level = RILL_LOG_DEBUG };
    struct steps s = { .ok_at = 3 };
    CU_ASSERT_EQUAL(engine_retry(e, &p, "t", "p", step, &s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(s.calls, 3);
    s = (struct steps){ 0 };
    CU_ASSERT_EQUAL(engine_retry(e, &p, "t", "p", step, &s, err, sizeof err), RILL_ERR_RETRY);
    CU_ASSERT_EQUAL(s.calls, 4); /* capped */
    CU_ASSERT_STRING_EQUAL(err, "not yet (call 4)");
    s = (struct steps){ 0 };
    CU_ASSERT_EQUAL(engine_retry(e, &p, "t", "p", step_fails, &s, NULL, 0), RILL_ERR_KAFKA);
    CU_ASSERT_EQUAL(s.calls, 1); /* not retriable */
    /* a deadline without a cap */
    const struct engine_retry d = { .deadline_ms = 30, .backoff_ms = 5, .level = RILL_LOG_DEBUG };
    s = (struct steps){ 0 };
    int64_t t0 = rill_now_ms();
    CU_ASSERT_EQUAL(engine_retry(e, &d, "t", "p", step, &s, NULL, 0), RILL_ERR_RETRY);
    CU_ASSERT(rill_now_ms() - t0 >= 30);
    CU_ASSERT(s.calls >= 2);
    /* a stop ends it at once */
    s = (struct steps){ .stop_at_first = e };
    CU_ASSERT_EQUAL(engine_retry(e, &p, "t", "p", step, &s, NULL, 0), RILL_ERR_RETRY);
    CU_ASSERT_EQUAL(s.calls, 1);
    rill_engine_free(e);
    rill_topology_free(t);
}

/* A task's processor is bound to every store it was granted: 100 of them,
 * each its own (once capped at 64). */
static void test_task_binds_every_store(void)
{
    enum { NSTORES = 100 };
    char dir[64];
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "engine"));
    size_t cap = 16384, n = 0;
    char *yaml = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(yaml);
    n += (size_t)snprintf(yaml + n, cap - n,
                          "application.id: a\nstate.dir: %s\n"
                          "topics: {in: {partitions: 1}, out: {partitions: 1}}\nstores:\n", dir);
    for (int i = 0; i < NSTORES; i++)
        n += (size_t)snprintf(yaml + n, cap - n, "  s%d: {type: memory, changelog: false}\n", i);
    n += (size_t)snprintf(yaml + n, cap - n,
                          "processors:\n  p: {type: count, inputs: [in], outputs: [out], stores: [");
    for (int i = 0; i < NSTORES; i++)
        n += (size_t)snprintf(yaml + n, cap - n, "%ss%d", i ? ", " : "", i);
    n += (size_t)snprintf(yaml + n, cap - n, "]}\n");
    CU_ASSERT_FATAL(n < cap);
    struct rill_topology *t = it_load(yaml);
    free(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL_FATAL(t->procs[0].stores.n, NSTORES);
    rill_engine_t *e = NULL;
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL_FATAL(rill_engine_new(t, &e, err, sizeof err), RILL_OK);
    struct sthread st;
    thread_of(&st, e, t);
    struct task *task = task_new(&st, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(task);
    CU_ASSERT_EQUAL(task->nstores, NSTORES);
    for (int i = 0; i < NSTORES; i++) {
        char name[32];
        snprintf(name, sizeof name, "s%d", i);
        /* the node's bindings, as rill_ctx_store() reads them inside a
         * callback (outside one it refuses: processor.h's legality table) */
        CU_ASSERT_EQUAL_FATAL(task->node->nstores, NSTORES);
        rill_store_t *s = task->node->stores[i].store;
        CU_ASSERT_STRING_EQUAL(task->node->stores[i].name, name);
        CU_ASSERT_PTR_NOT_NULL(s);
        CU_ASSERT_PTR_EQUAL(s, task->stores[i].store);
        CU_ASSERT_STRING_EQUAL(s ? rill_store_name(s) : "", name);
    }
    /* the task directory is locked while the task lives */
    char tdir[RILL_STORE_PATH_MAX];
    int fd = -1;
    CU_ASSERT_EQUAL(rill_store_taskdir_open(dir, "a", "p", 0, tdir, sizeof tdir, &fd, err,
                                            sizeof err),
                    RILL_ERR_STATE);
    task_free(task);
    CU_ASSERT_EQUAL(rill_store_taskdir_open(dir, "a", "p", 0, tdir, sizeof tdir, &fd, err,
                                            sizeof err),
                    RILL_OK);
    rill_store_dir_unlock(fd);
    rill_engine_free(e);
    rill_topology_free(t);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* What engine_static_member leaves in a consumer configuration of
 * processor p, thread 1, under the topology yaml's kafka: map. */
static void membership_of(const char *kafka, char *gii, size_t giisz, char *session,
                          size_t sessionsz)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "kafka: {%s}\n%s", kafka, one_proc);
    struct rill_topology *t = it_load(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_engine_t *e = NULL;
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL_FATAL(rill_engine_new(t, &e, err, sizeof err), RILL_OK);
    snprintf(e->instance_id, sizeof e->instance_id, "0123456789abcdef");
    rd_kafka_conf_t *c = engine_kafka_conf(t, &t->procs[0].kafka, 1, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(engine_static_member(c, e, &t->procs[0].kafka, "p", 1, err, sizeof err),
                    RILL_OK);
    /* unset, librdkafka answers that there is no value */
    if (rd_kafka_conf_get(c, "group.instance.id", gii, &giisz) != RD_KAFKA_CONF_OK)
        snprintf(gii, giisz, "(unset)");
    CU_ASSERT_EQUAL(rd_kafka_conf_get(c, "session.timeout.ms", session, &sessionsz),
                    RD_KAFKA_CONF_OK);
    rd_kafka_conf_destroy(c);
    rill_engine_free(e);
    rill_topology_free(t);
}

static void test_static_membership(void)
{
    char gii[256], session[32];
    /* by default: the instance id's, and a short session */
    membership_of("", gii, sizeof gii, session, sizeof session);
    CU_ASSERT_STRING_EQUAL(gii, "0123456789abcdef.p-1");
    CU_ASSERT_STRING_EQUAL(session, ENGINE_STATIC_SESSION_MS);
    /* a prefix of the topology's own, and its session */
    membership_of("group.instance.id: blue, session.timeout.ms: '30000'", gii, sizeof gii,
                  session, sizeof session);
    CU_ASSERT_STRING_EQUAL(gii, "blue.p-1");
    CU_ASSERT_STRING_EQUAL(session, "30000");
    /* off: dynamic membership, librdkafka's session */
    membership_of("group.instance.id: 'off'", gii, sizeof gii, session, sizeof session);
    CU_ASSERT_STRING_EQUAL(gii, "(unset)");
    CU_ASSERT_STRING_EQUAL(session, "45000");
}

/* What key is in a consumer's (consumer 1) or producer's configuration of
 * yaml after the queue bounds, into out; *kb (may be NULL) gets the
 * engine's share per queue. */
static const char *queue_key_of(const char *yaml, int consumer, const char *key, char *out,
                                size_t outsz, size_t *kb)
{
    struct rill_topology *t = it_load(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_engine_t *e = NULL;
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL_FATAL(rill_engine_new(t, &e, err, sizeof err), RILL_OK);
    rd_kafka_conf_t *c = engine_kafka_conf(t, &t->procs[0].kafka, consumer, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(engine_queue_limit(c, e, &t->procs[0].kafka,
                                       consumer ? engine_partitions(e, &t->procs[0].inputs) : 0,
                                       consumer, err, sizeof err),
                    RILL_OK);
    CU_ASSERT_EQUAL(rd_kafka_conf_get(c, key, out, &outsz), RD_KAFKA_CONF_OK);
    if (kb)
        *kb = e->queue_kb;
    rd_kafka_conf_destroy(c);
    rill_engine_free(e);
    rill_topology_free(t);
    return out;
}

/* The queue bound a consumer (consumer 1) or producer of topology yaml
 * gets, as librdkafka reads it back, into out; and the engine's share. */
static size_t queue_of(const char *yaml, int consumer, char *out, size_t outsz)
{
    size_t kb = 0;
    queue_key_of(yaml, consumer,
                 consumer ? "queued.max.messages.kbytes" : "queue.buffering.max.kbytes", out,
                 outsz, &kb);
    return kb;
}

/* The max.partition.fetch.bytes a consumer of yaml gets, into out. */
static const char *fetch_of(const char *yaml, char *out, size_t outsz)
{
    return queue_key_of(yaml, 1, "max.partition.fetch.bytes", out, outsz, NULL);
}

/* What a consumer's queued.min.messages is under the kafka: map given. */
static void min_messages_of(const char *kafka, int consumer, char *out, size_t outsz)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "kafka: {%s}\n%s", kafka, one_proc);
    struct rill_topology *t = it_load(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    char err[RILL_ERRSTR_SIZE];
    rd_kafka_conf_t *c = engine_kafka_conf(t, &t->procs[0].kafka, consumer, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(rd_kafka_conf_get(c, "queued.min.messages", out, &outsz), RD_KAFKA_CONF_OK);
    rd_kafka_conf_destroy(c);
    rill_topology_free(t);
}

/* librdkafka 2.0.2 stops fetching for a second once the consumer's queue
 * holds queued.min.messages (100,000 by default): every consumer of rill
 * gets librdkafka's maximum instead, unless the topology sets it; a
 * producer keeps librdkafka's value (the key is the consumer's). */
static void test_queued_min_messages(void)
{
    char v[32];
    min_messages_of("", 1, v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, ENGINE_QUEUED_MIN_MESSAGES);
    min_messages_of("queued.min.messages: '5000'", 1, v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "5000");
    min_messages_of("", 0, v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "100000");
}

/* The transaction.timeout.ms and retry.backoff.ms a stream thread's
 * producer of the topology (top-level lines, then one_proc) gets; "-" for
 * one librdkafka reports as its own default. */
static void txn_defaults_of(const char *top, char *tt, size_t ttsz, char *rb, size_t rbsz)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "%s%s", top, one_proc);
    struct rill_topology *t = it_load(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_engine_t *e = NULL;
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL_FATAL(rill_engine_new(t, &e, err, sizeof err), RILL_OK);
    rd_kafka_conf_t *c = engine_kafka_conf(t, &t->procs[0].kafka, 0, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(engine_txn_producer_defaults(c, e, &t->procs[0].kafka, err, sizeof err),
                    RILL_OK);
    CU_ASSERT_EQUAL(rd_kafka_conf_get(c, "transaction.timeout.ms", tt, &ttsz), RD_KAFKA_CONF_OK);
    CU_ASSERT_EQUAL(rd_kafka_conf_get(c, "retry.backoff.ms", rb, &rbsz), RD_KAFKA_CONF_OK);
    rd_kafka_conf_destroy(c);
    rill_engine_free(e);
    rill_topology_free(t);
}

/* Under exactly-once a producer's transaction timeout follows the commit
 * interval and its retry back-off is short (a commit right after another
 * is answered CONCURRENT_TRANSACTIONS until the markers are written); a
 * topology's own values stay; at_least_once keeps librdkafka's. */
static void test_txn_producer_defaults(void)
{
    char tt[32], rb[32];
    static const char eos[] = "processing.guarantee: exactly_once_v2\n";
    txn_defaults_of(eos, tt, sizeof tt, rb, sizeof rb);
    CU_ASSERT_STRING_EQUAL(tt, "10000"); /* 3 x 100 ms, at least 10 s */
    CU_ASSERT_STRING_EQUAL(rb, ENGINE_TXN_RETRY_BACKOFF_MS);
    txn_defaults_of("processing.guarantee: exactly_once_v2\ncommit.interval.ms: 30000\n", tt,
                    sizeof tt, rb, sizeof rb);
    CU_ASSERT_STRING_EQUAL(tt, "90000");
    txn_defaults_of("processing.guarantee: exactly_once_v2\ncommit.interval.ms: 600000\n", tt,
                    sizeof tt, rb, sizeof rb);
    CU_ASSERT_STRING_EQUAL(tt, "900000");
    txn_defaults_of("processing.guarantee: exactly_once_v2\n"
                    "kafka: {retry.backoff.ms: '250', message.timeout.ms: '30000'}\n",
                    tt, sizeof tt, rb, sizeof rb);
    CU_ASSERT_STRING_EQUAL(tt, "60000"); /* librdkafka's, as message.timeout.ms is set */
    CU_ASSERT_STRING_EQUAL(rb, "250");
    txn_defaults_of("processing.guarantee: at_least_once\n", tt, sizeof tt, rb, sizeof rb);
    CU_ASSERT_STRING_EQUAL(tt, "60000");
    CU_ASSERT_STRING_EQUAL(rb, "100");
}

static void test_memory_budget(void)
{
    char v[32], yaml[2048];
    /* unset: librdkafka's own bounds */
    CU_ASSERT_EQUAL(queue_of(one_proc, 1, v, sizeof v), 0);
    CU_ASSERT_STRING_EQUAL(v, "65536");
    queue_of(one_proc, 0, v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "1048576");
    /* 256 MiB with the state's 64: one thread's consumer and producer share
     * the 192 MiB */
    char yaml256[1024];
    snprintf(yaml256, sizeof yaml256, "memory.bytes: 268435456\n%s", one_proc);
    CU_ASSERT_EQUAL(queue_of(yaml256, 1, v, sizeof v), 98304);
    CU_ASSERT_STRING_EQUAL(v, "49152"); /* half: the fetch in flight gets the rest */
    queue_of(yaml256, 0, v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "98304");
    /* 96 MiB with the state's 64: 32 MiB for two queues */
    snprintf(yaml, sizeof yaml, "memory.bytes: 100663296\n%s", one_proc);
    CU_ASSERT_EQUAL(queue_of(yaml, 1, v, sizeof v), 16384);
    /* a stateful processor on 2 threads with standbys, and a second state
     * budget: (2 x 3 + 1) queues share 128 MiB - 32 MiB */
    CU_ASSERT_EQUAL(queue_of("application.id: a\nmemory.bytes: 134217728\n"
                             "state.memory.bytes: 33554432\nnum.stream.threads: 2\n"
                             "num.standby.replicas: 1\n"
                             "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
                             "processors:\n"
                             "  p: {type: count, inputs: [in], outputs: [out], stores: [s]}\n",
                             1, v, sizeof v),
                    (size_t)(96 << 10) / 7);
    /* librdkafka bounds a consumer's whole queue; one fetch may add
     * max.partition.fetch.bytes per partition past it: half the share
     * split over the partitions it may read (at most librdkafka's 1 MiB,
     * at least 64 KiB); the producer's share is not split */
    static const char four[] = "application.id: a\nmemory.bytes: 268435456\n"
                               "topics: {in: {partitions: 4}, out: {partitions: 4}}\n"
                               "processors:\n"
                               "  p: {type: passthrough, inputs: [in], outputs: [out]}\n";
    queue_of(four, 1, v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "49152");
    CU_ASSERT_STRING_EQUAL(fetch_of(four, v, sizeof v), "1048576");
    queue_of(four, 0, v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "98304");
    static const char many[] = "application.id: a\nmemory.bytes: 100663296\n"
                               "topics: {in: {partitions: 64}, out: {partitions: 64}}\n"
                               "processors:\n"
                               "  p: {type: passthrough, inputs: [in], outputs: [out]}\n";
    /* 16 MiB per queue: 8 MiB over 64 partitions */
    CU_ASSERT_STRING_EQUAL(fetch_of(many, v, sizeof v), "131072");
    /* unset: librdkafka's fetch size */
    CU_ASSERT_STRING_EQUAL(fetch_of(one_proc, v, sizeof v), "1048576");
    /* librdkafka's byte bounds count payloads: the record counts are
     * bounded too, at ENGINE_QUEUE_RECORD_COST bytes a record (256 MiB:
     * 96 MiB per queue, the consumer's 48 of it) */
    char want[32];
    snprintf(want, sizeof want, "%d", (98304 << 10) / ENGINE_QUEUE_RECORD_COST);
    CU_ASSERT_STRING_EQUAL(queue_key_of(yaml256, 0, "queue.buffering.max.messages", v, sizeof v, NULL),
                           want);
    snprintf(want, sizeof want, "%d", (49152 << 10) / ENGINE_QUEUE_RECORD_COST);
    CU_ASSERT_STRING_EQUAL(queue_key_of(yaml256, 1, "queued.min.messages", v, sizeof v, NULL), want);
    /* unset: librdkafka's producer count, rill's consumer default */
    CU_ASSERT_STRING_EQUAL(queue_key_of(one_proc, 0, "queue.buffering.max.messages", v, sizeof v, NULL),
                           "100000");
    CU_ASSERT_STRING_EQUAL(queue_key_of(one_proc, 1, "queued.min.messages", v, sizeof v, NULL),
                           ENGINE_QUEUED_MIN_MESSAGES);
    /* the topology's own setting stays; the other kind still gets its share */
    snprintf(yaml, sizeof yaml, "kafka: {queued.max.messages.kbytes: '4096'}\n%s", yaml256);
    queue_of(yaml, 1, v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "4096");
    queue_of(yaml, 0, v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "98304");
    /* a budget too small for the state and the clients is refused */
    snprintf(yaml, sizeof yaml, "memory.bytes: 73400320\n%s", one_proc);
    char err[RILL_ERRSTR_SIZE] = "";
    struct rill_topology *t = it_load(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = rill_driver_new(t, err, sizeof err); /* checks the topology */
    CU_ASSERT_PTR_NULL(d);
    rill_driver_free(d);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "must leave at least 16 MiB beyond state.memory.bytes"));
    rill_topology_free(t);
}

/* Observations land in the first bucket whose bound holds them, the last
 * (+Inf) past every bound; the sum is kept in microseconds. */
static void test_histogram_buckets(void)
{
    struct histogram h;
    memset(&h, 0, sizeof h);
    hist_observe_us(&h, -5);                        /* a clock step back: 0 */
    hist_observe_us(&h, 10);                        /* on the first bound */
    hist_observe_us(&h, 11);                        /* just above it */
    hist_observe_us(&h, hist_bounds_us[HIST_BUCKETS - 1] + 1);
    CU_ASSERT_EQUAL(METRIC_GET(h.bucket[0]), 2);
    CU_ASSERT_EQUAL(METRIC_GET(h.bucket[1]), 1);
    CU_ASSERT_EQUAL(METRIC_GET(h.bucket[HIST_BUCKETS]), 1);
    CU_ASSERT_EQUAL(METRIC_GET(h.sum_us), 21 + (uint64_t)hist_bounds_us[HIST_BUCKETS - 1] + 1);
    for (size_t i = 1; i < HIST_BUCKETS; i++)
        CU_ASSERT(hist_bounds_us[i] > hist_bounds_us[i - 1]);
}

/* librdkafka statistics documents (the shape of its STATISTICS.md): the
 * brokers' average rtt (bootstrap entries skipped), the producer's queue
 * and transaction state, the consumer's fetch queues (the internal -1
 * partition skipped); a malformed document changes nothing. */
static void test_kafka_stats(void)
{
    struct thread_metrics m;
    memset(&m, 0, sizeof m);
    CU_ASSERT_EQUAL_FATAL(metrics_init(&m, 1, 1), RILL_OK);
    const char *producer =
        "{\"name\":\"a#producer-1\",\"type\":\"producer\",\"msg_cnt\":42,"
        "\"brokers\":{\"127.0.0.1:29092/bootstrap\":{\"nodeid\":-1,\"rtt\":{\"avg\":0}},"
        "\"127.0.0.1:29092/1\":{\"nodeid\":1,\"rtt\":{\"min\":10,\"avg\":2500,\"max\":9000}}},"
        "\"eos\":{\"idemp_state\":\"Assigned\",\"txn_state\":\"InTransaction\"}}";
    metrics_kafka_stats(&m, STATS_PRODUCER, producer, strlen(producer));
    const struct client_stats *p = &m.kstats.c[STATS_PRODUCER];
    CU_ASSERT(p->seen);
    CU_ASSERT_EQUAL(p->queue, 42);
    CU_ASSERT_STRING_EQUAL(p->txn_state, "InTransaction");
    CU_ASSERT_EQUAL_FATAL(p->nbrokers, 1);
    CU_ASSERT_EQUAL(p->brokers[0].id, 1);
    CU_ASSERT(p->brokers[0].rtt_s > 0.0024999 && p->brokers[0].rtt_s < 0.0025001);
    const char *consumer =
        "{\"type\":\"consumer\",\"brokers\":{},\"topics\":{\"in\":{\"partitions\":{"
        "\"0\":{\"fetchq_cnt\":7},\"1\":{\"fetchq_cnt\":5},\"-1\":{\"fetchq_cnt\":100}}}}}";
    metrics_kafka_stats(&m, STATS_CONSUMER, consumer, strlen(consumer));
    CU_ASSERT_EQUAL(m.kstats.c[STATS_CONSUMER].queue, 12);
    CU_ASSERT_STRING_EQUAL(m.kstats.c[STATS_CONSUMER].txn_state, "");
    metrics_kafka_stats(&m, STATS_PRODUCER, "{\"type\":", 9);
    CU_ASSERT_EQUAL(m.kstats.c[STATS_PRODUCER].queue, 42);
    metrics_fini(&m);
}

static CU_TestInfo tests[] = {
    { "memory.bytes: every Kafka client's queue gets its share", test_memory_budget },
    { "consumers: queued.min.messages at librdkafka's maximum unless set",
      test_queued_min_messages },
    { "exactly-once producers: transaction timeout and retry back-off unless set",
      test_txn_producer_defaults },
    { "histogram: bucket bounds, +Inf, the sum", test_histogram_buckets },
    { "librdkafka statistics: rtt, queues, transaction state", test_kafka_stats },
    { "thread state: legal transitions pass, illegal ones are refused", test_state_transitions },
    { "a transaction begins from READY only", test_txn_begin_needs_ready },
    { "retry helper: attempts, deadline, non-retriable, stop", test_retry_helper },
    { "a task binds all of 100 granted stores", test_task_binds_every_store },
    { "static membership: by default, a prefix, or off", test_static_membership },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("engine", tests)
