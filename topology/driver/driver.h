/*
 * driver.h - the in-process test driver (after Kafka Streams'
 * TopologyTestDriver): runs a loaded topology's processors without a broker.
 * Records piped into a topic are processed by every processor reading that
 * topic, in the task of their partition; what they forward is captured per
 * topic (DLQs included) and piped on to the processors reading that topic, so
 * whole chains run. Processor logic gets fast, deterministic unit tests.
 *
 * Partitioning: a forwarded record with a key goes to the partition Kafka's
 * default (murmur2) partitioner picks for the topic's partition count (from
 * `topics:`); without a key, or for a topic with no declared count, it keeps
 * the input record's partition. Single-threaded; not for production use.
 *
 * Clocks: the ts a record is piped with is its event time, so the windowed
 * processors (processors/window/), which close windows on stream time only,
 * are driven by the timestamps a test pipes, record by record;
 * rill_driver_advance_wall_clock() drives wall-clock punctuations.
 */
#ifndef RILL_DRIVER_H
#define RILL_DRIVER_H

#include "topology/model/config.h"
#include "topology/engine/spec.h"
#include "topology/base/partition.h"

typedef struct rill_driver rill_driver_t;

/* A record the driver captured; the pointers stay valid until the driver is
 * freed. */
struct rill_captured {
    struct rill_out rec;        /* topic, key, value, headers, timestamp */
    int32_t partition;
    const char *producer;       /* name of the processor that emitted it */
};

/* Builds every processor instance lazily, per partition. t must outlive the
 * driver. Returns NULL with errstr when the topology does not check. */
rill_driver_t *rill_driver_new(const struct rill_topology *t, char *errstr, size_t errsz);

/* Creates an instance of every processor (partition 0, memory stores), so
 * that a processor that cannot start (its config, a schema registry it
 * needs) says so before anything runs. `rill run` calls it first. */
rill_err_t rill_driver_preflight(rill_driver_t *d, char *errstr, size_t errsz);

/* Pipes one record into topic/partition at timestamp ts (ms), then delivers
 * what it causes, in emission order. Piped records get the offsets 0, 1,
 * 2, ... in the order piped (one count per driver), so that each has
 * coordinates of its own, as in a topic (its derived trace id among them);
 * a forwarded record's offset is its place in the capture list. Returns
 * RILL_OK when every processor took every record (a REJECT counts: the
 * record is in the DLQ),
 * RILL_ERR_RETRY when a processor asked for a retry (what that processor
 * forwarded for the refused record was not kept), or the error of a
 * processor that could not be created (errstr). A RETRY or an error stops
 * the chain where it happened: records still queued stay captured but reach
 * no reader, and what earlier readers did stays done, so piping the same
 * record again repeats their outputs. */
rill_err_t rill_driver_pipe(rill_driver_t *d, const char *topic, int32_t partition,
                            const void *key, size_t key_len, const void *value, size_t value_len,
                            const rill_header_t *headers, size_t header_cnt, int64_t ts,
                            char *errstr, size_t errsz);

/* Same with NUL-terminated key (may be NULL) and value. */
rill_err_t rill_driver_pipe_str(rill_driver_t *d, const char *topic, int32_t partition,
                                const char *key, const char *value, int64_t ts);

/* Advances the wall clock by ms and fires due wall-clock punctuations. */
rill_err_t rill_driver_advance_wall_clock(rill_driver_t *d, int64_t ms);

/* Captured records of topic, in emission order. */
size_t rill_driver_count(const rill_driver_t *d, const char *topic);
const struct rill_captured *rill_driver_get(const rill_driver_t *d, const char *topic, size_t i);

/* The memory store `store` of processor's instance for partition, or NULL
 * when that instance has not been created (no record reached it yet). Each
 * granted store is a memory store; a record's writes are committed when the
 * processor accepts it and undone when it rejects it or asks for a retry. */
rill_store_t *rill_driver_store(rill_driver_t *d, const char *processor, const char *store,
                               int32_t partition);

void rill_driver_free(rill_driver_t *d);

#endif
