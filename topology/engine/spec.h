/*
 * spec.h - internal: a node's spec (node_int.h) from the topology's
 * processor entry, with the model's typed config filler handed over. The one
 * place where the model's processor entry becomes what a node is made of;
 * the node itself knows no YAML.
 */
#ifndef RILL_SPEC_H
#define RILL_SPEC_H

#include "topology/engine/node_int.h"
#include "topology/model/config.h"

/* Fills spec from pc; spec points into pc, which must outlive every node
 * made from it. */
void rill_node_spec_of(const struct rill_proc_conf *pc, struct rill_node_spec *spec);

#endif
