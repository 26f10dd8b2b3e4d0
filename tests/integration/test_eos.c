/*
 * test_eos.c - exactly-once under kills, after Kafka's streams_eos_test: a
 * passthrough topology over a 6-partition topic, input produced at a steady
 * rate while the rill process is SIGKILLed at least five times and restarted,
 * with a commit interval of seconds so that kills land inside open
 * transactions. Verified under read_committed: the output equals the input
 * per partition, in order, no duplicate, no gap; the aborted transactions'
 * records are physically in the log (the kills did hit open transactions);
 * and a marker produced afterwards to every output partition is readable (no
 * transaction left hanging). Size: EOS_RECORDS (default 20000) at EOS_RATE
 * records/s (default 1500); `make test-chaos` runs the full 100,000.
 */
#include "../lib/proc.h"
#include "../lib/suite.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PARTITIONS 6

struct feeder {
    const char *topic;
    long total, rate;
    long produced;
    int failed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    return v && *v ? atol(v) : def;
}

/* Produces total records at rate records/s, keys spread over 1000 keys,
 * Java-compatible partitioning; announces progress on cv. */
static void *feed(void *arg)
{
    struct feeder *f = arg;
    char err[256];
    rd_kafka_conf_t *c = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(c, "partitioner", "murmur2_random");
    it_kconf_set(c, "enable.idempotence", "true");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk) {
        f->failed = 1;
        return NULL;
    }
    int64_t start = it_now_ms();
    for (long i = 0; i < f->total; i++) {
        char k[32], v[64];
        int kl = snprintf(k, sizeof k, "k%ld", i % 1000);
        int vl = snprintf(v, sizeof v, "seq-%08ld", i);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(f->topic), RD_KAFKA_V_KEY(k, (size_t)kl),
                                 RD_KAFKA_V_VALUE(v, (size_t)vl),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (i % 100 == 99) {
            /* Pace: serve delivery reports until this batch's slot is due. */
            int64_t due = start + (i + 1) * 1000 / f->rate;
            while (it_now_ms() < due)
                rd_kafka_poll(rk, (int)(due - it_now_ms()));
            pthread_mutex_lock(&f->mu);
            f->produced = i + 1;
            pthread_cond_broadcast(&f->cv);
            pthread_mutex_unlock(&f->mu);
        }
    }
    if (rd_kafka_flush(rk, 60000))
        f->failed = 1;
    rd_kafka_destroy(rk);
    pthread_mutex_lock(&f->mu);
    f->produced = f->total;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* Waits until the feeder has produced at least n records (or is done). */
static void wait_produced(struct feeder *f, long n)
{
    pthread_mutex_lock(&f->mu);
    while (f->produced < n && f->produced < f->total && !f->failed)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

static int cmp_rec(const void *a, const void *b)
{
    const struct it_rec *x = a, *y = b;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Output equals input, partition by partition, in order. Returns the number
 * of mismatching positions (0 when equal). */
static long compare(struct it_rec *in, long nin, struct it_rec *out, long nout)
{
    qsort(in, (size_t)nin, sizeof *in, cmp_rec);
    qsort(out, (size_t)nout, sizeof *out, cmp_rec);
    long bad = labs(nin - nout);
    for (long i = 0; i < nin && i < nout; i++)
        if (in[i].partition != out[i].partition || strcmp(in[i].value, out[i].value) ||
            strcmp(in[i].key, out[i].key))
            bad++;
    return bad;
}

static void produce_markers(const char *topic)
{
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL),
                                  err, sizeof err);
    for (int p = 0; p < PARTITIONS; p++)
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(p),
                          RD_KAFKA_V_KEY("marker", 6), RD_KAFKA_V_VALUE("marker", 6),
                          RD_KAFKA_V_END);
    CU_ASSERT_EQUAL(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
}

static void test_eos_under_kills(void)
{
    /* The input keeps flowing through the whole kill phase (about a minute:
     * each restart waits out the dead member's 6 s session), so that every
     * kill meets records in flight. */
    long total = env_long("EOS_RECORDS", 20000), rate = env_long("EOS_RATE", total / 60);
    if (rate < 100)
        rate = 100;
    int kills = (int)env_long("EOS_KILLS", 5);
    char in[128], out[128];
    snprintf(in, sizeof in, "%s", it_topic("eos-in"));
    snprintf(out, sizeof out, "%s", it_topic("eos-out"));
    CU_ASSERT_EQUAL_FATAL(it_create_topic(in, PARTITIONS), 0);
    CU_ASSERT_EQUAL_FATAL(it_create_topic(out, PARTITIONS), 0);

    char dir[] = "/tmp/rill-eos-XXXXXX", yaml[256], log[256], body[2048];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(yaml, sizeof yaml, "%s/eos.yaml", dir);
    snprintf(log, sizeof log, "%s/rill.log", dir);
    snprintf(body, sizeof body,
             "application.id: %s\n"
             "processing.guarantee: exactly_once_v2\n"
             "commit.interval.ms: 3000\n"
             "state.dir: %s/state\n"
             "topics:\n  %s: {partitions: %d}\n  %s: {partitions: %d}\n"
             "processors:\n  copy: {type: passthrough, inputs: [%s], outputs: [%s]}\n",
             in, dir, in, PARTITIONS, out, PARTITIONS, in, out);
    CU_ASSERT_EQUAL_FATAL(it_write_yaml(yaml, body), 0);

    struct feeder f = { .topic = in, .total = total, .rate = rate };
    pthread_mutex_init(&f.mu, NULL);
    pthread_cond_init(&f.cv, NULL);
    pthread_t feeder;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&feeder, NULL, feed, &f), 0);

    srand((unsigned)getpid());
    pid_t pid = it_rill_start(yaml, log);
    /* Each life is killed once it has committed output of its own, after a
     * random further 0-3 s of input: that lands anywhere inside its 3 s
     * transactions. */
    long seen = 0;
    for (int k = 0; k < kills; k++) {
        long now;
        int64_t deadline = it_now_ms() + 90000;
        while ((now = it_count_committed(out, 30000)) <= seen && it_now_ms() < deadline)
            ;
        CU_ASSERT_FATAL(now > seen); /* this life made progress */
        seen = now;
        pthread_mutex_lock(&f.mu);
        long mark = f.produced + rand() % (3 * rate + 1);
        pthread_mutex_unlock(&f.mu);
        wait_produced(&f, mark);
        CU_ASSERT_EQUAL(it_rill_stop(pid, SIGKILL, 10000) != -1, 1);
        pid = it_rill_start(yaml, log);
    }
    pthread_join(feeder, NULL);
    CU_ASSERT_FATAL(!f.failed);

    /* Let the last life finish the input, then stop it cleanly. */
    int64_t deadline = it_now_ms() + 120000;
    long got = 0;
    while ((got = it_count_committed(out, 30000)) < total && it_now_ms() < deadline)
        ;
    CU_ASSERT_EQUAL(got, total);
    int status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    struct it_rec *ri = NULL, *ro = NULL, *ru = NULL;
    long nin = it_read_topic(in, 1, 60000, &ri);
    long nout = it_read_topic(out, 1, 60000, &ro);
    long nun = it_read_topic(out, 0, 60000, &ru);
    CU_ASSERT_EQUAL(nin, total);
    CU_ASSERT_EQUAL(nout, total);
    CU_ASSERT_EQUAL(compare(ri, nin, ro, nout), 0);
    /* The kills hit open transactions: their aborted records are in the log. */
    CU_ASSERT(nun > nout);
    fprintf(stderr, "\n    eos: %ld records, %d kills, %ld aborted records in the log, %d clean stops\n",
            total, kills, nun - nout, it_file_count(log, "thread stopped"));
    it_recs_free(ri, nin > 0 ? nin : 0);
    it_recs_free(ro, nout > 0 ? nout : 0);
    it_recs_free(ru, nun > 0 ? nun : 0);

    /* No transaction left hanging: a marker after everything is readable. */
    produce_markers(out);
    long nm = it_read_topic(out, 1, 60000, &ro);
    CU_ASSERT_EQUAL(nm, total + PARTITIONS);
    if (nm > 0)
        it_recs_free(ro, nm);

    pthread_mutex_destroy(&f.mu);
    pthread_cond_destroy(&f.cv);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (!CU_get_number_of_failures()) {
        CU_ASSERT_EQUAL(system(cmd), 0);
    } else {
        fprintf(stderr, "    kept %s for inspection\n", dir);
    }
}

static CU_TestInfo tests[] = {
    { "passthrough stays exactly-once across SIGKILLs", test_eos_under_kills },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("eos", tests)
