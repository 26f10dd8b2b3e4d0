/*
 * decode.c - decoding a sink record into an order event, or rejecting it
 * with the serde's reason (decode.h).
 */
#include "processors/postgres/decode.h"

#include <stdio.h>

int pg_decode(rill_serde_t *s, rill_sink_tx_t *tx, const struct rill_sink_rec *rec,
              rill_event_t *ev)
{
    char err[RILL_ERRSTR_SIZE];
    rill_event_clear(ev);
    if (!rec->value)
        return rill_sink_reject(tx, rec, "a tombstone (null value) is not an event") == RILL_OK
                   ? 0 : -1;
    rill_err_t e = rill_serde_decode(s, rec->key, rec->key_len, rec->value, rec->value_len, ev,
                                     err, sizeof err);
    if (e == RILL_OK)
        return 1;
    rill_event_clear(ev);
    if (e == RILL_ERR_NOMEM || e == RILL_ERR_IO)
        return -1; /* not the record's fault (memory, a registry that cannot be asked): the
                    * batch is retried */
    return rill_sink_reject(tx, rec, err) == RILL_OK ? 0 : -1;
}

rill_err_t pg_reject_type(rill_sink_tx_t *tx, const struct rill_sink_rec *rec, const char *sink,
                          const rill_event_t *ev)
{
    char why[128];
    snprintf(why, sizeof why, "%s does not take %s events", sink, rill_event_type_name(ev->type));
    return rill_sink_reject(tx, rec, why);
}
