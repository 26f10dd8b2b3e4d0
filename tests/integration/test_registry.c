/*
 * test_registry.c - registry mode end to end on the real stack: the order
 * pipeline (topology/examples/ecommerce.yaml, topics prefixed for this run,
 * schema.registry.subject.strategy: topic) with every rill process pointed
 * at a schema registry over https with a CA file and basic auth. No real
 * registry can run here (Confluent's is not on Maven Central and Apicurio's
 * app does not build from it: schemas/README.md), so the registry is the
 * scripted one of tests/lib/fakereg.h, answering as Confluent's REST API
 * documents it, in this test process. `rill generate` registers order_placed
 * under <topic>-value and writes its id; `rill run` registers the other
 * schemas under their topics' subjects, decodes every record by its id and
 * writes the registry's ids; `rill inspect` decodes every topic. Checked:
 * the pipeline completes (inspect's counts), every record on every topic
 * carries the id the registry holds for that topic's subject, the registry
 * holds exactly the seven topic subjects and no record-name subject, and
 * every request was authenticated.
 */
#include "tests/lib/fakereg.h"
#include "tests/lib/proc.h"
#include "tests/lib/suite.h"
#include "tests/lib/util.h"

#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ORDERS "300"
static pid_t live_run;

static int cleanup(void)
{
    if (live_run > 0)
        it_rill_stop(live_run, SIGKILL, 10000);
    live_run = 0;
    return 0;
}

static const char *const env_keys[] = { "RILL_SCHEMA_REGISTRY_URL", "RILL_SCHEMA_REGISTRY_USER",
                                        "RILL_SCHEMA_REGISTRY_PASSWORD_FILE",
                                        "RILL_SCHEMA_REGISTRY_CA_FILE" };

static void test_registry_end_to_end(void)
{
    char dir[64], app[64], yaml[128], log[128], pw[128], topics[7][128];
    const char *tp[7];
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "it-registry"));
    snprintf(app, sizeof app, "%s", it_topic("reg"));
    it_pipeline_topic_names(app, topics, tp);
    snprintf(yaml, sizeof yaml, "%s/ecommerce.yaml", dir);
    snprintf(log, sizeof log, "%s/rill.log", dir);
    CU_ASSERT_EQUAL_FATAL(it_pipeline_prepare(yaml, app, dir, "1000000", "", tp,
                                              "schema.registry.subject.strategy: topic\n"),
                          0);

    /* The registry, over TLS with a throw-away CA in the build folder. */
    char bin[512], certs[600], ca[700], cert[700], key[700];
    snprintf(bin, sizeof bin, "%s", getenv("RILL_BIN") ? getenv("RILL_BIN") : "build/release/rill");
    snprintf(certs, sizeof certs, "%s/registry-tls", dirname(bin));
    CU_ASSERT_EQUAL_FATAL(fakereg_make_certs(certs), 0);
    snprintf(ca, sizeof ca, "%s/ca.pem", certs);
    snprintf(cert, sizeof cert, "%s/server.pem", certs);
    snprintf(key, sizeof key, "%s/server.key", certs);
    struct fakereg_opts o = { .mode = FAKEREG_API, .auth = FAKEREG_AUTH, .cert = cert,
                              .key = key };
    struct fakereg *f = fakereg_start(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    snprintf(pw, sizeof pw, "%s/registry.password", dir);
    FILE *p = fopen(pw, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    fputs(FAKEREG_PASSWORD "\n", p);
    CU_ASSERT_EQUAL_FATAL(fclose(p), 0);
    setenv("RILL_SCHEMA_REGISTRY_URL", fakereg_url(f), 1);
    setenv("RILL_SCHEMA_REGISTRY_USER", FAKEREG_USER, 1);
    setenv("RILL_SCHEMA_REGISTRY_PASSWORD_FILE", pw, 1);
    setenv("RILL_SCHEMA_REGISTRY_CA_FILE", ca, 1);

    char out[8192];
    int rc = it_rill_exec3(out, sizeof out, 120000, "apply", yaml, "-F",
                           it_secret_path("admin.client.conf"), NULL);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(fakereg_requests(f), 0); /* apply makes no serde */

    pid_t gen = it_rill_spawn(log, "generate", "-F", it_secret_path("order_generator.client.conf"),
                              "-t", topics[0], "--orders", ORDERS, "--seed", "21",
                              "--subject-strategy", "topic", (char *)NULL);
    int st = it_rill_stop(gen, 0, 60000);
    CU_ASSERT_FATAL(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char subject[1024];
    snprintf(subject, sizeof subject, "/subjects/%s-value/versions", topics[0]);
    CU_ASSERT_EQUAL(fakereg_requests(f), 1);
    CU_ASSERT_EQUAL(fakereg_count(f, "POST", subject), 1);

    live_run = it_rill_start(yaml, log);
    rc = it_rill_exec3(out, sizeof out, 150000, "inspect", yaml, "-F",
                       it_secret_path("admin.client.conf"), "--wait-pipeline", "120", NULL);
    if (rc != 0)
        fprintf(stderr, "\n    rill inspect: %s", out);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(fakereg_has(out, "orders placed            " ORDERS));
    st = it_rill_stop(live_run, SIGTERM, 30000);
    live_run = 0;
    CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* Every record of every topic carries its topic subject's id. */
    for (int i = 0; i < 7; i++) {
        snprintf(subject, sizeof subject, "%s-value", topics[i]);
        int id = fakereg_subject_id(f, subject);
        CU_ASSERT(id >= 101);
        struct it_rec *recs = NULL;
        long n = it_read_topic(topics[i], 1, 60000, &recs), wrong = 0;
        CU_ASSERT(n > 0);
        for (long k = 0; k < n; k++) {
            const unsigned char *v = (const unsigned char *)recs[k].value;
            int32_t got = recs[k].value_len >= 5 && v[0] == 0
                              ? (int32_t)((uint32_t)v[1] << 24 | (uint32_t)v[2] << 16 |
                                          (uint32_t)v[3] << 8 | v[4])
                              : -1;
            wrong += got != id;
        }
        if (wrong)
            fprintf(stderr, "\n    %s: %ld of %ld records without id %d", topics[i], wrong, n, id);
        CU_ASSERT_EQUAL(wrong, 0);
        it_recs_free(recs, n);
    }
    /* The seven topic subjects and nothing else; every request authenticated. */
    CU_ASSERT_EQUAL(fakereg_subjects(f), 7);
    struct fakereg_req q;
    int bad = 0, n = 0;
    for (int i = 0; fakereg_request(f, i, &q); i++, n++) {
        bad += !q.auth_ok || q.status != 200 || strstr(q.path, "io.rill.orders") != NULL;
        if (!q.auth_ok || q.status != 200)
            fprintf(stderr, "\n    registry: %s %s -> %d", q.method, q.path, q.status);
    }
    CU_ASSERT(n >= 7);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_STRING_EQUAL(fakereg_problem(f), "");
    fakereg_stop(f);
    for (size_t i = 0; i < sizeof env_keys / sizeof env_keys[0]; i++)
        unsetenv(env_keys[i]);
}

static CU_TestInfo tests[] = {
    { "registry mode end to end over https: generate, run, inspect by topic subjects",
      test_registry_end_to_end },
    CU_TEST_INFO_NULL,
};

RILL_SUITE_FULL("registry", tests, NULL, cleanup)
