/*
 * version.c - what rill runs with. librdkafka and libpq report their runtime
 * versions themselves; RocksDB's C API has no version call, so its runtime
 * version is read from the file name of the shared object actually loaded
 * (librocksdb.so.X.Y.Z), with the version of the headers rill was built
 * against beside it.
 */
#include "topology/rill.h"

#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <rocksdb/c.h>
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef RILL_ROCKSDB_BUILD_VERSION
#define RILL_ROCKSDB_BUILD_VERSION "unknown"
#endif

struct so_lookup {
    const char *prefix; /* "librocksdb.so." */
    char version[64];
};

static int so_visit(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct so_lookup *l = arg;
    (void)size;
    if (!info->dlpi_name || !strstr(info->dlpi_name, l->prefix))
        return 0;
    char real[PATH_MAX];
    const char *path = realpath(info->dlpi_name, real) ? real : info->dlpi_name;
    const char *v = strstr(path, l->prefix);
    snprintf(l->version, sizeof l->version, "%s", v + strlen(l->prefix));
    return 1;
}

/* The version suffix of a loaded shared object, or "not loaded". */
static void so_version(const char *prefix, char *out, size_t outsz)
{
    struct so_lookup l = { .prefix = prefix, .version = "" };
    dl_iterate_phdr(so_visit, &l);
    snprintf(out, outsz, "%s", l.version[0] ? l.version : "not loaded");
}

int rill_version_describe(char *buf, size_t size)
{
    char rocks[64];
    /* Touch RocksDB so its library is part of the process even before a
     * store is opened, making the loaded-object lookup meaningful. */
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_destroy(o);
    so_version("librocksdb.so.", rocks, sizeof rocks);
    int pq = PQlibVersion();
    return snprintf(buf, size,
                    "rill %s\n"
                    "librdkafka %s\n"
                    "rocksdb %s (built against %s)\n"
                    "libpq %d.%d\n",
                    RILL_VERSION, rd_kafka_version_str(), rocks, RILL_ROCKSDB_BUILD_VERSION,
                    pq / 10000, pq % 10000);
}
