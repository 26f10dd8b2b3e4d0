/*
 * test_view.c - what the HTTP endpoints may see and ask of the stream
 * threads, without a broker (topology/engine/view.c): a thread's assignment
 * view (co-partitioned inputs make one task, restoring then running, a
 * sink's partitions by topic, emptied), the lookup mailbox between an asking thread and a task's
 * thread (the committed value only, an absent key, a partition without a
 * task, a timeout that leaves nothing posted, a full box), and the JSON
 * escaping of the replies (http_text.c). The endpoints themselves run in the
 * integration tier (tests/integration/test_web.c).
 */
#include "tests/lib/suite.h"
#include "tests/lib/drive.h"
#include "tests/lib/util.h"
#include "topology/base/json.h"
#include "topology/engine/http_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_assignment_view(void)
{
    struct sthread st;
    memset(&st, 0, sizeof st);
    view_init(&st.view);
    CU_ASSERT_FATAL(st.view.ready);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(3);
    rd_kafka_topic_partition_list_add(l, "a", 0);
    rd_kafka_topic_partition_list_add(l, "b", 0); /* co-partitioned: the same task */
    rd_kafka_topic_partition_list_add(l, "a", 1);
    view_assigned(&st, l);
    rd_kafka_topic_partition_list_destroy(l);
    struct view_task *v = NULL, t;
    CU_ASSERT_EQUAL_FATAL(view_copy(&st.view, &v), 2);
    CU_ASSERT(v[0].partition == 0 && v[0].restoring && !v[0].topic);
    CU_ASSERT(v[1].partition == 1 && v[1].restoring);
    free(v);
    view_task_update(&st.view, NULL, 1, 0); /* restored: it runs */
    CU_ASSERT_FATAL(view_find(&st.view, 1, &t));
    CU_ASSERT(!t.restoring);
    CU_ASSERT(view_find(&st.view, 0, &t) && t.restoring);
    CU_ASSERT(!view_find(&st.view, 2, &t));
    /* a sink's partitions: by topic and partition */
    struct view_task sink[2] = { { "x", 3, 1 }, { "y", 3, 1 } };
    view_set(&st.view, sink, 2);
    view_task_update(&st.view, "y", 3, 0);
    CU_ASSERT_EQUAL_FATAL(view_copy(&st.view, &v), 2);
    CU_ASSERT(v[0].restoring && !v[1].restoring);
    free(v);
    view_set(&st.view, NULL, 0);
    CU_ASSERT_EQUAL(view_copy(&st.view, &v), 0);
    CU_ASSERT_PTR_NULL(v);
    view_fini(&st.view);
}

/* ---- the mailbox ------------------------------------------------------------ */

struct asker {
    struct lookup_box *box;
    struct lookup l;
    int timeout_ms;
    rill_err_t rc;
};

static void *ask(void *arg)
{
    struct asker *a = arg;
    a->rc = lookup_ask(a->box, &a->l, a->timeout_ms);
    return NULL;
}

/* Asks st for key of partition from another thread, and answers it on this
 * one, as the stream thread's loop would. */
static struct asker asked(struct sthread *st, const char *key, int32_t partition)
{
    struct asker a = { &st->box, { "s", key, strlen(key), partition, 0, 0, NULL, 0 }, 10000, -1 };
    pthread_t tid;
    CU_ASSERT_FATAL(pthread_create(&tid, NULL, ask, &a) == 0);
    int64_t deadline = rill_now_ms() + 10000;
    while (!atomic_load(&st->box.posted) && rill_now_ms() < deadline)
        ; /* the asker posts */
    lookup_serve(st);
    pthread_join(tid, NULL);
    return a;
}

static void test_lookup_mailbox(void)
{
    char dir[64], yaml[512], err[RILL_ERRSTR_SIZE];
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "view"));
    snprintf(yaml, sizeof yaml,
             "application.id: a\nstate.dir: %s\n"
             "topics: {in: {partitions: 2}, out: {partitions: 2}}\n"
             "stores:\n  s: {type: memory, changelog: false}\n"
             "processors:\n  p: {type: count, inputs: [in], outputs: [out], stores: [s]}\n",
             dir);
    struct rill_topology *t = it_load(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_engine_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(rill_engine_new(t, &e, err, sizeof err), RILL_OK);
    struct sthread *st = &e->threads[0];
    st->e = e;
    st->pc = &t->procs[0];
    struct task *task = task_new(st, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(task);
    st->tasks = &task;
    st->ntasks = 1;
    rill_store_t *s = task->stores[0].store;
    CU_ASSERT_EQUAL(rill_store_put(s, "k", 1, "v1", 2), RILL_OK);
    CU_ASSERT_EQUAL(rill_store_commit(s, -1, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(rill_store_put(s, "k", 1, "v2", 2), RILL_OK); /* an open transaction's */

    struct asker a = asked(st, "k", 1);
    CU_ASSERT_EQUAL(a.rc, RILL_OK);
    CU_ASSERT_EQUAL(a.l.status, LOOKUP_FOUND);
    CU_ASSERT(a.l.vlen == 2 && a.l.value && !memcmp(a.l.value, "v1", 2));
    free(a.l.value);
    a = asked(st, "nope", 1);
    CU_ASSERT(a.rc == RILL_OK && a.l.status == LOOKUP_ABSENT);
    a = asked(st, "k", 0); /* no task of partition 0 here */
    CU_ASSERT(a.rc == RILL_OK && a.l.status == LOOKUP_NOT_OWNED);

    /* nobody answers: the asker gives up, and nothing stays posted */
    struct lookup l = { "s", "k", 1, 1, 0, 0, NULL, 0 };
    CU_ASSERT_EQUAL(lookup_ask(&st->box, &l, 50), RILL_ERR_RETRY);
    CU_ASSERT_EQUAL(st->box.n, 0);
    CU_ASSERT_EQUAL(atomic_load(&st->box.posted), 0);
    /* a full box refuses at once */
    st->box.n = LOOKUP_BOX_SIZE;
    int64_t t0 = rill_now_ms();
    CU_ASSERT_EQUAL(lookup_ask(&st->box, &l, 5000), RILL_ERR_RETRY);
    CU_ASSERT(rill_now_ms() - t0 < 1000);
    st->box.n = 0;

    st->tasks = NULL;
    st->ntasks = 0;
    task_free(task);
    rill_engine_free(e);
    rill_topology_free(t);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* ---- JSON text -------------------------------------------------------------- */

static void test_json_text(void)
{
    struct text t = { 0 };
    static const char raw[] = "a\"\\\n\x01\x7f \xc3\xa9 \xff \xed\xa0\x80 \xf0\x9f\x98\x80";
    text_json_n(&t, raw, sizeof raw - 1);
    text_put(&t, " ");
    text_json(&t, NULL);
    CU_ASSERT_FALSE(t.oom);
    CU_ASSERT_STRING_EQUAL(t.p, "\"a\\\"\\\\\\u000a\\u0001\\u007f \xc3\xa9 "
                                "\\ufffd \\ufffd\\ufffd\\ufffd \xf0\x9f\x98\x80\" null");
    /* what it writes parses as JSON */
    rill_json_val_t root;
    CU_ASSERT_EQUAL(rill_json_parse(t.p, strlen(t.p) - 5, &root, NULL), RILL_JSON_FOUND);
    free(t.p);
    CU_ASSERT(text_readable("caf\xc3\xa9\tok\n", 9));
    CU_ASSERT(text_readable("", 0));
    CU_ASSERT_FALSE(text_readable("a\0b", 3));
    CU_ASSERT_FALSE(text_readable("\xc3", 1));          /* cut short */
    CU_ASSERT_FALSE(text_readable("\xc0\xaf", 2));      /* overlong */
    CU_ASSERT_FALSE(text_readable("\x00\x00\x00\x00\x00\x00\x00\x07", 8)); /* a counter */
}

static CU_TestInfo tests[] = {
    { "assignment view: co-partitioned inputs one task, restoring then running, emptied",
      test_assignment_view },
    { "lookup mailbox: the committed value, absent, not owned, a timeout leaves nothing posted, "
      "a full box refuses",
      test_lookup_mailbox },
    { "JSON strings: escapes, invalid UTF-8 replaced, valid JSON; readable text told apart",
      test_json_text },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("view", tests)
