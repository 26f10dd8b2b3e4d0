/*
 * test_plugin.c - the processor plugin ABI as a third party meets it: the
 * loader takes a library built for any version from V1 to this one and
 * reads only what that version promises (tests/unit/ext/probe_v1.c is built
 * against a frozen copy of the V1 headers), and refuses one built for a
 * version it does not run; the context refuses a call outside the callbacks
 * processor.h allows it in (tests/unit/ext/phases.c tries them all), and
 * rill_ctx_log() writes rill's log line; and the example external processor
 * (processors/examples/uppercase) runs from a YAML file. The test plugins are
 * in RILL_TEST_SO_DIR, the example in RILL_EXAMPLE_UPPERCASE_SO (the Makefile
 * sets both).
 */
#include "tests/lib/suite.h"
#include "tests/lib/drive.h"
#include "topology/base/log.h"
#include "state/store.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
                     "v1 times=1 scale=0.5 upper=0 unknown-output=notfound headers=0 last=-: hello");
}

static void test_v1_yaml_overrides_reach_the_plugin(void)
{
    check_one_output("probe_v1", "prefix: old, times: 3, scale: 2.25, upper: true", "hi",
                     "old times=3 scale=2.25 upper=1 unknown-output=notfound headers=0 last=-: hi");
    check_one_output("probe_v1", "upper: true", "hi",
                     "v1 times=1 scale=0.5 upper=1 unknown-output=notfound headers=0 last=-: hi");
}

/* Pipes "hi" with two headers into a one-processor topology of library
 * name and checks the one output. */
static void check_with_headers(const char *name, const char *config, const char *want)
{
    struct rill_topology *t = load_ext(name, config);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const rill_header_t h[2] = { { "a", "1", 1 }, { "trace", "t-1", 3 } };
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 0, "k", 1, "hi", 2, h, 2, 1, NULL, 0), RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_count(d, "out"), 1);
    CU_ASSERT(value_is(rill_driver_get(d, "out", 0), want));
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_v1_gets_the_header_array(void)
{
    /* the runtime reads headers on demand; a V1 plugin still gets them all
     * as the array it was built to read */
    check_with_headers("probe_v1", "",
                       "v1 times=1 scale=0.5 upper=0 unknown-output=notfound headers=2 last=trace: hi");
}

static void test_v4_reads_headers_on_demand(void)
{
    check_with_headers("probe", "report_headers: true",
                       "array=0 ptr=null count=2 last=trace=t-1 found=1");
}

static void test_stale_header_src_is_not_read(void)
{
    /* what a pre-V4 plugin's copy of a record without headers may carry
     * past its end: never followed */
    rill_record_t r;
    memset(&r, 0, sizeof r);
    r.header_src = (const rill_header_src_t *)(uintptr_t)0x10;
    const void *v = NULL;
    size_t len = 0;
    const char *name = NULL;
    CU_ASSERT_EQUAL(rill_record_header(&r, "a", &v, &len), 0);
    CU_ASSERT_EQUAL(rill_record_header_count(&r), 0);
    CU_ASSERT_EQUAL(rill_record_header_at(&r, 0, &name, &v, &len), 0);
    /* a record with its array reads the array */
    const rill_header_t h[1] = { { "a", "1", 1 } };
    r.headers = h;
    r.header_cnt = 1;
    CU_ASSERT_EQUAL(rill_record_header(&r, "a", &v, &len), 1);
    CU_ASSERT_EQUAL(rill_record_header_count(&r), 1);
}

static void test_v1_rows_are_converted(void)
{
    struct rill_topology *t = load_ext("probe_v1", "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    const struct rill_processor_def *def = NULL;
    struct rill_loaded *lib = NULL;
    char err[RILL_ERRSTR_SIZE] = "";
    struct rill_node_spec spec;
    rill_node_spec_of(&t->procs[0], &spec);
    CU_ASSERT_EQUAL_FATAL(rill_node_resolve(&spec, &def, &lib, err, sizeof err), RILL_OK);
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

/* ---- stderr, where rill's log goes, captured ------------------------------ */

struct capture {
    FILE *tmp;
    int saved;
};

static int capture_begin(struct capture *c)
{
    fflush(stderr);
    c->tmp = tmpfile();
    if (!c->tmp)
        return -1;
    c->saved = dup(2);
    dup2(fileno(c->tmp), 2);
    return 0;
}

/* Restores stderr and reads what was written into out (NUL-terminated). */
static void capture_end(struct capture *c, char *out, size_t size)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    rewind(c->tmp);
    size_t n = fread(out, 1, size - 1, c->tmp);
    out[n] = '\0';
    fclose(c->tmp);
}

static int has(const char *text, const char *want)
{
    if (strstr(text, want))
        return 1;
    fprintf(stderr, "missing: %s\n", want);
    return 0;
}

/* ---- which call is legal where ----------------------------------------------- */

static void test_calls_outside_their_phase_are_refused(void)
{
    char so[512], yaml[1024], log[16384];
    so_path("phases", so, sizeof so);
    /* our own handle keeps the library (and phases_close_report) loaded
     * after the driver has closed the instance and its handle */
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    const char *close_report = dlsym(h, "phases_close_report");
    CU_ASSERT_PTR_NOT_NULL_FATAL(close_report);
    snprintf(yaml, sizeof yaml,
             "application.id: a\n"
             "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
             "processors:\n"
             "  x: {type: phases, library: '%s', inputs: [in], outputs: [out], stores: [s]}\n",
             so);
    struct rill_topology *t = it_load(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_log_set_level(RILL_LOG_INFO);
    struct capture c;
    CU_ASSERT_EQUAL_FATAL(capture_begin(&c), 0);
    rill_err_t e1 = rill_driver_pipe_str(d, "in", 0, NULL, "a", 10000);
    rill_err_t e2 = rill_driver_pipe_str(d, "in", 0, NULL, "b", 11000); /* punctuates */
    size_t nout = rill_driver_count(d, "out");
    const char *want[] = {
        /* the binary exports the plugin API only (processors/plugin.exports) */
        "init: forward=invalid store=ok schedule=ok exports=found/hidden",
        "a",
        "process: forward=ok store=ok schedule=invalid name=x",
        "b",
        "process: forward=ok store=ok schedule=invalid name=x",
        "punctuate: store=ok schedule=invalid",
    };
    int same[6];
    for (size_t i = 0; i < 6; i++) {
        const struct rill_captured *r = rill_driver_get(d, "out", i);
        same[i] = r && r->rec.value_len == strlen(want[i]) &&
                  !memcmp(r->rec.value, want[i], strlen(want[i]));
    }
    rill_driver_free(d); /* close runs here */
    capture_end(&c, log, sizeof log);
    CU_ASSERT_EQUAL(e1, RILL_OK);
    CU_ASSERT_EQUAL(e2, RILL_OK);
    CU_ASSERT_EQUAL(nout, 6);
    for (size_t i = 0; i < 6; i++)
        CU_ASSERT(same[i]);
    CU_ASSERT_STRING_EQUAL(close_report, "close: forward=invalid store=null store_by_name=null "
                                         "schedule=invalid name=x partition=0");
    /* one warning per refused call, naming the processor and the call */
    CU_ASSERT(has(log, "level=warn comp=processor msg=\"rill_ctx_forward is not allowed in "
                       "init: refused\" processor=x partition=0 call=rill_ctx_forward "
                       "phase=init\n"));
    CU_ASSERT(has(log, "msg=\"rill_ctx_reject is not allowed in init: refused\""));
    CU_ASSERT(has(log, "msg=\"rill_ctx_schedule is not allowed in process: refused\""));
    CU_ASSERT(has(log, "msg=\"rill_ctx_reject is not allowed in punctuate: refused\""));
    CU_ASSERT(has(log, "msg=\"rill_ctx_schedule is not allowed in punctuate: refused\""));
    CU_ASSERT(has(log, "msg=\"rill_ctx_forward is not allowed in close: refused\""));
    CU_ASSERT(has(log, "msg=\"rill_ctx_store_at is not allowed in close: refused\""));
    CU_ASSERT(has(log, "msg=\"rill_ctx_store is not allowed in close: refused\""));
    CU_ASSERT(has(log, "msg=\"rill_ctx_schedule is not allowed in close: refused\""));
    /* and the legal calls logged nothing */
    CU_ASSERT_PTR_NULL(strstr(log, "in process: refused\" processor=x partition=0 "
                                   "call=rill_ctx_forward"));
    CU_ASSERT_PTR_NULL(strstr(log, "rill_ctx_store_at is not allowed in init"));
    /* the plugin's own lines, through rill_ctx_log */
    CU_ASSERT(has(log, "level=info comp=processor msg=\"phases started\" answer=42 "
                       "processor=x partition=0\n"));
    CU_ASSERT(has(log, "level=warn comp=processor msg=\"phases closing\" processor=x "
                       "partition=0\n"));
    rill_topology_free(t);
    dlclose(h);
}

/* A plugin that calls a runtime internal does not load: the binary exports
 * the plugin API only. */
static void test_internal_call_does_not_load(void)
{
    check_refused("internal", "", "undefined symbol: rill_topology_load");
}

/* rill_ctx_log maps each of its levels onto the logger's, and its filter. */
static void test_ctx_log_levels(void)
{
    struct rill_topology *t = it_load("application.id: a\n"
                                      "topics: {in: {partitions: 3}, out: {partitions: 3}}\n"
                                      "processors:\n"
                                      "  copy: {type: passthrough, inputs: [in], outputs: [out]}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    char err[RILL_ERRSTR_SIZE], log[4096];
    struct rill_node_spec spec;
    rill_node_spec_of(&t->procs[0], &spec);
    rill_node_t *n = rill_node_new(&spec, 2, NULL, NULL, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    struct capture c;
    CU_ASSERT_EQUAL_FATAL(capture_begin(&c), 0);
    rill_log_set_level(RILL_LOG_DEBUG);
    rill_ctx_log(n, RILL_CTX_LOG_DEBUG, "d%d", 1);
    rill_ctx_log(n, RILL_CTX_LOG_INFO, "i|k=v");
    rill_ctx_log(n, RILL_CTX_LOG_WARN, "w");
    rill_ctx_log(n, RILL_CTX_LOG_ERROR, "e \"quoted\"");
    rill_log_set_level(RILL_LOG_WARN);
    rill_ctx_log(n, RILL_CTX_LOG_INFO, "filtered");
    rill_log_set_level(RILL_LOG_INFO);
    capture_end(&c, log, sizeof log);
    CU_ASSERT(has(log, "level=debug comp=processor msg=\"d1\" processor=copy partition=2\n"));
    CU_ASSERT(has(log, "level=info comp=processor msg=\"i\" k=v processor=copy partition=2\n"));
    CU_ASSERT(has(log, "level=warn comp=processor msg=\"w\" processor=copy partition=2\n"));
    CU_ASSERT(has(log, "level=error comp=processor msg=\"e 'quoted'\" processor=copy "
                       "partition=2\n"));
    CU_ASSERT_PTR_NULL(strstr(log, "filtered"));
    rill_node_free(n);
    rill_topology_free(t);
}

/* ---- the example processor, from YAML ----------------------------------------- */


static void test_example_uppercase_from_yaml(void)
{
    const char *slash = strrchr(__FILE__, '/');
    char path[512], err[RILL_ERRSTR_SIZE], buf[64];
    snprintf(path, sizeof path, "%.*s../data/yaml/good/example_uppercase.yaml",
             slash ? (int)(slash - __FILE__ + 1) : 0, __FILE__);
    /* the library: line names ${RILL_EXAMPLE_UPPERCASE_SO}: make sets it */
    CU_ASSERT_PTR_NOT_NULL_FATAL(getenv("RILL_EXAMPLE_UPPERCASE_SO"));
    struct rill_topology *t = NULL;
    CU_ASSERT_EQUAL_FATAL(rill_topology_load(path, &t, err, sizeof err), RILL_OK);
    CU_ASSERT_STRING_EQUAL(t->procs[0].library, getenv("RILL_EXAMPLE_UPPERCASE_SO"));
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_header_t trace = { "trace", "t-1", 3 };
    struct capture cap;
    char log[4096];
    rill_log_set_level(RILL_LOG_INFO);
    CU_ASSERT_EQUAL_FATAL(capture_begin(&cap), 0);
    rill_err_t e = rill_driver_pipe(d, "words", 1, "k1", 2, "Hello, rill 42!", 15, &trace, 1,
                                    100, err, sizeof err);
    capture_end(&cap, log, sizeof log);
    CU_ASSERT_EQUAL(e, RILL_OK);
    /* the instance of partition 1 started, and said so through rill_ctx_log */
    CU_ASSERT(has(log, "level=info comp=processor msg=\"uppercase started\" max_bytes=16 "
                       "tag=example processor=shout partition=1\n"));
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "words", 1, "k1", 2, NULL, 0, NULL, 0, 101, err,
                                     sizeof err),
                    RILL_OK);
    /* 17 bytes: over max_bytes 16 of the YAML (the default is 65536) */
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "words", 1, "k2", 2, "seventeen bytes!!", 17, NULL, 0,
                                     102, err, sizeof err),
                    RILL_OK);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "shouted"), 2);
    const struct rill_captured *c = rill_driver_get(d, "shouted", 0);
    CU_ASSERT(value_is(c, "HELLO, RILL 42!"));
    CU_ASSERT(c->rec.key_len == 2 && !memcmp(c->rec.key, "k1", 2));
    CU_ASSERT_EQUAL(c->rec.timestamp, 100);
    CU_ASSERT_EQUAL(c->rec.header_cnt, 3); /* and the runtime's traceparent */
    CU_ASSERT_STRING_EQUAL(it_header(c, "trace", buf, sizeof buf), "t-1");
    CU_ASSERT_STRING_EQUAL(it_header(c, "uppercase.tag", buf, sizeof buf), "example");
    c = rill_driver_get(d, "shouted", 1);
    CU_ASSERT_PTR_NULL(c->rec.value); /* a tombstone stays one */
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "words.dlq"), 1);
    c = rill_driver_get(d, "words.dlq", 0);
    CU_ASSERT(value_is(c, "seventeen bytes!!"));
    const char *why = it_header(c, "rill.error.message", buf, sizeof buf);
    CU_ASSERT(why && !strcmp(why, "value of 17 bytes is longer than max_bytes 16"));
    int64_t n = -1;
    CU_ASSERT_EQUAL(rill_store_get_i64(rill_driver_store(d, "shout", "shouted_count", 1),
                                       "records", 7, &n),
                    RILL_OK);
    CU_ASSERT_EQUAL(n, 1); /* upper-cased: one; the tombstone and the reject do not count */
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_example_uppercase_range(void)
{
    const char *so = getenv("RILL_EXAMPLE_UPPERCASE_SO");
    CU_ASSERT_PTR_NOT_NULL_FATAL(so);
    const char *values[] = { "0", "1048577" };
    const char *wants[] = { "config key 'max_bytes' is below its minimum 1",
                            "config key 'max_bytes' is above its maximum 1048576" };
    for (size_t i = 0; i < 2; i++) {
        char yaml[1024], err[RILL_ERRSTR_SIZE] = "";
        snprintf(yaml, sizeof yaml,
                 "application.id: a\n"
                 "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
                 "processors:\n"
                 "  up: {type: uppercase, library: '%s', inputs: [in], outputs: [out],"
                 " config: {max_bytes: %s}}\n",
                 so, values[i]);
        struct rill_topology *t = it_load(yaml);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        rill_driver_t *d = it_driver(t);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        CU_ASSERT_EQUAL(rill_driver_preflight(d, err, sizeof err), RILL_ERR_CONFIG);
        CU_ASSERT(has(err, wants[i]));
        rill_driver_free(d);
        rill_topology_free(t);
    }
}

static CU_TestInfo tests[] = {
    { "a library of this ABI loads and gets its config", test_current_version_loads_with_config },
    { "a V1 library: its defaults reach it", test_v1_defaults_reach_the_plugin },
    { "a V1 library: the YAML's values reach it", test_v1_yaml_overrides_reach_the_plugin },
    { "a V1 library gets every header as the array V1 promised", test_v1_gets_the_header_array },
    { "a V4 library reads headers on demand: no array", test_v4_reads_headers_on_demand },
    { "a header source the runtime did not hand over is never read",
      test_stale_header_src_is_not_read },
    { "a V1 library's config rows become V2 rows", test_v1_rows_are_converted },
    { "a V1 library: an unknown config key is refused", test_v1_unknown_key_is_refused },
    { "a library of ABI 99 or 0 is refused, saying which", test_newer_or_zero_version_is_refused },
    { "a context call outside its callbacks is refused and logged",
      test_calls_outside_their_phase_are_refused },
    { "rill_ctx_log writes rill's log line at each level", test_ctx_log_levels },
    { "a library calling a runtime internal does not load", test_internal_call_does_not_load },
    { "the example uppercase processor runs from YAML", test_example_uppercase_from_yaml },
    { "the example uppercase processor refuses max_bytes out of range",
      test_example_uppercase_range },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("plugin", tests)
