/*
 * test_web.c - /topology, /state/STORE/KEY and the web view of `rill run` on
 * the real stack.
 *
 * - Two instances of a count topology in one group, over a topic of 2
 *   partitions that got 10 records for each of 10 keys (murmur2, by
 *   librdkafka): /topology of each lists the processor with its inputs,
 *   outputs, store and changelog, and one running task each, the two
 *   together partitions 0 and 1, matching the partitions each one's
 *   /metrics reports lag for. /state/counts/KEY on the instance owning the
 *   key's partition (where librdkafka put it, read back from the topic)
 *   answers the count, 10, as the store holds it (also percent-encoded); the
 *   other instance answers 404 naming that partition; an unknown store is
 *   a 404, a key over the limit a 414. Every response, the web view's files
 *   among them, carries Content-Security-Policy: default-src 'self', and
 *   the page has no inline script or style.
 * - The order pipeline (topology/examples/ecommerce.yaml) with orders being
 *   generated, its web view in Debian's chromium, headless, driven over the
 *   DevTools protocol (tests/lib/cdp.c): the page loads, every request it
 *   makes goes to rill's origin and every response it gets carries the
 *   CSP, it throws and logs no error, every processor of /topology has its
 *   row and its graph node, and the records-in numbers grow between two
 *   refreshes while orders flow. A screenshot is kept under the build folder
 *   (artifacts/webview.png beside $RILL_BIN).
 */
#include "tests/lib/cdp.h"
#include "tests/lib/http.h"
#include "tests/lib/proc.h"
#include "tests/lib/scenario.h"
#include "tests/lib/suite.h"
#include "tests/lib/util.h"
#include "topology/base/json.h"

#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define KEYS 10
#define PER_KEY 10

static pid_t live[3];
static it_cdp_t *live_cdp;

static int cleanup(void)
{
    it_cdp_stop(live_cdp);
    live_cdp = NULL;
    for (size_t i = 0; i < sizeof live / sizeof *live; i++)
        if (live[i] > 0) {
            it_rill_stop(live[i], SIGKILL, 10000);
            live[i] = 0;
        }
    return 0;
}

static char body[1 << 18], head[8192];

/* ---- reading /topology -------------------------------------------------------- */

/* The member name of object o into *out; 0, or -1. */
static int member(const rill_json_val_t *o, const char *name, rill_json_val_t *out)
{
    size_t pos = 0;
    rill_json_val_t k, v;
    char buf[256];
    while (rill_json_next(o, &pos, &k, &v))
        if (rill_json_string(&k, buf, sizeof buf, NULL) == RILL_JSON_FOUND && !strcmp(buf, name)) {
            *out = v;
            return 0;
        }
    return -1;
}

/* Member name of o as a string into buf ("" when it is none). */
static const char *str_of(const rill_json_val_t *o, const char *name, char *buf, size_t size)
{
    rill_json_val_t v;
    buf[0] = '\0';
    if (!member(o, name, &v) && rill_json_string(&v, buf, size, NULL) != RILL_JSON_FOUND)
        buf[0] = '\0';
    return buf;
}

static long num_of(const rill_json_val_t *o, const char *name)
{
    rill_json_val_t v;
    return !member(o, name, &v) && v.type == RILL_JSON_NUMBER ? atol(v.p) : -1;
}

/* The processor nodes of a /topology body: their names into names[] (at most
 * max); the count, or -1 when it does not parse. */
static int processors_of(const char *text, char names[][64], int max)
{
    rill_json_val_t root, nodes, n;
    if (rill_json_parse(text, strlen(text), &root, NULL) != RILL_JSON_FOUND ||
        member(&root, "nodes", &nodes))
        return -1;
    int count = 0;
    char kind[32];
    for (size_t pos = 0; rill_json_next(&nodes, &pos, NULL, &n);)
        if (!strcmp(str_of(&n, "kind", kind, sizeof kind), "processor") && count < max)
            str_of(&n, "name", names[count++], 64);
    return count;
}

/* The processor node name of a /topology body into *out; 0, or -1. */
static int processor_node(const char *text, const char *name, rill_json_val_t *out)
{
    rill_json_val_t root, nodes, n;
    char buf[64], kind[32];
    if (rill_json_parse(text, strlen(text), &root, NULL) != RILL_JSON_FOUND ||
        member(&root, "nodes", &nodes))
        return -1;
    for (size_t pos = 0; rill_json_next(&nodes, &pos, NULL, &n);)
        if (!strcmp(str_of(&n, "kind", kind, sizeof kind), "processor") &&
            !strcmp(str_of(&n, "name", buf, sizeof buf), name)) {
            *out = n;
            return 0;
        }
    return -1;
}

/* The first string of array member name of o into buf, and the array's
 * length. */
static long first_of(const rill_json_val_t *o, const char *name, char *buf, size_t size)
{
    rill_json_val_t a, v;
    long n = 0;
    buf[0] = '\0';
    if (member(o, name, &a))
        return -1;
    for (size_t pos = 0; rill_json_next(&a, &pos, NULL, &v); n++)
        if (!n && v.type == RILL_JSON_STRING)
            rill_json_string(&v, buf, size, NULL);
        else if (!n && v.type == RILL_JSON_OBJECT)
            str_of(&v, "name", buf, size);
    return n;
}

/* The tasks of processor proc in a /topology body: their partitions into
 * parts[] (at most max); the count of tasks, and in *running those running.
 * -1 when the body does not parse. */
static int tasks_of(const char *text, const char *proc, int *parts, int max, int *running)
{
    rill_json_val_t p, threads, th, tasks, t;
    char state[32], id[64], want[80];
    int n = 0;
    *running = 0;
    if (processor_node(text, proc, &p) || member(&p, "threads", &threads))
        return -1;
    for (size_t i = 0; rill_json_next(&threads, &i, NULL, &th);) {
        if (member(&th, "tasks", &tasks))
            return -1;
        for (size_t k = 0; rill_json_next(&tasks, &k, NULL, &t);) {
            long part = num_of(&t, "partition");
            snprintf(want, sizeof want, "%s-%ld", proc, part);
            if (strcmp(str_of(&t, "id", id, sizeof id), want))
                return -1;
            *running += !strcmp(str_of(&t, "state", state, sizeof state), "running");
            if (n < max)
                parts[n] = (int)part;
            n++;
        }
    }
    return n;
}

/* ---- two instances, /topology and /state ----------------------------------------- */

struct inst {
    char yaml[160], log[160];
    int port;
    int parts[4], nparts;
};

/* Whether the /metrics of port reports the lag of partition p of topic. */
static int lag_reported(int port, const char *topic, int p)
{
    char want[300];
    snprintf(want, sizeof want, "topic=\"%s\",partition=\"%d\"}", topic, p);
    return it_http_get(port, "/metrics", body, sizeof body) == 200 && strstr(body, want);
}

/* Removes a test's scratch folder, unless something failed (then its
 * logs stay, and its path is printed). */
static void scratch_done(const char *dir)
{
    char cmd[128];
    if (CU_get_number_of_failures() > 0) {
        fprintf(stderr, "\n    kept %s", dir);
        return;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* `rill apply` of yaml as the admin: 0, or the command's status. */
static int apply(const char *yaml)
{
    char err[4096];
    int rc = it_rill_exec3(err, sizeof err, 120000, "apply", yaml, "-F",
                           it_secret_path("admin.client.conf"), NULL);
    if (rc != 0)
        fprintf(stderr, "\n    rill apply: %s", err);
    return rc;
}

static void expect_csp(int port, const char *path)
{
    char csp[256] = "";
    int st = it_http_get_head(port, path, head, sizeof head, body, sizeof body);
    CU_ASSERT(st == 200 || st == 404 || st == 503);
    CU_ASSERT_EQUAL(it_http_header(head, "Content-Security-Policy", csp, sizeof csp), 0);
    CU_ASSERT_STRING_EQUAL(csp, "default-src 'self'");
}

static void test_topology_and_state(void)
{
    char dir[64], in[128], out[128], app[128], text[2048], path[600], cl[300];
    struct inst a = { 0 }, b = { 0 };
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "web-state"));
    snprintf(in, sizeof in, "%s", it_topic("webin"));
    snprintf(out, sizeof out, "%s", it_topic("webout"));
    snprintf(app, sizeof app, "%s", it_topic("webapp"));
    struct inst *is[2] = { &a, &b };
    for (int i = 0; i < 2; i++) {
        snprintf(is[i]->yaml, sizeof is[i]->yaml, "%s/t%d.yaml", dir, i);
        snprintf(is[i]->log, sizeof is[i]->log, "%s/rill%d.log", dir, i);
        snprintf(text, sizeof text,
                 "application.id: %s\nstate.dir: %s/state%d\nhttp.address: 127.0.0.1:0\n"
                 "topics:\n  %s: { partitions: 2 }\n  %s: { partitions: 2 }\n"
                 "processors:\n  counter:\n    type: count\n    inputs: [%s]\n"
                 "    outputs: [%s]\n    stores: [counts]\n",
                 app, dir, i, in, out, in, out);
        CU_ASSERT_EQUAL_FATAL(it_write_yaml(is[i]->yaml, text), 0);
    }
    CU_ASSERT_EQUAL_FATAL(apply(a.yaml), 0); /* the topics and the store's changelog */
    CU_ASSERT_EQUAL_FATAL(it_produce_padded(in, KEYS * PER_KEY, KEYS), 0);
    /* where librdkafka put each key, and how many records it got */
    struct it_rec *recs = NULL;
    long nrecs = it_read_topic(in, 1, 60000, &recs);
    CU_ASSERT_EQUAL_FATAL(nrecs, KEYS * PER_KEY);
    char keys[KEYS][32];
    int kpart[KEYS], kcount[KEYS] = { 0 }, seen_part[2] = { 0 };
    for (int k = 0; k < KEYS; k++) {
        snprintf(keys[k], sizeof keys[k], "key-%09d", k);
        kpart[k] = -1;
        for (long r = 0; r < nrecs; r++)
            if (!strcmp(recs[r].key, keys[k])) {
                kpart[k] = recs[r].partition;
                kcount[k]++;
            }
        CU_ASSERT_EQUAL(kcount[k], PER_KEY);
        CU_ASSERT_FATAL(kpart[k] == 0 || kpart[k] == 1);
        seen_part[kpart[k]] = 1;
    }
    it_recs_free(recs, nrecs);
    CU_ASSERT_FATAL(seen_part[0] && seen_part[1]); /* both partitions have keys */

    live[0] = it_rill_start(a.yaml, a.log);
    CU_ASSERT_FATAL((a.port = it_http_port(a.log, 60000)) > 0);
    CU_ASSERT_FATAL(it_file_wait(a.log, "partitions assigned", 1, 60000) >= 1);
    live[1] = it_rill_start(b.yaml, b.log);
    CU_ASSERT_FATAL((b.port = it_http_port(b.log, 60000)) > 0);
    /* B joins: A gives one partition up (its second assignment) */
    CU_ASSERT_FATAL(it_file_wait(b.log, "partitions assigned", 1, 90000) >= 1);
    CU_ASSERT_FATAL(it_file_wait(a.log, "partitions assigned", 2, 90000) >= 2);
    /* each shows one running task, the two of them both partitions */
    int64_t deadline = it_now_ms() + 60000;
    int ra = 0, rb = 0;
    do {
        CU_ASSERT_EQUAL_FATAL(it_http_get(a.port, "/topology", body, sizeof body), 200);
        a.nparts = tasks_of(body, "counter", a.parts, 4, &ra);
        CU_ASSERT_EQUAL_FATAL(it_http_get(b.port, "/topology", body, sizeof body), 200);
        b.nparts = tasks_of(body, "counter", b.parts, 4, &rb);
    } while (!(a.nparts == 1 && b.nparts == 1 && ra == 1 && rb == 1) && it_now_ms() < deadline);
    CU_ASSERT_EQUAL_FATAL(a.nparts, 1);
    CU_ASSERT_EQUAL_FATAL(b.nparts, 1);
    CU_ASSERT_EQUAL(ra, 1);
    CU_ASSERT_EQUAL(rb, 1);
    CU_ASSERT_EQUAL_FATAL(a.parts[0] + b.parts[0], 1); /* 0 and 1 */

    /* the processor as the YAML has it */
    rill_json_val_t p, v;
    CU_ASSERT_EQUAL_FATAL(processor_node(body, "counter", &p), 0);
    CU_ASSERT_STRING_EQUAL(str_of(&p, "type", text, sizeof text), "count");
    CU_ASSERT_EQUAL(first_of(&p, "inputs", text, sizeof text), 1);
    CU_ASSERT_STRING_EQUAL(text, in);
    CU_ASSERT_EQUAL(first_of(&p, "outputs", text, sizeof text), 1);
    CU_ASSERT_STRING_EQUAL(text, out);
    CU_ASSERT_EQUAL(first_of(&p, "stores", text, sizeof text), 1);
    CU_ASSERT_STRING_EQUAL(text, "counts");
    CU_ASSERT_EQUAL(num_of(&p, "partitions"), 2);
    CU_ASSERT_EQUAL_FATAL(member(&p, "stores", &v), 0);
    size_t pos = 0;
    rill_json_val_t store;
    CU_ASSERT_FATAL(rill_json_next(&v, &pos, NULL, &store));
    snprintf(cl, sizeof cl, "%s-counts-changelog", app);
    CU_ASSERT_STRING_EQUAL(str_of(&store, "changelog", text, sizeof text), cl);
    /* the tasks are the partitions each one's thread reports lag for */
    deadline = it_now_ms() + 30000;
    while (!(lag_reported(a.port, in, a.parts[0]) && lag_reported(b.port, in, b.parts[0])) &&
           it_now_ms() < deadline)
        ;
    CU_ASSERT(lag_reported(a.port, in, a.parts[0]));
    CU_ASSERT(!lag_reported(a.port, in, b.parts[0]));
    CU_ASSERT(lag_reported(b.port, in, b.parts[0]));
    CU_ASSERT(!lag_reported(b.port, in, a.parts[0]));

    /* every key: its count from the owner, a 404 naming its partition from
     * the other */
    for (int k = 0; k < KEYS; k++) {
        struct inst *own = kpart[k] == a.parts[0] ? &a : &b, *other = own == &a ? &b : &a;
        char want[64], part[32];
        snprintf(path, sizeof path, "/state/counts/%s", keys[k]);
        snprintf(want, sizeof want, "\"int64\":%d}", kcount[k]);
        int st = -1;
        deadline = it_now_ms() + 60000;
        do
            st = it_http_get_head(own->port, path, head, sizeof head, body, sizeof body);
        while (!(st == 200 && strstr(body, want)) && it_now_ms() < deadline);
        CU_ASSERT_EQUAL(st, 200);
        CU_ASSERT_PTR_NOT_NULL(strstr(body, want));
        CU_ASSERT_PTR_NOT_NULL(strstr(body, "\"encoding\":\"base64\""));
        CU_ASSERT_EQUAL(it_http_header(head, "X-Rill-Value-Encoding", text, sizeof text), 0);
        CU_ASSERT_STRING_EQUAL(text, "base64");
        snprintf(part, sizeof part, "\"partition\":%d,", kpart[k]);
        CU_ASSERT_PTR_NOT_NULL(strstr(body, part));
        if (!strstr(body, want))
            fprintf(stderr, "\n    %s on port %d: %d %s", path, own->port, st, body);
        CU_ASSERT_EQUAL(it_http_get(other->port, path, body, sizeof body), 404);
        CU_ASSERT_PTR_NOT_NULL(strstr(body, "\"owned\":false"));
        CU_ASSERT_PTR_NOT_NULL(strstr(body, part));
        CU_ASSERT_PTR_NOT_NULL(strstr(body, "does not own partition"));
    }
    /* percent-decoded: "key%2D000000001" is key-000000001 */
    struct inst *own1 = kpart[1] == a.parts[0] ? &a : &b;
    CU_ASSERT_EQUAL(it_http_get(own1->port, "/state/counts/key%2D000000001", body, sizeof body),
                    200);
    snprintf(text, sizeof text, "\"key\":\"key-000000001\",\"partition\":%d,", kpart[1]);
    CU_ASSERT_PTR_NOT_NULL(strstr(body, text));
    /* a key the owner does not hold; an unknown store; a key too long */
    CU_ASSERT_EQUAL(it_http_get(own1->port, "/state/counts/no-such-key?partition=x", body,
                                sizeof body), 400);
    snprintf(path, sizeof path, "/state/counts/no-such-key?partition=%d", kpart[1]);
    CU_ASSERT_EQUAL(it_http_get(own1->port, path, body, sizeof body), 404);
    CU_ASSERT_PTR_NOT_NULL(strstr(body, "\"found\":false"));
    /* a store key in the task of record key key-000000001 */
    struct inst *other1 = own1 == &a ? &b : &a;
    CU_ASSERT_EQUAL(it_http_get(own1->port, "/state/counts/other?partition_key=key%2D000000001",
                                body, sizeof body), 404);
    snprintf(text, sizeof text, "\"partition\":%d,\"owned\":true,\"found\":false", kpart[1]);
    CU_ASSERT_PTR_NOT_NULL(strstr(body, text));
    CU_ASSERT_EQUAL(it_http_get(other1->port, "/state/counts/other?partition_key=key-000000001",
                                body, sizeof body), 404);
    snprintf(text, sizeof text, "\"partition\":%d,\"owned\":false", kpart[1]);
    CU_ASSERT_PTR_NOT_NULL(strstr(body, text));
    CU_ASSERT_EQUAL(it_http_get(a.port, "/state/nostore/x", body, sizeof body), 404);
    CU_ASSERT_PTR_NOT_NULL(strstr(body, "unknown store 'nostore'"));
    char longkey[1200] = "/state/counts/";
    memset(longkey + 14, 'k', 1025); /* the limit is 1024 bytes */
    longkey[14 + 1025] = '\0';
    CU_ASSERT_EQUAL(it_http_get(a.port, longkey, body, sizeof body), 414);
    longkey[14 + 1024] = '\0';
    CU_ASSERT_EQUAL(it_http_get(a.port, longkey, body, sizeof body), 404);

    /* every response carries the CSP, and the page needs no inline code */
    static const char *const paths[] = { "/", "/web.js", "/web.css", "/favicon.svg", "/topology",
                                         "/metrics", "/healthz", "/readyz", "/state/nostore/x",
                                         "/nope" };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        expect_csp(a.port, paths[i]);
    CU_ASSERT_EQUAL(it_http_get_head(a.port, "/", head, sizeof head, body, sizeof body), 200);
    CU_ASSERT_EQUAL(it_http_header(head, "Content-Type", text, sizeof text), 0);
    CU_ASSERT_STRING_EQUAL(text, "text/html; charset=utf-8");
    CU_ASSERT_PTR_NOT_NULL(strstr(body, "<script src=\"/web.js\""));
    CU_ASSERT_PTR_NULL(strstr(body, "<script>"));
    CU_ASSERT_PTR_NULL(strstr(body, "<style"));
    CU_ASSERT_PTR_NULL(strstr(body, "style="));
    CU_ASSERT_PTR_NULL(strstr(body, "http://"));
    CU_ASSERT_PTR_NULL(strstr(body, "https://"));

    for (int i = 1; i >= 0; i--) { /* a clean exit: no leak under ASan either */
        int st = it_rill_stop(live[i], SIGTERM, 30000);
        live[i] = 0;
        CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    scratch_done(dir);
}

/* ---- the web view in chromium --------------------------------------------------- */

/* The page: refreshed twice and every processor of names drawn; then its
 * processors' records-in and rates. */
static const char *const observe_js =
    "new Promise((resolve) => {\n"
    "  const names = NAMES, since = SINCE;\n"
    "  const total = () => [...document.querySelectorAll('#processors .total-in')]\n"
    "    .reduce((s, td) => s + (Number(td.textContent.replace(/,/g, '')) || 0), 0);\n"
    "  const rate = () => [...document.querySelectorAll('#processors .rate-in')]\n"
    "    .reduce((s, td) => s + (Number(td.textContent.replace(/,/g, '')) || 0), 0);\n"
    "  const ok = () => Number(document.body.dataset.refreshes || 0) >= 2 &&\n"
    "    names.every((n) => document.querySelector(`#processors tr[data-processor=\"${n}\"]`) &&\n"
    "      document.querySelector(`#graph [data-node=\"processor:${n}\"]`)) &&\n"
    "    (since < 0 || total() !== since);\n"
    "  const done = () => resolve(JSON.stringify({ total: total(), rate: rate(),\n"
    "    refreshes: Number(document.body.dataset.refreshes || 0), ok: ok(),\n"
    "    rows: [...document.querySelectorAll('#processors tr[data-processor]')].length,\n"
    "    error: document.getElementById('error').textContent }));\n"
    "  if (ok()) return done();\n"
    "  const obs = new MutationObserver(() => { if (ok()) { obs.disconnect(); done(); } });\n"
    "  obs.observe(document.body, { attributes: true, childList: true, subtree: true,\n"
    "    characterData: true });\n"
    "  setTimeout(() => { obs.disconnect(); done(); }, 30000);\n"
    "})";

/* observe_js with NAMES and SINCE filled in: the JS to evaluate (malloc'd). */
static char *observe(char names[][64], int n, long since)
{
    char list[1024] = "[", num[32];
    for (int i = 0; i < n; i++) {
        strcat(list, i ? ",\"" : "\"");
        strcat(list, names[i]);
        strcat(list, "\"");
    }
    strcat(list, "]");
    snprintf(num, sizeof num, "%ld", since);
    char *js = malloc(strlen(observe_js) + sizeof list + sizeof num);
    const char *a = strstr(observe_js, "NAMES"), *b = strstr(observe_js, "SINCE");
    sprintf(js, "%.*s%s%.*s%s%s", (int)(a - observe_js), observe_js, list,
            (int)(b - a - 5), a + 5, num, b + 5);
    return js;
}

static long json_long(const char *text, const char *name)
{
    char v[64];
    return rill_json_get(text, strlen(text), name, v, sizeof v, NULL) == RILL_JSON_FOUND ? atol(v)
                                                                                       : -1;
}

static void test_web_view_in_chromium(void)
{
    char dir[64], app[64], yaml[128], log[128], topics[7][128], err[4096], origin[64];
    const char *tp[7];
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "web-view"));
    snprintf(app, sizeof app, "%s", it_topic("weborders"));
    it_pipeline_topic_names(app, topics, tp);
    snprintf(yaml, sizeof yaml, "%s/ecommerce.yaml", dir);
    snprintf(log, sizeof log, "%s/rill.log", dir);
    CU_ASSERT_EQUAL_FATAL(it_pipeline_prepare(yaml, app, dir, "1000000", "", tp,
                                              "http.address: 127.0.0.1:0\n"),
                          0);
    CU_ASSERT_EQUAL_FATAL(apply(yaml), 0);

    live[0] = it_rill_start(yaml, log);
    int port = it_http_port(log, 60000);
    CU_ASSERT_FATAL(port > 0);
    int rc;
    int64_t deadline = it_now_ms() + 120000;
    int st;
    while ((st = it_http_get(port, "/readyz", body, sizeof body)) != 200 && it_now_ms() < deadline)
        ;
    CU_ASSERT_EQUAL_FATAL(st, 200);
    /* orders flow for the rest of the test: more than it lasts */
    char conf[300];
    snprintf(conf, sizeof conf, "%s", it_secret_path("order_generator.client.conf"));
    live[1] = it_rill_spawn(log, "generate", "-F", conf, "-t", topics[0], "--orders", "200000",
                            "--rate", "200", "--seed", "5", (char *)NULL);
    CU_ASSERT_EQUAL_FATAL(it_http_get(port, "/topology", body, sizeof body), 200);
    char names[16][64];
    int nproc = processors_of(body, names, 16);
    CU_ASSERT_EQUAL_FATAL(nproc, 4); /* payment, inventory, shipping, notification */

    /* the browser, its profile fresh under the build folder */
    char bin[512], artifacts[600], profile[700], shot[700], cmd[800], clog[700];
    snprintf(bin, sizeof bin, "%s", getenv("RILL_BIN") ? getenv("RILL_BIN") : "./rill");
    snprintf(artifacts, sizeof artifacts, "%s/artifacts", dirname(bin));
    mkdir(artifacts, 0755);
    snprintf(profile, sizeof profile, "%s/chromium-profile-%d", artifacts, (int)getpid());
    snprintf(shot, sizeof shot, "%s/webview.png", artifacts);
    snprintf(clog, sizeof clog, "%s/chromium.log", dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", profile);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    live_cdp = it_cdp_start(profile, clog, 60000, err, sizeof err);
    if (!live_cdp)
        fprintf(stderr, "\n    chromium: %s (its log: %s)", err, clog);
    CU_ASSERT_PTR_NOT_NULL_FATAL(live_cdp);
    snprintf(origin, sizeof origin, "http://127.0.0.1:%d/", port);
    rc = it_cdp_open(live_cdp, origin, 60000, err, sizeof err);
    if (rc)
        fprintf(stderr, "\n    %s", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);

    /* every processor drawn, after two refreshes */
    char *js = observe(names, nproc, -1);
    char *first = it_cdp_eval(live_cdp, js, 45000, err, sizeof err);
    free(js);
    if (!first)
        fprintf(stderr, "\n    %s", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    fprintf(stderr, "\n    first look: %s", first ? first : "");
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "\"ok\":true"));
    CU_ASSERT_EQUAL(json_long(first, "rows"), nproc);
    long total1 = json_long(first, "total");
    /* ... and its numbers move while orders flow */
    js = observe(names, nproc, total1);
    char *second = it_cdp_eval(live_cdp, js, 45000, err, sizeof err);
    free(js);
    CU_ASSERT_PTR_NOT_NULL_FATAL(second);
    fprintf(stderr, "\n    second look: %s", second ? second : "");
    CU_ASSERT_PTR_NOT_NULL(strstr(second, "\"ok\":true"));
    CU_ASSERT(json_long(second, "total") > total1);
    CU_ASSERT(json_long(second, "rate") > 0);
    CU_ASSERT(json_long(second, "refreshes") > json_long(first, "refreshes"));
    CU_ASSERT_PTR_NOT_NULL(strstr(second, "\"error\":\"\""));
    free(first);
    free(second);
    rc = it_cdp_screenshot(live_cdp, shot, 30000, err, sizeof err);
    if (rc)
        fprintf(stderr, "\n    %s", err);
    CU_ASSERT_EQUAL(rc, 0);
    struct stat sb;
    CU_ASSERT(stat(shot, &sb) == 0 && sb.st_size > 1000);
    fprintf(stderr, "\n    screenshot: %s", shot);

    /* nothing asked of another origin, every answer with the CSP, no error */
    const struct it_cdp_seen *seen = it_cdp_seen(live_cdp);
    static const char *const wanted[] = { "", "web.js", "web.css", "topology", "metrics",
                                          "readyz" };
    for (size_t w = 0; w < sizeof wanted / sizeof *wanted; w++) {
        int found = 0;
        for (size_t i = 0; i < seen->nrequests; i++)
            found |= !strncmp(seen->requests[i], origin, strlen(origin)) &&
                     !strcmp(seen->requests[i] + strlen(origin), wanted[w]);
        CU_ASSERT(found);
        if (!found)
            fprintf(stderr, "\n    no request for /%s", wanted[w]);
    }
    for (size_t i = 0; i < seen->nrequests; i++) {
        CU_ASSERT_EQUAL(strncmp(seen->requests[i], origin, strlen(origin)), 0);
        if (strncmp(seen->requests[i], origin, strlen(origin)))
            fprintf(stderr, "\n    request outside the origin: %s", seen->requests[i]);
    }
    /* a refresh's three requests may still be in flight */
    CU_ASSERT(seen->nresponses + 3 >= seen->nrequests);
    for (size_t i = 0; i < seen->nresponses; i++) {
        const char *tab = strchr(seen->responses[i], '\t');
        CU_ASSERT(tab && !strcmp(tab + 1, "default-src 'self'"));
        if (!tab || strcmp(tab + 1, "default-src 'self'"))
            fprintf(stderr, "\n    response without the CSP: %s", seen->responses[i]);
    }
    CU_ASSERT_EQUAL(seen->nerrors, 0);
    for (size_t i = 0; i < seen->nerrors; i++)
        fprintf(stderr, "\n    page error: %s", seen->errors[i]);
    fprintf(stderr, "\n    %zu requests, %zu responses, all from %s", seen->nrequests,
            seen->nresponses, origin);
    it_cdp_stop(live_cdp);
    live_cdp = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", profile);
    CU_ASSERT_EQUAL(system(cmd), 0);

    CU_ASSERT(it_rill_stop(live[1], SIGTERM, 30000) != -1);
    live[1] = 0;
    st = it_rill_stop(live[0], SIGTERM, 60000);
    live[0] = 0;
    CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    scratch_done(dir);
}

static CU_TestInfo tests[] = {
    { "two instances: /topology lists each one's tasks, /state answers the owner's count and "
      "404 with the partition elsewhere; CSP on every response",
      test_topology_and_state },
    { "the web view in headless chromium against the order pipeline: same-origin only, every "
      "processor shown, numbers moving, a screenshot kept",
      test_web_view_in_chromium },
    CU_TEST_INFO_NULL,
};

RILL_SUITE_FULL("web", tests, NULL, cleanup)
