/*
 * inspect_int.h - internal: what the files of inspect.h share (the handle,
 * the reading client made on first need, batched watermarks, librdkafka's
 * error names in messages). Not an API outside topology/admin/inspect*.c.
 */
#ifndef RILL_ADMIN_INSPECT_INT_H
#define RILL_ADMIN_INSPECT_INT_H

#include "topology/admin/inspect.h"

struct rill_inspect {
    struct rill_kclient meta;     /* metadata, Admin API, watermarks (read_uncommitted) */
    struct rill_kclient reader;   /* records; rk NULL until first need */
    struct rill_kvlist conf;      /* a copy, for the reader */
    int committed;                /* the reader is read_committed */
};

/* The reading client, made on first call. */
rill_err_t insp_reader(rill_inspect_t *in, rd_kafka_t **rk, char *errstr, size_t errsz);

/* The low and high watermarks of every partition of l (one batched request
 * per kind and leader), in l's order, into low[] and high[] (-1 where the
 * broker did not say; *first_err gets the first partition error, 0 when
 * none). Uses rk's isolation level. Returns RILL_ERR_KAFKA when the
 * requests fail as a whole. */
rill_err_t insp_watermarks(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *l,
                           int64_t *low, int64_t *high, int *first_err, char *errstr,
                           size_t errsz);

/* 1 when err means the user lacks an ACL. */
int insp_denied(int err);

char *insp_strdup(const char *s);

#endif
