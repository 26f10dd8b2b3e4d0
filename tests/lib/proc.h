/*
 * proc.h - starting, signalling and awaiting `rill` processes from the
 * integration and chaos tiers, plus the topic readers their verifications
 * share. Test-only code.
 */
#ifndef RILL_TEST_PROC_H
#define RILL_TEST_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/lib/stack.h"

/* Starts `$RILL_BIN run yaml` with stderr appended to log; returns the pid. */
pid_t it_rill_start(const char *yaml, const char *log);
/* Starts `$RILL_BIN args...` (NULL-terminated, at most 14) with stdout and
 * stderr appended to log; returns the pid. */
pid_t it_rill_spawn(const char *log, ...);
/* Sends sig (0: none, just wait) and waits for the exit; returns the wait
 * status, or -1 when the process did not exit within timeout_ms (it is then
 * SIGKILLed). */
int it_rill_stop(pid_t pid, int sig, int timeout_ms);
/* SIGKILLs every process of pids[0..n) still set (> 0) and clears it: a
 * suite's cleanup after a fatal assertion left a test early. */
void it_rill_kill_all(pid_t *const *pids, size_t n);

/* Writes a YAML file for a single-processor topology over admin credentials.
 * extra is appended verbatim (more top-level keys, or processor keys when it
 * starts with spaces). Returns 0 on success. */
int it_write_yaml(const char *path, const char *body);
/* The same without the tests' short session.timeout.ms and
 * heartbeat.interval.ms: rill's and librdkafka's defaults. */
int it_write_yaml_defaults(const char *path, const char *body);

/* One record as read back. */
struct it_rec {
    int32_t partition;
    int64_t offset;
    int64_t timestamp;  /* ms since the epoch, -1 when the record has none */
    char *key;       /* NUL-terminated copies; binary values: use the lengths */
    char *value;
    size_t key_len, value_len;
    char *headers;   /* "name=value\n" for each header, "" when none */
};

/* Reads every partition of topic to its end (read_committed when committed
 * is set) as admin; records land in *out (malloc'd, free with
 * it_recs_free). Returns the count, or -1 when the end was not reached within
 * timeout_ms. */
long it_read_topic(const char *topic, int committed, int timeout_ms, struct it_rec **out);
void it_recs_free(struct it_rec *r, long n);

/* Counts committed records in topic by reading it to its end. */
long it_count_committed(const char *topic, int timeout_ms);
/* The kill loops' wait: counts topic's committed records until there are
 * more than seen, or at least complete (a life need not progress once every
 * output is out), or timeout_ms passed; returns the last count. */
long it_wait_committed_past(const char *topic, long seen, long complete, int timeout_ms);

/* The offsets the consumer group of grp (a client with that group.id; it
 * need not subscribe) has committed on partitions 0..parts-1 of topic,
 * summed: the records it has processed and committed, for an input without
 * transaction markers. 0 when they cannot be read. */
long it_group_committed(rd_kafka_t *grp, const char *topic, int parts);

/* The sum of topic's end offsets (high watermarks: committed, open and
 * aborted records and transaction markers alike), asked of the broker now;
 * -1 when it cannot be asked. A measure of progress that, unlike a
 * read_committed read, never waits for a transaction to end. */
long it_end_offsets(const char *topic);

/* Number of lines of a file that contain needle. */
int it_file_count(const char *path, const char *needle);

/* Waits (on inotify, with a deadline) until path has at least n lines that
 * contain needle; returns the count reached. */
int it_file_wait(const char *path, const char *needle, int n, int timeout_ms);

/* Runs `$RILL_BIN args...` to completion with stderr captured into err;
 * returns the exit status (-1 when it did not end within timeout_ms). */
int it_rill_exec(char *err, size_t errsz, int timeout_ms, const char *arg1, const char *arg2);

/* Runs `$RILL_BIN` with up to 22 arguments (NULL-terminated: the compiler
 * checks the sentinel) to completion, stdout captured into out; returns the
 * exit code, or -1. */
int it_rill_exec3(char *out, size_t outsz, int timeout_ms, ...) __attribute__((sentinel));
/* The same with stdout and stderr both captured into out. */
int it_rill_exec_all(char *out, size_t outsz, int timeout_ms, ...) __attribute__((sentinel));

/* The order pipeline's topics (topology/examples/ecommerce.yaml), in the
 * order order_placed, payment_result, inventory_result, order_shipped,
 * order_status, stock_release, notifications. */
extern const char *const it_pipeline_topics[7];

/* Writes ecommerce.yaml to path adapted to a run: topics[i] for each of
 * it_pipeline_topics, the stack's secrets folder, a short session timeout.
 * The environment gives RILL_APP_ID, RILL_STATE_DIR, KAFKA_BOOTSTRAP and
 * the stock knobs. Returns 0 on success. */
int it_ecommerce_yaml(const char *path, const char *const *topics);
/* A pipeline run in dir: the environment it_ecommerce_yaml() reads (app as
 * RILL_APP_ID, dir/state, the stack's bootstrap, the initial stock and its
 * overrides), ecommerce.yaml written to yaml, then extra (top-level YAML
 * lines; may be NULL) appended. Returns 0 on success. */
/* topics[i] = "<app>.<it_pipeline_topics[i]>" for the 7 topics, and tp[i]
 * pointing at each. */
void it_pipeline_topic_names(const char *app, char (*topics)[128], const char **tp);
int it_pipeline_prepare(const char *yaml, const char *app, const char *dir, const char *stock,
                        const char *overrides, const char *const *topics, const char *extra);

#endif
