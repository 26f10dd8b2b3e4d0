/*
 * test_store.c - the state store contract, run against both backends
 * ("memory" and "rocksdb"): put/get/delete, read-your-writes over committed
 * data, ordered range and prefix iteration merging pending writes and
 * tombstones, commit and abort, the changelog hook, restore batches with
 * their offset, typed counters, idempotent close, and (rocksdb) reopening to
 * see committed data only. A randomized run checks both against a reference
 * model.
 */
#include "tests/lib/suite.h"
#include "tests/lib/util.h"
#include "state/store_rt.h"
#include "state/taskdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int setup(void)
{
    return it_tmpdir(dir, sizeof dir, "store") ? 0 : -1;
}

static int teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) ? -1 : 0;
}

static rill_store_t *open_store(const char *type, const char *name)
{
    char path[256], err[RILL_ERRSTR_SIZE];
    snprintf(path, sizeof path, "%s/%s-%s", dir, type, name);
    struct rill_store_opts o = { .type = type, .path = path };
    rill_store_t *s = NULL;
    if (rill_store_open(name, &o, &s, err, sizeof err) != RILL_OK)
        fprintf(stderr, "open %s: %s\n", path, err);
    return s;
}

static int has(rill_store_t *s, const char *k, const char *want)
{
    void *v;
    size_t vl;
    rill_err_t err = rill_store_get(s, k, strlen(k), &v, &vl);
    if (!want)
        return err == RILL_ERR_NOTFOUND;
    int ok = err == RILL_OK && vl == strlen(want) && !memcmp(v, want, vl);
    if (err == RILL_OK)
        free(v);
    return ok;
}

static void put(rill_store_t *s, const char *k, const char *v)
{
    CU_ASSERT_EQUAL(rill_store_put(s, k, strlen(k), v, strlen(v)), RILL_OK);
}

static void commit(rill_store_t *s, int64_t off)
{
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL(rill_store_commit(s, off, err, sizeof err), RILL_OK);
}

/* Concatenates "k=v," of an iteration. */
static void collect(rill_store_iter_t *it, char *out, size_t sz)
{
    const void *k, *v;
    size_t kl, vl, used = 0;
    out[0] = '\0';
    while (it && rill_store_iter_next(it, &k, &kl, &v, &vl))
        used += (size_t)snprintf(out + used, sz - used, "%.*s=%.*s,", (int)kl, (const char *)k,
                                 (int)vl, (const char *)v);
    rill_store_iter_free(it);
}

static void contract_basics(const char *type)
{
    rill_store_t *s = open_store(type, "basics");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(rill_store_offset(s), -1);
    put(s, "a", "1");
    put(s, "b", "2");
    CU_ASSERT(has(s, "a", "1")); /* read your own writes */
    CU_ASSERT_EQUAL(rill_store_pending(s), 2);
    commit(s, 10);
    CU_ASSERT_EQUAL(rill_store_pending(s), 0);
    CU_ASSERT_EQUAL(rill_store_offset(s), 10);
    CU_ASSERT(has(s, "a", "1"));
    CU_ASSERT_EQUAL(rill_store_delete(s, "a", 1), RILL_OK);
    put(s, "b", "22");
    CU_ASSERT(has(s, "a", NULL)); /* a pending delete hides committed data */
    CU_ASSERT(has(s, "b", "22"));
    rill_store_abort(s);
    CU_ASSERT(has(s, "a", "1"));
    CU_ASSERT(has(s, "b", "2"));
    CU_ASSERT_EQUAL(rill_store_offset(s), 10);
    CU_ASSERT_EQUAL(rill_store_count(s), 2);
    rill_store_close(s);
    rill_store_close(s); /* idempotent */
    void *v;
    size_t vl;
    CU_ASSERT_EQUAL(rill_store_get(s, "a", 1, &v, &vl), RILL_ERR_STATE);
    CU_ASSERT_EQUAL(rill_store_put(s, "a", 1, "x", 1), RILL_ERR_STATE);
    rill_store_free(s);
}

static void contract_iteration(const char *type)
{
    rill_store_t *s = open_store(type, "iter");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    put(s, "ab", "1");
    put(s, "abc", "2");
    put(s, "b", "3");
    put(s, "a", "0");
    CU_ASSERT_EQUAL(rill_store_put(s, "ab\xff", 3, "4", 1), RILL_OK);
    commit(s, 1);
    put(s, "aa", "p"); /* pending, between committed keys */
    CU_ASSERT_EQUAL(rill_store_delete(s, "abc", 3), RILL_OK);
    put(s, "b", "33");
    char got[512];
    collect(rill_store_range(s, NULL, 0, NULL, 0), got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, "a=0,aa=p,ab=1,ab\xff=4,b=33,");
    collect(rill_store_prefix(s, "ab", 2), got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, "ab=1,ab\xff=4,");
    collect(rill_store_range(s, "aa", 2, "b", 1), got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, "aa=p,ab=1,ab\xff=4,");
    collect(rill_store_prefix(s, "z", 1), got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, "");
    rill_store_free(s);
}

static int logged;
static rill_err_t log_fn(void *opaque, const char *store, const void *key, size_t klen,
                         const void *value, size_t vlen)
{
    (void)opaque;
    (void)key;
    (void)vlen;
    if (!strcmp(store, "hooked") && klen == 1)
        logged += value ? 1 : 100;
    return RILL_OK;
}

static void contract_log_restore_counters(const char *type)
{
    rill_store_t *s = open_store(type, "hooked");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    logged = 0;
    rill_store_set_log(s, log_fn, NULL);
    put(s, "k", "v");
    CU_ASSERT_EQUAL(rill_store_delete(s, "k", 1), RILL_OK);
    CU_ASSERT_EQUAL(logged, 101);
    rill_store_abort(s);
    rill_store_set_log(s, NULL, NULL);
    /* restore: 25,000 records in batches, then the offset */
    char err[RILL_ERRSTR_SIZE];
    for (int i = 0; i < 25000; i++) {
        char k[16];
        int kl = snprintf(k, sizeof k, "r%05d", i);
        CU_ASSERT_EQUAL_FATAL(rill_store_restore_put(s, k, (size_t)kl, "x", 1), RILL_OK);
    }
    CU_ASSERT_EQUAL(rill_store_restore_put(s, "r00007", 6, NULL, 0), RILL_OK); /* a delete */
    CU_ASSERT_EQUAL(rill_store_restore_done(s, 25001, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(rill_store_offset(s), 25001);
    CU_ASSERT_EQUAL(rill_store_count(s), 24999);
    CU_ASSERT(has(s, "r00007", NULL));
    int64_t n = 0;
    CU_ASSERT_EQUAL(rill_store_add_i64(s, "c", 1, 5, &n), RILL_OK);
    CU_ASSERT_EQUAL(rill_store_add_i64(s, "c", 1, -7, &n), RILL_OK);
    CU_ASSERT_EQUAL(n, -2);
    CU_ASSERT_EQUAL(rill_store_get_i64(s, "c", 1, &n), RILL_OK);
    CU_ASSERT_EQUAL(n, -2);
    CU_ASSERT_EQUAL(rill_store_put_i64(s, "m", 1, INT64_MAX), RILL_OK);
    CU_ASSERT_EQUAL(rill_store_add_i64(s, "m", 1, 1, &n), RILL_ERR_INVALID);
    CU_ASSERT_EQUAL(rill_store_get_i64(s, "r00001", 6, &n), RILL_ERR_INVALID); /* not 8 bytes */
    rill_store_free(s);
}

/* A seeded random sequence of puts, deletes, commits and aborts against a
 * plain array model; then a full iteration must match the model. */
#define MODEL_KEYS 200
static void contract_random(const char *type)
{
    rill_store_t *s = open_store(type, "random");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    int committed[MODEL_KEYS], pending[MODEL_KEYS]; /* -1 absent, else value */
    for (int i = 0; i < MODEL_KEYS; i++)
        committed[i] = pending[i] = -1;
    unsigned seed = 12345;
    char err[RILL_ERRSTR_SIZE];
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)(seed >> 8) % MODEL_KEYS, op = (int)(seed >> 20) % 20;
        char key[16], val[16];
        int kl = snprintf(key, sizeof key, "k%03d", k);
        if (op < 10) {
            int vl = snprintf(val, sizeof val, "%d", step);
            rill_store_put(s, key, (size_t)kl, val, (size_t)vl);
            pending[k] = step;
        } else if (op < 16) {
            rill_store_delete(s, key, (size_t)kl);
            pending[k] = -2;
        } else if (op < 19) {
            rill_store_commit(s, step, err, sizeof err);
            for (int i = 0; i < MODEL_KEYS; i++)
                if (pending[i] != -1) {
                    committed[i] = pending[i] == -2 ? -1 : pending[i];
                    pending[i] = -1;
                }
        } else {
            rill_store_abort(s);
            for (int i = 0; i < MODEL_KEYS; i++)
                pending[i] = -1;
        }
    }
    /* what a reader sees now: pending over committed */
    char want[8192], got[8192];
    size_t used = 0;
    for (int i = 0; i < MODEL_KEYS; i++) {
        int v = pending[i] == -2 ? -1 : pending[i] != -1 ? pending[i] : committed[i];
        if (v >= 0)
            used += (size_t)snprintf(want + used, sizeof want - used, "k%03d=%d,", i, v);
    }
    collect(rill_store_range(s, NULL, 0, NULL, 0), got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, want);
    rill_store_abort(s);
    used = 0;
    for (int i = 0; i < MODEL_KEYS; i++)
        if (committed[i] >= 0)
            used += (size_t)snprintf(want + used, sizeof want - used, "k%03d=%d,", i, committed[i]);
    collect(rill_store_range(s, NULL, 0, NULL, 0), got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, want);
    rill_store_free(s);
}

static void test_memory_basics(void) { contract_basics("memory"); }
static void test_rocksdb_basics(void) { contract_basics("rocksdb"); }
static void test_memory_iteration(void) { contract_iteration("memory"); }
static void test_rocksdb_iteration(void) { contract_iteration("rocksdb"); }
static void test_memory_log_restore(void) { contract_log_restore_counters("memory"); }
static void test_rocksdb_log_restore(void) { contract_log_restore_counters("rocksdb"); }
static void test_memory_random(void) { contract_random("memory"); }
static void test_rocksdb_random(void) { contract_random("rocksdb"); }

static void test_rocksdb_reopen_sees_committed_only(void)
{
    rill_store_t *s = open_store("rocksdb", "reopen");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    put(s, "kept", "1");
    commit(s, 42);
    put(s, "lost", "2");  /* never committed */
    rill_store_free(s);
    s = open_store("rocksdb", "reopen");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT(has(s, "kept", "1"));
    CU_ASSERT(has(s, "lost", NULL));
    CU_ASSERT_EQUAL(rill_store_offset(s), 42);
    rill_store_free(s);
    char path[256], err[RILL_ERRSTR_SIZE];
    snprintf(path, sizeof path, "%s/rocksdb-reopen", dir);
    CU_ASSERT_EQUAL(rill_store_wipe("rocksdb", path, err, sizeof err), RILL_OK);
    s = open_store("rocksdb", "reopen");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT(has(s, "kept", NULL));
    CU_ASSERT_EQUAL(rill_store_offset(s), -1);
    rill_store_free(s);
}

/* A committed read skips the open transaction's writes: a pending
 * overwrite and a pending delete leave the committed value visible. */
static void contract_committed_read(const char *type)
{
    rill_store_t *s = open_store(type, "committed");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    put(s, "a", "1");
    put(s, "b", "2");
    commit(s, 7);
    put(s, "a", "one");
    put(s, "c", "3");
    CU_ASSERT_EQUAL(rill_store_delete(s, "b", 1), RILL_OK);
    CU_ASSERT(has(s, "a", "one"));
    CU_ASSERT(has(s, "b", NULL));
    void *v = NULL;
    size_t vl = 0;
    CU_ASSERT_EQUAL_FATAL(rill_store_get_committed(s, "a", 1, &v, &vl), RILL_OK);
    CU_ASSERT(vl == 1 && !memcmp(v, "1", 1));
    free(v);
    CU_ASSERT_EQUAL_FATAL(rill_store_get_committed(s, "b", 1, &v, &vl), RILL_OK);
    CU_ASSERT(vl == 1 && !memcmp(v, "2", 1));
    free(v);
    CU_ASSERT_EQUAL(rill_store_get_committed(s, "c", 1, &v, &vl), RILL_ERR_NOTFOUND);
    commit(s, 8);
    CU_ASSERT_EQUAL(rill_store_get_committed(s, "b", 1, &v, &vl), RILL_ERR_NOTFOUND);
    rill_store_close(s);
    CU_ASSERT_EQUAL(rill_store_get_committed(s, "a", 1, &v, &vl), RILL_ERR_STATE);
    rill_store_free(s);
}

static void test_memory_committed_read(void) { contract_committed_read("memory"); }
static void test_rocksdb_committed_read(void) { contract_committed_read("rocksdb"); }

static void test_unknown_type(void)
{
    struct rill_store_opts o = { .type = "leveldb", .path = "/nonexistent" };
    rill_store_t *s = NULL;
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL(rill_store_open("x", &o, &s, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown store type 'leveldb'"));
    rill_store_free(NULL);
}

/* A task directory is created with its parents and locked: a second lock
 * (flock is per open file, so this process counts as another) is refused
 * until the first is released. */
static void test_taskdir_lock(void)
{
    char sd[128], tdir[RILL_STORE_PATH_MAX], again[RILL_STORE_PATH_MAX], err[RILL_ERRSTR_SIZE];
    int fd = -1, fd2 = -1;
    snprintf(sd, sizeof sd, "%s/sd/deeper", dir);
    CU_ASSERT_EQUAL_FATAL(rill_store_taskdir_open(sd, "app", "count", 3, tdir, sizeof tdir, &fd,
                                                  err, sizeof err),
                          RILL_OK);
    char want[256];
    snprintf(want, sizeof want, "%s/app/count-3", sd);
    CU_ASSERT_STRING_EQUAL(tdir, want);
    CU_ASSERT(access(tdir, W_OK) == 0);
    CU_ASSERT_EQUAL(rill_store_taskdir_open(sd, "app", "count", 3, again, sizeof again, &fd2,
                                            err, sizeof err),
                    RILL_ERR_STATE);
    CU_ASSERT_EQUAL(fd2, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "is locked by another process"));
    rill_store_dir_unlock(fd);
    CU_ASSERT_EQUAL(rill_store_taskdir_open(sd, "app", "count", 3, again, sizeof again, &fd2,
                                            err, sizeof err),
                    RILL_OK);
    rill_store_dir_unlock(fd2);
    /* a path that does not fit is an error, not a shorter directory */
    char small[16];
    CU_ASSERT_EQUAL(rill_store_taskdir_open(sd, "app", "count", 3, small, sizeof small, &fd2,
                                            err, sizeof err),
                    RILL_ERR_NOFIT);
    char longp[RILL_STORE_PATH_MAX + 8];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    CU_ASSERT_EQUAL(rill_store_dir_create(longp, err, sizeof err), RILL_ERR_NOFIT);
}

/* The instance id survives a restart; the instance directory is locked. */
static void test_instance_identity(void)
{
    char sd[128], id[RILL_STORE_INSTANCE_ID_SIZE], id2[RILL_STORE_INSTANCE_ID_SIZE];
    char err[RILL_ERRSTR_SIZE];
    int fd = -1, fd2 = -1;
    snprintf(sd, sizeof sd, "%s/inst", dir);
    CU_ASSERT_EQUAL_FATAL(rill_store_instance_open(sd, "app", id, &fd, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(strlen(id), RILL_STORE_INSTANCE_ID_SIZE - 1);
    CU_ASSERT_EQUAL(strspn(id, "0123456789abcdef"), strlen(id));
    CU_ASSERT_EQUAL(rill_store_instance_open(sd, "app", id2, &fd2, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "is in use by another rill instance"));
    rill_store_dir_unlock(fd);
    CU_ASSERT_EQUAL_FATAL(rill_store_instance_open(sd, "app", id2, &fd2, err, sizeof err),
                          RILL_OK);
    CU_ASSERT_STRING_EQUAL(id, id2);
    rill_store_dir_unlock(fd2);
    /* another application in the same state.dir is another instance */
    CU_ASSERT_EQUAL_FATAL(rill_store_instance_open(sd, "other", id2, &fd2, err, sizeof err),
                          RILL_OK);
    CU_ASSERT_STRING_NOT_EQUAL(id, id2);
    rill_store_dir_unlock(fd2);
    /* an id longer than an id is refused, not cut, and the directory is
     * not left locked */
    char path[256];
    snprintf(path, sizeof path, "%s/other/instance.id", sd);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "%s%s\n", id2, "ff");
    fclose(f);
    CU_ASSERT_EQUAL(rill_store_instance_open(sd, "other", id, &fd, err, sizeof err),
                    RILL_ERR_NOFIT);
    CU_ASSERT_EQUAL(fd, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "longer than 16 characters"));
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "%s\n", id2);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(rill_store_instance_open(sd, "other", id, &fd, err, sizeof err),
                          RILL_OK);
    CU_ASSERT_STRING_EQUAL(id, id2);
    rill_store_dir_unlock(fd);
}

/* Two rocksdb stores share one block cache made through the store API. */
static void test_shared_cache(void)
{
    rill_store_cache_t *c = rill_store_cache_new(1u << 20);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rill_store_t *s[2] = { NULL, NULL };
    for (int i = 0; i < 2; i++) {
        char path[256], name[32], err[RILL_ERRSTR_SIZE];
        snprintf(name, sizeof name, "cached%d", i);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        struct rill_store_opts o = { .type = "rocksdb", .path = path, .block_cache = c };
        CU_ASSERT_EQUAL_FATAL(rill_store_open(name, &o, &s[i], err, sizeof err), RILL_OK);
        CU_ASSERT_EQUAL(rill_store_put(s[i], "k", 1, name, strlen(name)), RILL_OK);
        CU_ASSERT_EQUAL(rill_store_commit(s[i], 7, err, sizeof err), RILL_OK);
    }
    for (int i = 0; i < 2; i++) {
        void *v = NULL;
        size_t n = 0;
        CU_ASSERT_EQUAL(rill_store_get(s[i], "k", 1, &v, &n), RILL_OK);
        CU_ASSERT(n == 7 && v && !memcmp(v, i ? "cached1" : "cached0", 7));
        free(v);
        rill_store_free(s[i]);
    }
    rill_store_cache_free(c);
    rill_store_cache_free(NULL);
}

/* The size estimates: exact for a memory store (keys, and the bytes of
 * keys and values, through overwrites and deletes), RocksDB's near the key
 * count, its bytes the live data plus the memtables' memory; pending
 * writes are not counted. */
static void contract_estimate(const char *type, int exact)
{
    rill_store_t *s = open_store(type, "estimate");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    uint64_t keys = 1, bytes = 1;
    rill_store_estimate(s, &keys, &bytes);
    CU_ASSERT_EQUAL(keys, 0);
    char k[32], v[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "key-%04d", i); /* 8 bytes */
        snprintf(v, sizeof v, "value-%04d-%s", i, "012345678901234567890"); /* 32 bytes */
        CU_ASSERT_EQUAL_FATAL(strlen(k) * 10 + strlen(v), 112);
        put(s, k, v);
    }
    rill_store_estimate(s, &keys, &bytes);
    CU_ASSERT_EQUAL(keys, 0); /* pending */
    commit(s, 1);
    put(s, "key-0000", "short"); /* 32 -> 5 bytes */
    CU_ASSERT_EQUAL(rill_store_delete(s, "key-0001", 8), RILL_OK);
    commit(s, 2);
    rill_store_estimate(s, &keys, &bytes);
    if (exact) {
        CU_ASSERT_EQUAL(keys, 999);
        CU_ASSERT_EQUAL(bytes, 999 * 8 + 998 * 32 + 5);
    } else {
        CU_ASSERT(keys >= 900 && keys <= 1100);
        /* the memtables count what they hold in memory: their arena blocks */
        CU_ASSERT(bytes >= 999 * 8 && bytes <= 8 << 20);
    }
    rill_store_free(s);
    rill_store_estimate(NULL, &keys, &bytes);
    CU_ASSERT_EQUAL(keys, 0);
    CU_ASSERT_EQUAL(bytes, 0);
}

static void test_memory_estimate(void) { contract_estimate("memory", 1); }
static void test_rocksdb_estimate(void) { contract_estimate("rocksdb", 0); }

static CU_TestInfo tests[] = {
    { "memory: size estimates are exact", test_memory_estimate },
    { "rocksdb: size estimates are near the truth", test_rocksdb_estimate },
    { "memory: put/get/delete, commit, abort, close twice", test_memory_basics },
    { "rocksdb: put/get/delete, commit, abort, close twice", test_rocksdb_basics },
    { "memory: ordered range and prefix iteration over pending writes", test_memory_iteration },
    { "rocksdb: ordered range and prefix iteration over pending writes", test_rocksdb_iteration },
    { "memory: changelog hook, batched restore, counters", test_memory_log_restore },
    { "rocksdb: changelog hook, batched restore, counters", test_rocksdb_log_restore },
    { "memory: random operations match a model", test_memory_random },
    { "rocksdb: random operations match a model", test_rocksdb_random },
    { "rocksdb: reopen sees committed data only; wipe empties", test_rocksdb_reopen_sees_committed_only },
    { "memory: a committed read skips pending writes", test_memory_committed_read },
    { "rocksdb: a committed read skips pending writes", test_rocksdb_committed_read },
    { "unknown store type is a clear error", test_unknown_type },
    { "task directory: created with its parents, locked once, too long refused", test_taskdir_lock },
    { "instance id: kept across a restart, its directory locked", test_instance_identity },
    { "rocksdb: two stores share a block cache from rill_store_cache_new", test_shared_cache },
    CU_TEST_INFO_NULL,
};
RILL_SUITE_FULL("store", tests, setup, teardown)
