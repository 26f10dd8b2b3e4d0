/*
 * test_timeout.c - the order pipeline's join timeout on the real broker,
 * exactly once across SIGKILLs. The pipeline of topology/examples/
 * ecommerce.yaml runs with `timeout.ms` 2000 on shipping, and its payment
 * processor reads a topic nobody writes: no payment result ever comes, so
 * every order's inventory result waits in shipping's store until its time is
 * up. Then, read_committed, every generated order is cancelled exactly once
 * with reason `timeout`, every reservation that took stock is released
 * exactly once (and nothing else is), and nothing ships, although rill was
 * SIGKILLed twice while the cancellations were being written.
 */
#include "tests/lib/proc.h"
#include "tests/lib/stack.h"
#include "tests/lib/util.h"
#include "tests/lib/suite.h"
#include "tests/lib/reference.h"
#include "schemas/serde.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

enum { T_PLACED, T_PAYMENT, T_INVENTORY, T_SHIPPED, T_STATUS, T_RELEASE, T_NOTIFY };

static pid_t live_run, live_gen;

static int cleanup(void)
{
    pid_t *pids[] = { &live_run, &live_gen };
    it_rill_kill_all(pids, 2);
    return 0;
}

/* The pipeline's YAML with payment reading <app>.nopay instead of the
 * orders. */
static int starve_payment(const char *yaml, const char *app, const char *const *tp)
{
    char *text = it_read_file(yaml, NULL), from[400], to[400], topic[200];
    if (!text)
        return -1;
    snprintf(from, sizeof from, "inputs: [%s]\n    outputs: [%s]", tp[T_PLACED], tp[T_PAYMENT]);
    snprintf(to, sizeof to, "inputs: [%s.nopay]\n    outputs: [%s]", app, tp[T_PAYMENT]);
    snprintf(topic, sizeof topic, "topics:\n  %s.nopay: { partitions: 6 }\n", app);
    char *at = strstr(text, from), *tops = strstr(text, "topics:\n");
    FILE *f = at && tops && tops < at ? fopen(yaml, "w") : NULL;
    if (f) {
        fwrite(text, 1, (size_t)(tops - text), f);
        fputs(topic, f);
        fwrite(tops + 8, 1, (size_t)(at - tops - 8), f);
        fputs(to, f);
        fputs(at + strlen(from), f);
    }
    free(text);
    return f && fclose(f) == 0 ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The order ids of the committed events of topic (of type, and when want
 * is set, passing it), sorted, in *ids; returns how many, -1 on a record
 * that does not decode. */
static long order_ids(rill_serde_t *s, const char *topic, rill_event_type_t type,
                      int (*want)(const rill_event_t *), char ***ids)
{
    struct it_rec *r = NULL;
    long n = it_read_topic(topic, 1, 60000, &r), k = 0;
    *ids = calloc((size_t)n + 1, sizeof **ids);
    for (long i = 0; *ids && i < n; i++) {
        rill_event_t ev = { 0 };
        char err[256];
        if (rill_serde_decode(s, r[i].key, r[i].key_len, r[i].value, r[i].value_len, &ev, err,
                              sizeof err) != RILL_OK || ev.type != type) {
            fprintf(stderr, "\n    %s[%ld]: not a %d event (%s)", topic, i, (int)type, err);
            k = -1;
            break;
        }
        if (!want || want(&ev))
            (*ids)[k++] = strdup(it_event_order_id(&ev));
        rill_event_clear(&ev);
    }
    it_recs_free(r, n);
    if (k > 0)
        qsort(*ids, (size_t)k, sizeof **ids, cmp_str);
    return k;
}

static void free_ids(char **ids, long n)
{
    for (long i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

static int timed_out(const rill_event_t *ev)
{
    return ev->u.status.new_status == RILL_STATUS_CANCELLED &&
           !strcmp(ev->u.status.reason ? ev->u.status.reason : "", "timeout");
}

static int reserved(const rill_event_t *ev) { return ev->u.inventory.reserved; }

static int released_for_timeout(const rill_event_t *ev)
{
    return !strcmp(ev->u.release.reason ? ev->u.release.reason : "", "timeout");
}

/* Both sorted lists hold the same ids, each once. */
static long differences(char **a, long na, char **b, long nb)
{
    long bad = labs(na - nb);
    for (long i = 0; i < na && i < nb; i++)
        bad += strcmp(a[i], b[i]) != 0;
    for (long i = 1; i < nb; i++)
        bad += !strcmp(b[i - 1], b[i]);
    return bad;
}

static void test_timeout_under_kills(void)
{
    char dir[256], yaml[300], log[300], app[64], topics[7][128], err[4096], n_orders[24];
    const char *tp[7];
    long orders = it_getenv_long("TIMEOUT_ORDERS", 600);
    rill_serde_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&s, err, sizeof err), RILL_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "it-timeout"));
    snprintf(app, sizeof app, "%s", it_topic("tmo"));
    snprintf(yaml, sizeof yaml, "%s/ecommerce.yaml", dir);
    snprintf(log, sizeof log, "%s/rill.log", dir);
    it_pipeline_topic_names(app, topics, tp);
    setenv("RILL_JOIN_TIMEOUT_MS", "2000", 1);
    CU_ASSERT_EQUAL_FATAL(it_pipeline_prepare(yaml, app, dir, "3", "", tp, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(starve_payment(yaml, app, tp), 0);
    int rc = it_rill_exec3(err, sizeof err, 120000, "apply", yaml, "-F",
                           it_secret_path("admin.client.conf"), NULL);
    if (rc != 0)
        fprintf(stderr, "\n    rill apply: %s", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);

    snprintf(n_orders, sizeof n_orders, "%ld", orders);
    live_gen = it_rill_spawn(log, "generate", "-F", it_secret_path("order_generator.client.conf"),
                             "-t", tp[T_PLACED], "--orders", n_orders, "--rate", "200", "--seed",
                             "5", (char *)NULL);
    pid_t pid = live_run = it_rill_start(yaml, log);
    /* two kills while the cancellations are being written */
    for (int k = 1; k <= 2; k++) {
        long now = 0, want = k * orders / 3;
        int64_t deadline = it_now_ms() + 90000;
        while ((now = it_end_offsets(tp[T_STATUS])) < want && it_now_ms() < deadline)
            ;
        CU_ASSERT_FATAL(now >= want);
        CU_ASSERT(it_rill_stop(pid, SIGKILL, 10000) != -1);
        pid = live_run = it_rill_start(yaml, log);
    }
    int st = it_rill_stop(live_gen, 0, 60000);
    live_gen = 0;
    CU_ASSERT_FATAL(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int64_t deadline = it_now_ms() + 120000;
    while (it_count_committed(tp[T_STATUS], 30000) < orders && it_now_ms() < deadline)
        ;
    st = it_rill_stop(pid, SIGTERM, 30000);
    live_run = 0;
    CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);

    char **placed, **cancelled, **held, **released;
    long np = order_ids(s, tp[T_PLACED], RILL_EVENT_ORDER_PLACED, NULL, &placed);
    long nc = order_ids(s, tp[T_STATUS], RILL_EVENT_ORDER_STATUS, timed_out, &cancelled);
    long nh = order_ids(s, tp[T_INVENTORY], RILL_EVENT_INVENTORY_RESULT, reserved, &held);
    long nr = order_ids(s, tp[T_RELEASE], RILL_EVENT_STOCK_RELEASE, released_for_timeout,
                        &released);
    long status_all = it_count_committed(tp[T_STATUS], 30000);
    long release_all = it_count_committed(tp[T_RELEASE], 30000);
    long shipped = it_count_committed(tp[T_SHIPPED], 30000);
    fprintf(stderr, "\n    timeout: %ld orders, %ld cancelled for timeout (%ld statuses), %ld "
                    "reservations, %ld released (%ld releases), %ld shipped\n",
            np, nc, status_all, nh, nr, release_all, shipped);
    CU_ASSERT_EQUAL(np, orders);
    CU_ASSERT(nh > 0); /* reservations took stock */
    CU_ASSERT_EQUAL(differences(placed, np, cancelled, nc), 0);
    CU_ASSERT_EQUAL(differences(held, nh, released, nr), 0);
    CU_ASSERT_EQUAL(status_all, nc);
    CU_ASSERT_EQUAL(release_all, nr);
    CU_ASSERT_EQUAL(shipped, 0);
    free_ids(placed, np > 0 ? np : 0);
    free_ids(cancelled, nc > 0 ? nc : 0);
    free_ids(held, nh > 0 ? nh : 0);
    free_ids(released, nr > 0 ? nr : 0);
    rill_serde_destroy(s);
    unsetenv("RILL_JOIN_TIMEOUT_MS");
    if (CU_get_number_of_failures() == 0) { /* kept for a look otherwise */
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd))
            fprintf(stderr, "    cannot remove %s\n", dir);
    }
}

static CU_TestInfo tests[] = {
    { "the pipeline's join timeout cancels every order once and releases its stock once, "
      "across SIGKILLs", test_timeout_under_kills },
    CU_TEST_INFO_NULL,
};
RILL_SUITE_FULL("timeout", tests, NULL, cleanup)
