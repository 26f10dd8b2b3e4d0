/*
 * scenario.h - the shared frame of the runtime's end-to-end tests: an input
 * and an output topic of 6 partitions, a feeder thread producing numbered JSON
 * records at a steady rate (optionally every Nth one malformed), YAML files for
 * one or more rill instances of the same application, and the verifications
 * (output equals the good input per partition in order; DLQ equals the bad
 * input). Test-only code.
 */
#ifndef RILL_TEST_SCENARIO_H
#define RILL_TEST_SCENARIO_H

#include <pthread.h>
#include <sys/types.h>

#include "tests/lib/proc.h"

#define IT_PARTITIONS 6

struct it_scenario {
    char dir[64];            /* scratch folder: yaml, logs, state dirs */
    char app[96], in[128], out[128], dlq[160];
    long total, rate;
    int bad_every;           /* every Nth record is not JSON; 0: none */
    /* feeder */
    pthread_t feeder;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long produced;
    int feed_failed;
};

/* Creates the topics and the scratch folder. processor is the YAML of the
 * processor's body after `type:` (e.g. "passthrough" or "filter, config:
 * {field: seq}"); guarantee and commit_ms go into the file; extra_kafka holds
 * more `  key: value` lines for the kafka: map (may be ""). */
int it_scenario_init(struct it_scenario *s, const char *name, long total, long rate,
                     int bad_every, const char *processor, const char *guarantee,
                     int commit_ms, const char *extra_kafka);

/* A topology of its own for a scenario's test: creates on the broker the
 * topics of declared (declared in the file too) and of internal (changelogs,
 * repartition topics: created only), NULL-terminated lists, IT_PARTITIONS
 * each, and writes <dir>/<name>.yaml (path in yaml): the scenario's
 * application, exactly_once_v2 with commit_ms commits, state under
 * <dir>/state, its input and output topics, the declared ones, and
 * processors (the YAML under `processors:`); <dir>/<name>.log goes to log.
 * Returns 0 or -1. */
int it_scenario_topology(struct it_scenario *s, const char *name, int commit_ms,
                         const char *const *declared, const char *const *internal,
                         const char *processors, char *yaml, size_t ysz, char *log, size_t lsz);
/* The YAML path of instance i (each instance has its own state.dir). */
const char *it_scenario_yaml(struct it_scenario *s, int i, char *buf, size_t sz);
const char *it_scenario_log(struct it_scenario *s, char *buf, size_t sz);

void it_scenario_feed_start(struct it_scenario *s);
int it_scenario_feed_join(struct it_scenario *s);  /* 0 when everything was produced */
void it_scenario_wait_produced(struct it_scenario *s, long n);
long it_scenario_produced(struct it_scenario *s);

/* Blocks until the committed output holds more than seen records (or
 * deadline); returns the count. */
long it_scenario_wait_output(struct it_scenario *s, long more_than, int timeout_ms);

/* Reads input, output (and DLQ when bad_every) under read_committed and
 * compares. Returns the number of discrepancies; *dups (may be NULL) gets
 * the number of output records beyond the first copy of each input. With
 * allow_dups, duplicates are counted and not discrepancies. */
long it_scenario_verify(struct it_scenario *s, int allow_dups, long *dups);

/* Records of the output that were written but aborted. */
long it_scenario_aborted(struct it_scenario *s);

/* Produces a marker to every output partition and checks that each is
 * readable under read_committed (no transaction left hanging). */
int it_scenario_markers_readable(struct it_scenario *s);

/* Produces n records of ~150 bytes ({"seq":i,"pad":...}) as fast as the
 * broker takes them, keys "key-<i mod key_space>" (key_space 0: all
 * distinct), murmur2-partitioned. For the benchmarks. Returns 0 or -1. */
int it_produce_padded(const char *topic, long n, long key_space);
/* Produces, for i in 0..n-1, the record make(i) writes into key and value
 * (NUL-terminated; make returns 0 to skip i), murmur2-partitioned as the
 * scenario's feeder places keys; flushed. Returns 0 or -1. */
int it_produce_each(const char *topic, long n,
                    int (*make)(long i, char *key, size_t ksz, char *value, size_t vsz, void *arg),
                    void *arg);
/* One record (key may be NULL), flushed; 0 when delivered. */
int it_produce_value(const char *topic, const char *key, const char *value);

/* Removes the scratch folder unless keep (then its path is printed). */
void it_scenario_done(struct it_scenario *s, int keep);

#endif
