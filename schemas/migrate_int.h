/*
 * migrate_int.h - the migrations compiled into rill (build/gen/sql_embed.c,
 * written by schemas/embed_sql.sh from the .sql files of schemas/sql/). Internal to
 * schemas/: everything else reads them through rill_migrate_set_embedded().
 */
#ifndef RILL_SCHEMAS_MIGRATE_INT_H
#define RILL_SCHEMAS_MIGRATE_INT_H

#include <stddef.h>

struct rill_migrate_file {
    const char *name;   /* the file name, "0001_oltp.sql" */
    const char *text;   /* its bytes, NUL-terminated */
    size_t len;
};

extern const struct rill_migrate_file rill_migrate_embedded[];
extern const size_t rill_migrate_embedded_cnt;

#endif
