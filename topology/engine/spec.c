/*
 * spec.c - a node's spec from the topology's processor entry (spec.h): its
 * name, type or library, DLQ and outputs, and the model's typed filler for
 * its `config:` strings.
 */
#include "topology/engine/spec.h"

#include "topology/model/check.h"

static rill_err_t spec_conf_fill(const void *conf_opaque, const struct rill_conf_def *defs,
                                 void *out, char *errstr, size_t errsz)
{
    return rill_conf_fill(defs, conf_opaque, out, errstr, errsz);
}

void rill_node_spec_of(const struct rill_proc_conf *pc, struct rill_node_spec *spec)
{
    *spec = (struct rill_node_spec){
        .name = pc->name,
        .type = pc->type,
        .library = pc->library,
        .dlq = pc->dlq,
        .outputs = pc->outputs.v,
        .noutputs = pc->outputs.n,
        .inputs = pc->inputs.v,
        .ninputs = pc->inputs.n,
        .conf_fill = spec_conf_fill,
        .conf_release = rill_conf_release,
        .conf_opaque = &pc->config,
    };
}
