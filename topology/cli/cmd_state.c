/*
 * cmd_state.c - `rill state get|dump`: interactive queries of the local
 * stores of an instance, stopped or running (RocksDB stores are opened
 * read-only, so a running instance keeps its lock). The topology file says
 * where the state lives; every task directory of the store is read, so a
 * store's whole local content is shown, whatever partitions this host owns.
 * Memory stores live only inside their process and cannot be read here.
 */
#include "topology/cli/cli.h"
#include "topology/model/config.h"
#include "state/store_rt.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum fmt { FMT_AUTO, FMT_TEXT, FMT_HEX, FMT_I64 };

static void print_bytes(const void *p, size_t n, enum fmt f)
{
    const unsigned char *b = p;
    if (f == FMT_I64 && n == 8) {
        uint64_t x = 0;
        for (int i = 0; i < 8; i++)
            x = x << 8 | b[i];
        printf("%" PRId64, (int64_t)x);
        return;
    }
    int printable = 1;
    for (size_t i = 0; i < n && printable; i++)
        printable = b[i] >= 0x20 && b[i] < 0x7f;
    if (f == FMT_TEXT || (f != FMT_HEX && printable)) {
        fwrite(b, 1, n, stdout);
        return;
    }
    printf("0x");
    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
}

static int usage(FILE *out, int rc)
{
    fprintf(out, "usage: rill state get -c FILE STORE KEY [--as text|hex|i64]\n"
                 "       rill state dump -c FILE STORE [--as text|hex|i64]\n\n"
                 "Reads the local RocksDB store STORE of the topology in FILE (running or\n"
                 "stopped). dump prints one 'key<TAB>value' line per key, over every local\n"
                 "task of the store; values print as text when printable, else as hex,\n"
                 "unless --as says otherwise (i64: an 8-byte big-endian counter).\n");
    return rc;
}

int rill_cmd_state(int argc, char **argv)
{
    const char *file = NULL, *verb = argc > 1 ? argv[1] : NULL, *args[3] = { 0 };
    enum fmt f = FMT_AUTO;
    int nargs = 0;
    if (!verb || !strcmp(verb, "--help") || !strcmp(verb, "-h"))
        return usage(verb ? stdout : stderr, verb ? 0 : 2);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-c") && i + 1 < argc) {
            file = argv[++i];
        } else if (!strcmp(argv[i], "--as") && i + 1 < argc) {
            const char *a = argv[++i];
            f = !strcmp(a, "text") ? FMT_TEXT : !strcmp(a, "hex") ? FMT_HEX
              : !strcmp(a, "i64") ? FMT_I64 : (enum fmt)-1;
            if ((int)f < 0)
                return usage(stderr, 2);
        } else if (nargs < 2) {
            args[nargs++] = argv[i];
        } else {
            return usage(stderr, 2);
        }
    }
    int get = !strcmp(verb, "get");
    if ((!get && strcmp(verb, "dump")) || !file || nargs != (get ? 2 : 1))
        return usage(stderr, 2);
    char err[RILL_ERRSTR_SIZE];
    struct rill_topology *t = NULL;
    if (rill_topology_load(file, &t, err, sizeof err) != RILL_OK) {
        fprintf(stderr, "rill: %s\n", err);
        return 1;
    }
    const char *store = args[0];
    const struct rill_proc_conf *owner = NULL;
    for (size_t p = 0; p < t->nprocs && !owner; p++)
        for (size_t s = 0; s < t->procs[p].stores.n; s++)
            if (!strcmp(t->procs[p].stores.v[s], store))
                owner = &t->procs[p];
    if (!owner) {
        fprintf(stderr, "rill: no processor of '%s' has a store '%s'\n", file, store);
        rill_topology_free(t);
        return 1;
    }
    char appdir[1024], prefix[300];
    snprintf(appdir, sizeof appdir, "%s/%s", t->state_dir, t->application_id);
    snprintf(prefix, sizeof prefix, "%s-", owner->name);
    DIR *d = opendir(appdir);
    int found = 0, rc = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (strncmp(de->d_name, prefix, strlen(prefix)))
            continue;
        char path[1500];
        snprintf(path, sizeof path, "%s/%s/%s", appdir, de->d_name, store);
        struct stat sb;
        if (stat(path, &sb) || !S_ISDIR(sb.st_mode))
            continue;
        struct rill_store_opts o = { .type = "rocksdb", .path = path, .readonly = 1 };
        rill_store_t *s = NULL;
        if (rill_store_open(store, &o, &s, err, sizeof err) != RILL_OK) {
            fprintf(stderr, "rill: %s\n", err);
            rc = 1;
            continue;
        }
        if (get) {
            void *v;
            size_t vl;
            if (rill_store_get(s, args[1], strlen(args[1]), &v, &vl) == RILL_OK) {
                print_bytes(v, vl, f);
                putchar('\n');
                free(v);
                found = 1;
            }
        } else {
            rill_store_iter_t *it = rill_store_range(s, NULL, 0, NULL, 0);
            const void *k, *v;
            size_t kl, vl;
            while (it && rill_store_iter_next(it, &k, &kl, &v, &vl)) {
                print_bytes(k, kl, f == FMT_I64 ? FMT_AUTO : f);
                putchar('\t');
                print_bytes(v, vl, f);
                putchar('\n');
            }
            rill_store_iter_free(it);
            found = 1;
        }
        rill_store_free(s);
    }
    if (d)
        closedir(d);
    rill_topology_free(t);
    if (!found && !rc) {
        if (get)
            fprintf(stderr, "rill: key '%s' not found in store '%s'\n", args[1], store);
        else
            fprintf(stderr, "rill: no local data of store '%s' under '%s'\n", store, appdir);
        return 1;
    }
    return rc;
}
