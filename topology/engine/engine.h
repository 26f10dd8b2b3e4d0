/*
 * engine.h - the stream engine behind `rill run`: runs a checked topology
 * against Kafka. Each processor is a sub-topology with its own consumer group
 * (<application.id>.<processor>), its own Kafka credentials (the YAML's
 * processor `kafka:` map over the global one) and num.stream.threads threads;
 * each thread owns a consumer, a producer and the tasks (one per input
 * partition number) the group assigns it.
 *
 * exactly_once_v2: one transactional producer per thread (KIP-447), a
 * transaction per commit interval carrying outputs, DLQ records and the
 * consumed offsets; abortable errors abort and rewind, fatal ones (fenced)
 * rebuild the thread's clients. at_least_once: an idempotent producer, and
 * offsets committed only after every output of the interval was delivered.
 *
 * Threading: rill_engine_run() blocks in the calling thread until
 * rill_engine_stop() (async-signal-safe) or a fatal startup error.
 */
#ifndef RILL_ENGINE_H
#define RILL_ENGINE_H

#include "topology/model/config.h"

typedef struct rill_engine rill_engine_t;

/* Prepares (no network yet). t must outlive the engine. */
rill_err_t rill_engine_new(const struct rill_topology *t, rill_engine_t **out, char *errstr,
                           size_t errsz);

/* Checks credentials and topics, starts the threads, and returns when the
 * engine was stopped and every thread drained, committed and closed. A
 * startup failure returns an error with one clear line in errstr. */
rill_err_t rill_engine_run(rill_engine_t *e, char *errstr, size_t errsz);

/* Asks the engine to drain and stop. Async-signal-safe. */
void rill_engine_stop(rill_engine_t *e);

void rill_engine_free(rill_engine_t *e);

#endif
