/*
 * engine_int.h - internal: what the engine's files share, and nothing any
 * other folder may use (engine.h is the public face). The engine, the
 * stream threads and their tasks; the state of a stream thread as one enum
 * with its transitions checked in one place (loop.c); and the functions by
 * which the loop (loop.c), transactions (txn.c), rebalances (rebalance.c),
 * tasks (task.c) and clients (client.c) call each other.
 *
 * Threading: a struct sthread and everything it owns (tasks, stores,
 * clients) is used by its own stream thread only, and by the engine before
 * pthread_create and after pthread_join. struct rill_engine is read-only
 * while the threads run, but for stop.
 */
#ifndef RILL_ENGINE_INT_H
#define RILL_ENGINE_INT_H

#include "topology/engine/engine.h"
#include "topology/engine/node_int.h"
#include "topology/engine/view_int.h"
#include "topology/base/log.h"
#include "state/restore.h"
#include "state/store_rt.h"
#include "state/taskdir.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* The functions below are the engine's own: hidden, besides being left out
 * of the dynamic list the binary exports to external processors
 * (processors/plugin.exports), so that a processor's function of the same
 * name is never bound to one of these. */
#pragma GCC visibility push(hidden)

/* ---- limits and timings -------------------------------------------------- */

/* How long one transactional call, or the flush of an at-least-once
 * commit, may take. */
#define TXN_TIMEOUT_MS 60000
/* How long a stream thread's poll sleeps when there is nothing due. */
#define STHREAD_POLL_MS 20
/* How often wall-clock punctuations are looked at. */
#define STHREAD_TICK_MS 100
/* An empty poll after a burst that filled the queue's bound, with a
 * partition behind its last known end, wakes the consumer's fetchers
 * (loop.c): at most once per FETCH_KICK_MS (FETCH_KICK_MAX_MS after a
 * failed one), waiting at most FETCH_KICK_TIMEOUT_MS for the answer. */
#define FETCH_KICK_MS 20
#define FETCH_KICK_MAX_MS 1000
#define FETCH_KICK_TIMEOUT_MS 100
/* The slices in which the engine sleeps, so that a stop is noticed. */
#define ENGINE_SLEEP_SLICE_MS 20
/* Kafka's longest topic name is 249 characters; room for it and the NUL. */
#define ENGINE_TOPIC_SIZE 250
/* A consumer group id, transactional id or group.instance.id. */
#define ENGINE_ID_SIZE 512
/* group.instance.id: off turns static membership off. */
#define ENGINE_STATIC_OFF "off"
/* Every consumer's queued.min.messages unless a kafka: map (or
 * memory.bytes) sets it: librdkafka's 64 MiB byte bound over
 * ENGINE_QUEUE_RECORD_COST bytes a record (client.c). */
#define ENGINE_QUEUED_MIN_MESSAGES "262144"
/* A static member's session.timeout.ms unless the topology sets one: how
 * long the partitions of an instance that never comes back stall. */
#define ENGINE_STATIC_SESSION_MS "10000"
/* transaction.timeout.ms under exactly-once unless the topology sets it:
 * three commit intervals, at least this much (Kafka Streams' 10 s). */
#define ENGINE_TXN_TIMEOUT_MIN_MS 10000
/* ... and at most the broker's default transaction.max.timeout.ms. */
#define ENGINE_TXN_TIMEOUT_MAX_MS 900000
/* A transactional producer's retry.backoff.ms unless the topology sets it
 * (librdkafka's is 100; its own CONCURRENT_TRANSACTIONS retry of
 * AddPartitionsToTxn waits 20). */
#define ENGINE_TXN_RETRY_BACKOFF_MS "20"
/* The least queued.max.messages.kbytes a consumer gets of memory.bytes. */
#define ENGINE_QUEUE_MIN_PART_KB 256
/* max.partition.fetch.bytes under memory.bytes: librdkafka's default at
 * most, and at least this much (a fetch of a few records). */
#define ENGINE_FETCH_MAX_PART_BYTES 1048576
#define ENGINE_FETCH_MIN_PART_BYTES 65536
/* Under memory.bytes, a queued record's cost beside its payload bytes
 * (librdkafka's message and op structures, a small payload): the record
 * counts of a queue are its share over this, within librdkafka's range. */
#define ENGINE_QUEUE_RECORD_COST 256
#define ENGINE_QUEUE_MIN_RECORDS 1000
#define ENGINE_QUEUE_MAX_RECORDS 10000000
/* The most librdkafka takes for queued.max.messages.kbytes. */
#define ENGINE_QUEUE_MAX_KB 2097151
/* How long a stopping static member waits for its leave to go out, and its
 * poll slice meanwhile. */
#define ENGINE_LEAVE_WAIT_MS 10000
#define ENGINE_LEAVE_POLL_MS 100

/* ---- a stream thread's state --------------------------------------------- */

/* After librdkafka's transaction states (rdkafka_txnmgr.c), for a whole
 * stream thread: its clients, its open transaction and its rebuilds. Every
 * change goes through sthread_set_state(), which refuses a transition the
 * table in loop.c does not list. at_least_once never opens a transaction:
 * it goes READY -> COMMITTING -> READY. */
enum sthread_state {
    STHREAD_INIT = 0,      /* set up, no clients yet (the thread may not run yet) */
    STHREAD_CREATING,      /* creating its clients: first time, or after FATAL */
    STHREAD_READY,         /* clients up, no transaction open */
    STHREAD_IN_TXN,        /* a transaction is open (exactly_once_v2) */
    STHREAD_COMMITTING,    /* committing the interval: offsets, then the commit */
    STHREAD_ABORTING,      /* aborting the transaction, rewinding to committed */
    STHREAD_FATAL,         /* fatal client error (fenced, ...): tear down, rejoin */
    STHREAD_DEAD,          /* the thread ended */
    STHREAD_STATE__COUNT
};

/* ---- tasks ------------------------------------------------------------------ */

struct tp {                     /* one input topic-partition of a task */
    const char *topic;
    int64_t committed;          /* next offset as last committed; -1 unknown */
    int64_t next;               /* next offset to commit; -1 nothing processed */
    int64_t last_ts;            /* timestamp (ms) of the last record processed; 0 none */
};

struct tstore {                 /* one granted store of a task */
    struct sthread *st;
    struct task *t;
    rill_store_t *store;
    char changelog[ENGINE_TOPIC_SIZE]; /* "" when the store has no changelog */
    int64_t cl_last;            /* last changelog offset delivered in this
                                   transaction; -1 none */
};

struct task {
    int32_t partition;
    rill_node_t *node;
    struct tstore *stores;
    size_t nstores;
    int lock_fd;                /* the task directory's lock; -1 none */
    struct tp *tps;
    size_t ntps;
    rd_kafka_message_t *pending; /* a record the processor asked to retry */
    int64_t retry_at;
    int backoff_ms;             /* 0: not paused for a retry */
};

/* ---- metrics ------------------------------------------------------------------ */

/* What a thread counts, written by it and read by the HTTP server's thread
 * (http.c): relaxed atomics, no locks on the record path. */
#define METRIC_ADD(field, n) atomic_fetch_add_explicit(&(field), (uint64_t)(n), memory_order_relaxed)
#define METRIC_GET(field) atomic_load_explicit(&(field), memory_order_relaxed)
#define METRIC_SET(field, v) atomic_store_explicit(&(field), (v), memory_order_relaxed)

/* One input partition's lag as its thread last measured it: the high
 * watermark minus the consumer's position (which skips transaction
 * markers), and how old the last record processed there is when behind. */
struct lag_entry {
    char topic[ENGINE_TOPIC_SIZE];
    int32_t partition;
    int64_t records;
    double seconds;
};

/* A thread's lags, replaced whole every LAG_INTERVAL_MS under lock. */
struct lag_snapshot {
    pthread_mutex_t lock;
    int ready;                  /* the lock was initialised */
    struct lag_entry *v;
    size_t n;
};

#define LAG_INTERVAL_MS 1000

/* A latency histogram with fixed bucket bounds (HIST_BOUNDS_US, the same
 * for every histogram, so that instances aggregate): per bucket the count
 * of observations at or below its bound and above the previous one (the
 * last bucket: above every bound), and their sum. Cumulated when rendered. */
#define HIST_BUCKETS 20
struct histogram {
    _Atomic uint64_t bucket[HIST_BUCKETS + 1];
    _Atomic uint64_t sum_us;
};
extern const int64_t hist_bounds_us[HIST_BUCKETS];
void hist_observe_us(struct histogram *h, int64_t us);

/* The store of a task being restored, and how far along: written by the
 * restoring thread (state/restore.h fills the offsets), read by /readyz. */
struct restore_metrics {
    struct rill_restore_progress at; /* the current store's from, position, end */
    _Atomic int32_t partition;       /* its task; -1: none restoring */
    _Atomic int store;               /* its index in the processor's stores */
    _Atomic int parts_left;          /* partitions of this assignment not yet taken */
    _Atomic uint64_t records;        /* changelog records replayed, ever */
};

/* The librdkafka statistics that matter, per client of a thread, from its
 * stats callback every statistics.interval.ms (under the lock: not the
 * record path). */
#define STATS_MAX_BROKERS 16
enum stats_client { STATS_CONSUMER, STATS_PRODUCER, STATS_RESTORER, STATS__COUNT };
struct client_stats {
    int seen;                   /* a statistics document arrived */
    int64_t queue;              /* messages waiting: producer queue, or consumer fetch queues */
    char txn_state[32];         /* the producer's eos.txn_state; "" none */
    size_t nbrokers;
    struct { int32_t id; double rtt_s; } brokers[STATS_MAX_BROKERS];
};
struct kafka_stats {
    pthread_mutex_t lock;
    struct client_stats c[STATS__COUNT];
};

/* A store's size as its backend estimates it, sampled with the lags. */
struct store_size {
    int32_t partition;
    int store;                  /* index in the processor's stores */
    uint64_t keys, bytes;
};

struct thread_metrics {
    _Atomic uint64_t records_in, records_out, dlq, commits, aborts, rebalances, retries;
    _Atomic uint64_t fetch_kicks;   /* fetchers woken (loop.c, fetch_kick) */
    _Atomic uint64_t *in_by_input;   /* records in per input topic (processor's order); may be NULL */
    _Atomic uint64_t *out_by_output; /* records out per output topic; may be NULL */
    size_t ninputs, noutputs;
    _Atomic uint64_t dlq_by_class[RILL_REJECT__COUNT];
    struct histogram process, e2e, commit;
    struct restore_metrics restore;
    struct kafka_stats kstats;
    struct lag_snapshot lag;    /* lags, and the store sizes sampled with them */
    struct store_size *sizes;
    size_t nsizes;
    _Atomic int64_t heartbeat;  /* rill_now_ms() of the thread's last loop turn or wait */
    _Atomic int assigned;       /* holds an assignment it has finished taking */
    _Atomic int restoring;      /* inside an assignment: restoring or claiming */
    _Atomic int state;          /* a stream thread's enum sthread_state, for other threads */
};

/* The calling thread's heartbeat goes to m (NULL: none); engine_beat()
 * marks it alive now. Waits call it, so a thread waiting on purpose is not
 * taken for a stuck one. */
void engine_beat_to(struct thread_metrics *m);
void engine_beat(void);

/* metrics_init sets m up for a thread with ninputs input and noutputs
 * output topics (0, 0: a sink's); RILL_ERR_NOMEM. metrics_fini frees it. */
rill_err_t metrics_init(struct thread_metrics *m, size_t ninputs, size_t noutputs);
void metrics_fini(struct thread_metrics *m);
/* Replaces m's store sizes (under the lag lock). Takes v. */
void metrics_sizes(struct thread_metrics *m, struct store_size *v, size_t n);
/* A librdkafka stats_cb for a client whose opaque is m's thread: parses the
 * document into m->kstats.c[which]. */
void metrics_kafka_stats(struct thread_metrics *m, enum stats_client which, const char *json,
                         size_t len);
/* Microseconds of the monotonic clock, and wall-clock milliseconds. */
int64_t metrics_now_us(void);
int64_t metrics_wall_ms(void);
/* Replaces m's lags with what the n partitions of l say (topic, partition;
 * their offset: the next to process, or committed in a database), asking
 * rk for the cached high watermarks (no request). last_ts[i] is the
 * timestamp of the last record processed there (0: none). */
void metrics_lag(struct thread_metrics *m, rd_kafka_t *rk,
                 const rd_kafka_topic_partition_list_t *l, const int64_t *last_ts);
/* Drops m's lags and store sizes: after a revoke the thread reports none of
 * the partitions it gave up, not until its next sample. */
void metrics_forget(struct thread_metrics *m);

/* ---- threads and the engine ---------------------------------------------- */

struct sink_thread;

struct sthread {
    struct rill_engine *e;
    const struct rill_proc_conf *pc;
    int idx;
    pthread_t tid;
    enum sthread_state state;   /* only through sthread_set_state() */
    rd_kafka_t *consumer, *producer;
    rd_kafka_t *restorer;       /* group-less consumer reading changelogs */
    char group[ENGINE_ID_SIZE], txnid[ENGINE_ID_SIZE];
    struct task **tasks;
    size_t ntasks;
    size_t npending;            /* tasks holding a record for a retry */
    int64_t last_commit;        /* when the last commit started */
    int rebuild_streak;         /* rebuilds in a row, each soon after the last */
    int64_t rebuilt_at;         /* when the clients were last (re)created */
    atomic_int produce_failed;  /* a delivery failed in this interval */
    int64_t wall_offset_us;     /* wall clock minus monotonic clock, at the last poll */
    int64_t kicked_at;          /* when the fetchers were last woken (loop.c) */
    int64_t kick_wait_ms;       /* the least time until the next wake-up */
    int64_t burst_records;      /* records polled since the queue was last empty */
    int64_t burst_bytes;        /* and their payload bytes */
    int64_t q_min_records;      /* the consumer's queued.min.messages */
    int64_t q_max_bytes;        /* its queued.max.messages.kbytes, in bytes */
    struct thread_metrics m;
    struct view view;           /* its tasks, for /topology and /state (view_int.h) */
    struct lookup_box box;      /* /state lookups it answers once per loop turn */
};

struct rill_engine {
    const struct rill_topology *t;
    int eos;
    atomic_int stop;
    struct sthread *threads;
    size_t nthreads;
    char instance_id[RILL_STORE_INSTANCE_ID_SIZE];
    int lock_fd;                /* the instance directory's lock */
    rill_store_cache_t *cache;  /* shared block cache: half of state.memory.bytes */
    size_t write_buffer;        /* memtable size per store */
    size_t queue_kb;            /* each Kafka client's queue, of memory.bytes; 0: no bound */
    struct sink_thread *sinks;  /* one thread per sink of the topology */
    size_t nsinks;
    struct MHD_Daemon *http;    /* the HTTP endpoints (http.c); NULL: none */
    int64_t started_at;         /* rill_now_ms() at the start (monotonic) */
    int64_t started_wall;       /* Unix time at the start */
    struct view_topic *topics;  /* every topic of the topology, with its partitions */
    size_t ntopics;
    struct standby *standbys;   /* standby.c: one per processor with standby copies */
    size_t nstandbys;
};

/* ---- http.c ------------------------------------------------------------------ */

/* Serves /healthz, /readyz and /metrics on the topology's http.address.
 * An address that was set and cannot be bound is an error; the default
 * one, taken, only a warning. */
rill_err_t http_start(struct rill_engine *e, char *errstr, size_t errsz);
void http_stop(struct rill_engine *e);

/* A growing text an answer is written into; oom set once memory ran out
 * (then the answer is a 500). */
struct text {
    char *p;
    size_t len, cap;
    int oom;
};
void text_put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v escaped for a JSON string or a Prometheus label value (", \, newline). */
void text_label(struct text *t, const char *v);
/* What /readyz says: every stream thread holds its assignment, restored,
 * and every sink its partitions. */
int engine_ready(const struct rill_engine *e);

/* ---- metrics.c --------------------------------------------------------------- */

/* The /metrics answer, Prometheus text format 0.0.4. */
void metrics_render(const struct rill_engine *e, struct text *t);

/* ---- view.c: what the HTTP thread may see and ask (view_int.h) ------------ */

/* The table of every topic the topology names (declared topics, inputs,
 * outputs, DLQs, changelogs, sink inputs) with the partition counts the
 * YAML gives; before any thread starts. */
rill_err_t view_topics_build(struct rill_engine *e);
/* Fills the partition counts the YAML left open from md (a startup probe's
 * metadata, before the threads and the HTTP server start). */
void view_topics_note(struct rill_engine *e, const struct rd_kafka_metadata *md);
const struct view_topic *view_topic_find(const struct rill_engine *e, const char *name);
/* st takes parts: its view lists their tasks, each restoring. */
void view_assigned(struct sthread *st, const rd_kafka_topic_partition_list_t *parts);
/* st answers the lookups posted to its box (its own thread, between
 * records). */
void lookup_serve(struct sthread *st);

/* ---- loop.c: the thread, its state, sleeping and retrying ---------------- */

void *sthread_main(void *arg);

/* Moves st to state to, for why (logged at debug). A transition the table
 * does not allow is a bug: it is logged at error level, st keeps its state,
 * and RILL_ERR_STATE is returned. */
rill_err_t sthread_set_state(struct sthread *st, enum sthread_state to, const char *why);
const char *sthread_state_name(enum sthread_state s);
/* To STHREAD_FATAL: the clients are torn down and created again. */
void sthread_fatal(struct sthread *st, const char *why);


/* How engine_retry() repeats a step. */
struct engine_retry {
    int attempts;               /* calls at most; 0: no cap */
    int64_t deadline_ms;        /* no new call this long after the first; 0: none */
    int backoff_ms;             /* the wait before the next call ... */
    int linear;                 /* ... times the calls so far when set */
    rill_log_level_t level;     /* of the line logged for each retry */
};

/* One step: RILL_OK, RILL_ERR_RETRY to be called again, or another error
 * to stop; errstr says why it did not succeed. */
typedef rill_err_t (*engine_step_fn)(void *arg, char *errstr, size_t errsz);

/* Calls step until it returns anything but RILL_ERR_RETRY, within p's
 * attempts and deadline, backing off between calls; an engine stop ends it
 * early. Returns step's last result (RILL_ERR_RETRY when it gave up), with
 * its message in errstr (may be NULL). what names the step in the log,
 * processor its processor. */
rill_err_t engine_retry(struct rill_engine *e, const struct engine_retry *p, const char *what,
                        const char *processor, engine_step_fn step, void *arg, char *errstr,
                        size_t errsz);

/* The emit callback of every node of st (opaque): produces a record inside
 * the open transaction (beginning it if need be). */
rill_err_t engine_emit(void *opaque, const struct rill_out *o);

/* ---- txn.c: begin, commit, abort, rewind --------------------------------- */

/* Under exactly-once, begins the transaction if none is open. RILL_OK, or
 * an error when none can be open (st is then FATAL). */
rill_err_t txn_ensure(struct sthread *st);
/* Commits what was processed since the last commit (nothing open: RILL_OK).
 * An error means it was aborted and rewound, or st is FATAL. */
rill_err_t txn_commit(struct sthread *st);
/* Aborts the open transaction and rewinds (exactly-once). */
void txn_abort(struct sthread *st, const char *why);
/* Undoes the interval after a failed produce: txn_abort() under
 * exactly-once, txn_rewind() under at-least-once. */
void txn_fail(struct sthread *st, const char *why);

/* ---- rebalance.c ------------------------------------------------------------ */

void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                  rd_kafka_topic_partition_list_t *parts, void *opaque);
/* Seeks each listed partition to its offset, waiting for each. */
rill_err_t rebalance_seek(struct sthread *st, const rd_kafka_topic_partition_list_t *l);

/* ---- task.c ------------------------------------------------------------------ */

struct task *task_find(struct sthread *st, int32_t partition);
struct tp *task_tp(struct task *t, const char *topic);
/* Creates the task of partition: its stores opened and restored, its
 * processor started. NULL (logged) on failure. */
struct task *task_new(struct sthread *st, int32_t partition);
void task_free(struct task *t);
/* Starts the task's processor afresh (after an abort). */
rill_err_t task_node_reset(struct sthread *st, struct task *t);
/* Frees every task of st, after serving the producer's delivery reports. */
void tasks_drop_all(struct sthread *st);
/* After the Kafka commit: the stores take their pending writes and the
 * changelog offsets they reflect (a failure makes st FATAL). */
void tasks_commit_stores(struct sthread *st);
void tasks_abort_stores(struct sthread *st);
/* The processor asked to retry m (kept by the task): pauses the task's
 * partitions on the first refusal and backs off, doubling. */
void task_retry_later(struct sthread *st, struct task *t, rd_kafka_message_t *m);
/* The retried record went through: the task's partitions resume right
 * after it. */
void task_retry_done(struct sthread *st, struct task *t);
/* Forgets a retry in progress (before a rewind): resumes the partitions. */
void task_retry_cancel(struct sthread *st, struct task *t);

/* ---- client.c ------------------------------------------------------------------ */

/* A client configuration: the topology's kafka: map, then own (a
 * processor's or sink's kafka:), each key only for the kind of client it
 * concerns (consumer or producer), and RILL_KAFKA_DEBUG. NULL with errstr
 * when a key is refused. */
rd_kafka_conf_t *engine_kafka_conf(const struct rill_topology *t, const struct rill_kvlist *own,
                                   int consumer, char *errstr, size_t errsz);
/* What every group consumer of rill is, over the topology's settings: in
 * group, no auto-commit (offsets go with the work they belong to), from the
 * earliest offset without a committed one, read_committed. */
rill_err_t engine_group_consumer_conf(rd_kafka_conf_t *cc, const char *group, char *errstr,
                                      size_t errsz);
/* Bounds c's queue to the engine's share of memory.bytes, unless either
 * kafka: map sets it: a producer's buffer (partitions 0), or a consumer's
 * prefetch over the partitions it may read: queued.max.messages.kbytes
 * (the whole queue) half the share, max.partition.fetch.bytes the other
 * half split over the partitions (what one fetch may add past the bound);
 * the record counts (queue.buffering.max.messages; queued.min.messages
 * when woken, i.e. for a stream thread's consumer, whose thread wakes the
 * fetcher) at ENGINE_QUEUE_RECORD_COST bytes a record. */
rill_err_t engine_queue_limit(rd_kafka_conf_t *c, const struct rill_engine *e,
                              const struct rill_kvlist *own, int32_t partitions, int woken,
                              char *errstr, size_t errsz);
/* Under exactly-once, what a stream thread's producer gets unless either
 * kafka: map sets it: transaction.timeout.ms (three commit intervals,
 * clamped to ENGINE_TXN_TIMEOUT_MIN_MS..MAX_MS; left alone when
 * message.timeout.ms or socket.timeout.ms is set) and retry.backoff.ms
 * (ENGINE_TXN_RETRY_BACKOFF_MS). Nothing at at_least_once. */
rill_err_t engine_txn_producer_defaults(rd_kafka_conf_t *pc, const struct rill_engine *e,
                                        const struct rill_kvlist *own, char *errstr,
                                        size_t errsz);
/* The partitions of topics, summed (one for a count not known). */
int32_t engine_partitions(const struct rill_engine *e, const struct rill_strlist *topics);
/* Static membership by default: sets group.instance.id to
 * "<prefix>.<name>-<idx>", the prefix own's or the topology's kafka:
 * group.instance.id, else the instance id of the state directory; none when
 * that prefix is ENGINE_STATIC_OFF. A static member's session.timeout.ms is
 * ENGINE_STATIC_SESSION_MS unless either kafka: map sets it. */
rill_err_t engine_static_member(rd_kafka_conf_t *cc, const struct rill_engine *e,
                                const struct rill_kvlist *own, const char *name, int idx,
                                char *errstr, size_t errsz);
/* 1 when consumer was made with a group.instance.id. */
int engine_is_static_member(rd_kafka_t *consumer);
/* Closes consumer leaving its group, a static member too (serving its
 * revoke on the calling thread), waiting at most ENGINE_LEAVE_WAIT_MS for
 * the leave. The consumer is still to be destroyed. */
void engine_consumer_leave(rd_kafka_t *consumer);

/* Routes consumer's events to its poll and subscribes it to topics; an
 * error names the kind ("processor", "sink") and name. */
rill_err_t engine_subscribe(rd_kafka_t *consumer, const struct rill_strlist *topics,
                            const char *kind, const char *name, char *errstr, size_t errsz);

rill_err_t clients_create(struct sthread *st, char *errstr, size_t errsz);
void clients_destroy(struct sthread *st);
/* Logs in with st's processor's credentials and checks that its topics
 * exist and are visible to it. */
rill_err_t clients_probe(struct sthread *st, char *errstr, size_t errsz);

/* ---- standby.c, standby_plan.c ------------------------------------------------ */

/* One member of a processor's group, as its description shows it. */
struct sb_member {
    const char *instance;       /* its instance: its group.instance.id's prefix */
    const char *order;          /* what the range assignor sorts by: its group.instance.id */
};

/* Marks in want[0..nparts) the partitions the instance me keeps standby
 * copies of: those the range assignor would give it, over the members m[0..n)
 * of its group, if up to replicas other instances died, less those it
 * would own with none dead. Returns how many are marked, or -1 when there
 * are too many cases to lay out (or no memory): then nothing is marked. */
int standby_plan(const struct sb_member *m, size_t n, const char *me, int32_t nparts,
                 int replicas, unsigned char *want);

/* Starts a standby thread for every processor with an on-disk store that
 * has a changelog, when num.standby.replicas > 0; stops and frees them. */
rill_err_t standby_start(struct rill_engine *e, char *errstr, size_t errsz);
void standby_stop(struct rill_engine *e);
/* A stream thread takes task partition of pc: its standby copy, if any, is
 * closed (its position written) before this returns, and none is opened
 * again until standby_release(). No-op without standbys. */
void standby_claim(struct rill_engine *e, const struct rill_proc_conf *pc, int32_t partition);
void standby_release(struct rill_engine *e, const struct rill_proc_conf *pc, int32_t partition);

/* The prefix of this instance's group.instance.ids (own's, the topology's,
 * or the instance id), or NULL when static membership is off. */
const char *engine_member_prefix(const struct rill_engine *e, const struct rill_kvlist *own);

/* How a task's store name is opened in task directory dir: its options
 * (o->path points into path), and its changelog topic ("" when none). */
rill_err_t task_store_prepare(const struct rill_engine *e, const char *name, const char *dir,
                              struct rill_store_opts *o, char path[RILL_STORE_PATH_MAX],
                              char changelog[ENGINE_TOPIC_SIZE], char *err, size_t errsz);
/* Opens it; an unreadable on-disk store is wiped and opened empty. */
rill_err_t task_store_open_or_wipe(const char *name, const struct rill_store_opts *o,
                                   rill_store_t **store, char *err, size_t errsz);

#pragma GCC visibility pop

#endif
