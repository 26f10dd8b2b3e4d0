/*
 * test_plugin.c - the processor plugin ABI as a third party meets it: the
 * loader takes a library built for any version from V1 to this one and
 * reads only what that version promises (tests/unit/ext/probe_v1.c is built
 * against a frozen copy of the V1 headers), and refuses one built for a
 * version it does not run. The test plugins are in RILL_TEST_SO_DIR
 * (the Makefile sets it).
 */
#include "tests/lib/suite.h"
#include "tests/lib/drive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The path of test plugin name (e.g. "probe_v1") into buf. */
static const char *so_path(const char *name, char *buf, size_t sz)
{
    const char *dir = getenv("RILL_TEST_SO_DIR");
    snprintf(buf, sz, "%s/%s.so", dir ? dir : "build/release/tests", name);
    return buf;
}

/* A topology with one external processor x of library name, reading `in`
 * and writing `out`, with config (YAML flow-map contents, may be empty). */
static struct rill_topology *load_ext(const char *name, const char *config)
{
    char so[512], yaml[2048];
    snprintf(yaml, sizeof yaml,
             "application.id: a\n"
             "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
             "processors:\n"
             "  x: {type: %s, library: '%s', inputs: [in], outputs: [out], config: {%s}}\n",
             name, so_path(name, so, sizeof so), config);
    return it_load(yaml);
}

static int value_is(const struct rill_captured *c, const char *v)
{
    if (!c || c->rec.value_len != strlen(v) || memcmp(c->rec.value, v, c->rec.value_len)) {
        fprintf(stderr, "got '%.*s', want '%s'\n", c ? (int)c->rec.value_len : 0,
                c ? (const char *)c->rec.value : "", v);
        return 0;
    }
    return 1;
}

/* Pipes value into `in` of a topology of one external processor with the
 * given config, and checks the one record it forwards to `out`. */
static void check_one_output(const char *name, const char *config, const char *value,
                             const char *want)
{
    struct rill_topology *t = load_ext(name, config);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char err[RILL_ERRSTR_SIZE] = "";
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 0, "k", 1, value, strlen(value), NULL, 0, 1, err,
                                     sizeof err),
                    RILL_OK);
    if (err[0])
        fprintf(stderr, "pipe: %s\n", err);
    CU_ASSERT_EQUAL(rill_driver_count(d, "out"), 1);
    CU_ASSERT(value_is(rill_driver_get(d, "out", 0), want));
    rill_driver_free(d);
    rill_topology_free(t);
}

/* A library the driver must refuse: the error names it and says why. */
static void check_refused(const char *name, const char *config, const char *want)
{
    struct rill_topology *t = load_ext(name, config);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char err[RILL_ERRSTR_SIZE] = "";
    CU_ASSERT_EQUAL(rill_driver_preflight(d, err, sizeof err), RILL_ERR_CONFIG);
    if (!strstr(err, want))
        fprintf(stderr, "error '%s' does not say '%s'\n", err, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    rill_driver_free(d);
    rill_topology_free(t);
}

/* ---- versions --------------------------------------------------------------- */

static void test_current_version_loads_with_config(void)
{
    /* probe forwards first and refuses `retries` times: the YAML's value reaches it */
    struct rill_topology *t = load_ext("probe", "retries: 1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "in", 0, NULL, "r", 1), RILL_ERR_RETRY);
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "in", 0, NULL, "r", 1), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "out"), 1);
    CU_ASSERT(value_is(rill_driver_get(d, "out", 0), "r"));
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_v1_defaults_reach_the_plugin(void)
{
    /* also: rill_ctx_forward's RILL_ERR_NOTFOUND is the number V1 knew */
    check_one_output("probe_v1", "", "hello",
                     "v1 times=1 scale=0.5 upper=0 unknown-output=notfound: hello");
}

static void test_v1_yaml_overrides_reach_the_plugin(void)
{
    check_one_output("probe_v1", "prefix: old, times: 3, scale: 2.25, upper: true", "hi",
                     "old times=3 scale=2.25 upper=1 unknown-output=notfound: hi");
    check_one_output("probe_v1", "upper: true", "hi",
                     "v1 times=1 scale=0.5 upper=1 unknown-output=notfound: hi");
}

static void test_v1_rows_are_converted(void)
{
    struct rill_topology *t = load_ext("probe_v1", "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    const struct rill_processor_def *def = NULL;
    struct rill_loaded *lib = NULL;
    char err[RILL_ERRSTR_SIZE] = "";
    CU_ASSERT_EQUAL_FATAL(rill_node_resolve(&t->procs[0], &def, &lib, err, sizeof err), RILL_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
    CU_ASSERT_EQUAL(def->version, 1);
    CU_ASSERT_STRING_EQUAL(def->name, "probe_v1");
    static const char *const keys[] = { "prefix", "times", "scale", "upper" };
    static const char *const defaults[] = { "v1", "1", "0.5", "false" };
    static const rill_conf_type_t types[] = { RILL_CONF_STR, RILL_CONF_INT, RILL_CONF_DOUBLE,
                                              RILL_CONF_BOOL };
    size_t n = 0;
    for (const struct rill_conf_def *c = def->conf; c && c->key; c++, n++) {
        CU_ASSERT_FATAL(n < 4);
        CU_ASSERT_STRING_EQUAL(c->key, keys[n]);
        CU_ASSERT_STRING_EQUAL(c->def, defaults[n]);
        CU_ASSERT_EQUAL(c->type, types[n]);
        CU_ASSERT_PTR_NULL(c->min);
        CU_ASSERT_PTR_NULL(c->max);
    }
    CU_ASSERT_EQUAL(n, 4);
    rill_node_unload(lib);
    rill_topology_free(t);
}

static void test_v1_unknown_key_is_refused(void)
{
    check_refused("probe_v1", "min: 1", "unknown config key 'min'");
}

static void test_newer_or_zero_version_is_refused(void)
{
    char so[512], want[700];
    snprintf(want, sizeof want, "'%s' is built for processor ABI 99; this rill runs 1..%d",
             so_path("probe_abi99", so, sizeof so), RILL_PROCESSOR_VERSION);
    check_refused("probe_abi99", "", want);
    snprintf(want, sizeof want, "'%s' is built for processor ABI 0; this rill runs 1..%d",
             so_path("probe_abi0", so, sizeof so), RILL_PROCESSOR_VERSION);
    check_refused("probe_abi0", "", want);
}

static CU_TestInfo tests[] = {
    { "a library of this ABI loads and gets its config", test_current_version_loads_with_config },
    { "a V1 library: its defaults reach it", test_v1_defaults_reach_the_plugin },
    { "a V1 library: the YAML's values reach it", test_v1_yaml_overrides_reach_the_plugin },
    { "a V1 library's config rows become V2 rows", test_v1_rows_are_converted },
    { "a V1 library: an unknown config key is refused", test_v1_unknown_key_is_refused },
    { "a library of ABI 99 or 0 is refused, saying which", test_newer_or_zero_version_is_refused },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("plugin", tests)
