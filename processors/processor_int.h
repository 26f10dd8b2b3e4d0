/*
 * processor_int.h - internal: the frozen layouts of older processor ABIs, for
 * the loader (rill_node_resolve()), which reads a plugin's def through the
 * layout of the version it says it was built for and hands the rest of the
 * runtime the current layout. Not for plugins: they include processor.h
 * only. A layout here never changes once its version has shipped; a new
 * version adds a new frozen layout beside it.
 */
#ifndef RILL_PROCESSOR_INT_H
#define RILL_PROCESSOR_INT_H

#include <stddef.h>

#include "processors/processor.h"

/* A config row of RILL_PROCESSOR_V1: the row of V2 without min and max. */
struct rill_conf_def_v1 {
    const char *key;
    rill_conf_type_t type;
    const char *def;
    size_t offset;
    const char *doc;
};

/* The def of RILL_PROCESSOR_V1. V2 changed only the rows conf points to, so
 * a V2 def has this layout too; V3 appends check after close (asserted
 * below). */
struct rill_processor_def_v1 {
    int version;
    const char *name;
    const char *doc;
    const struct rill_conf_def_v1 *conf;
    size_t conf_size;
    rill_err_t (*init)(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz);
    rill_proc_result_t (*process)(rill_ctx_t *ctx, void *state, const rill_record_t *rec);
    rill_proc_result_t (*punctuate)(rill_ctx_t *ctx, void *state, rill_punctuate_type_t type,
                                    int64_t now_ms);
    void (*close)(void *state);
};

/* What V1 promised stays where V1 put it. */
_Static_assert(offsetof(struct rill_conf_def, doc) == offsetof(struct rill_conf_def_v1, doc),
               "rill_conf_def: V1 fields moved");
_Static_assert(offsetof(struct rill_processor_def, close) ==
                       offsetof(struct rill_processor_def_v1, close) &&
                   offsetof(struct rill_processor_def, check) ==
                       sizeof(struct rill_processor_def_v1),
               "rill_processor_def: V2 must keep the V1 layout, V3 append to it");
/* The numbers V1 plugins were built with (topology/rill.h appends codes). */
_Static_assert(RILL_ERR_INVALID == 1 && RILL_ERR_NOMEM == 2 && RILL_ERR_NOTFOUND == 5 &&
                   RILL_ERR_STATE == 9 && RILL_ERR_RETRY == 10 && RILL_ERR_FATAL == 11,
               "rill_err_t: V1 error numbers changed");
_Static_assert(RILL_PROC_OK == 0 && RILL_PROC_RETRY == 1 && RILL_PROC_REJECT == 2 &&
                   RILL_PUNCTUATE_STREAM_TIME == 0 && RILL_PUNCTUATE_WALL_CLOCK == 1 &&
                   RILL_CONF_STR == 0 && RILL_CONF_INT == 1 && RILL_CONF_DOUBLE == 2 &&
                   RILL_CONF_BOOL == 3,
               "processor.h: V1 enum values changed");

#endif
