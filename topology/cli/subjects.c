/*
 * subjects.c - the schema registry subjects of a topology for the serdes
 * that `rill run` and `rill inspect` make: the topology's
 * schema.registry.subject.strategy and, for the topic strategy, each
 * declared topic that carries an event type by its name
 * (rill_event_type_of_topic(): order_placed, or <prefix>.order_placed).
 * Topics named after no event type get no subject. Not the registry client
 * and not the serde: it only hands them the topology's choice.
 */
#include "topology/cli/cli.h"
#include "topology/model/config.h"
#include "schemas/serde.h"

#include <stdlib.h>

int rill_cli_serde_subjects(const struct rill_topology *t, char *err, size_t errsz)
{
    struct rill_serde_topic *topics = calloc(t->ntopics ? t->ntopics : 1, sizeof *topics);
    size_t n = 0;
    if (!topics) {
        rill_errf(err, errsz, RILL_ERR_NOMEM, "out of memory");
        return -1;
    }
    for (size_t i = 0; t->subject_strategy == RILL_SUBJECT_TOPIC && i < t->ntopics; i++) {
        int type = rill_event_type_of_topic(t->topics[i].name);
        if (type >= 0)
            topics[n++] = (struct rill_serde_topic){ t->topics[i].name, (rill_event_type_t)type };
    }
    rill_err_t rc = rill_serde_set_subjects((rill_subject_strategy_t)t->subject_strategy, topics,
                                            n, err, errsz);
    free(topics);
    return rc == RILL_OK ? 0 : -1;
}
