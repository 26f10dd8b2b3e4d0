/*
 * fuzz_config.c - libFuzzer harness of the topology loader and graph checker:
 * every input is a YAML file handed to rill_topology_load_buf(), then, when it
 * loads, to rill_topology_check() and, for each built-in processor and each
 * sink, to rill_conf_fill(). Beyond what ASan and UBSan catch, it aborts when
 * an error message lacks its "fuzz.yaml:LINE:COL: " prefix, when a
 * substituted value leaks into a message, or when a processor or sink that
 * checks fails to fill. Each
 * input is loaded and checked a second time leniently (rill validate's
 * offline mode), where every note must have its position and leak nothing.
 * Built and run by `make fuzz`; not part of the unit tier.
 */
#include "topology/model/check.h"
#include "processors/registry.h"
#include "topology/model/config.h"
#include "processors/processor.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "fuzz-secret-value"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Variables the seed corpus uses, so that substitution is reached. */
    setenv("RILL_TEST_APP", "orders", 1);
    setenv("RILL_TEST_HOST", "kafka1", 1);
    setenv("RILL_TEST_PORT", "9092", 1);
    setenv("RILL_TEST_EMPTY", "", 1);
    setenv("RILL_TEST_SECRET", SECRET, 1);
    return 0;
}

/* "fuzz.yaml:" digits ":" digits ": " and some text. */
static int well_formed(const char *err)
{
    const char *p = err + strlen("fuzz.yaml:");
    if (strncmp(err, "fuzz.yaml:", strlen("fuzz.yaml:")))
        return 0;
    for (int part = 0; part < 2; part++) {
        if (*p < '1' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p++ != ':')
            return 0;
    }
    return *p == ' ' && p[1] != '\0';
}

static int contains(const uint8_t *data, size_t size, const char *s)
{
    return memmem(data, size, s, strlen(s)) != NULL;
}

/* A loader message may show the secret only when the input spells it out. A
 * checker message quotes names (topics, processors, stores, types), which may
 * come from substitution: there, a name built from ${RILL_TEST_SECRET} may
 * show, but a value never reaches the checker's messages. */
static void expect_message(const char *err, const uint8_t *data, size_t size, int checker)
{
    int leak = strstr(err, SECRET) && !contains(data, size, SECRET) &&
               !(checker && contains(data, size, "RILL_TEST_SECRET"));
    if (!well_formed(err) || leak) {
        fprintf(stderr, "bad error message: '%s'\n", err);
        abort();
    }
}

struct input {
    const uint8_t *data;
    size_t size;
};

static void expect_note(void *opaque, const char *note)
{
    const struct input *in = opaque;
    if (!strstr(note, ": note: "))
        abort();
    expect_message(note, in->data, in->size, 1);
}

/* rill validate's lenient load and check: notes instead of errors for what
 * cannot be resolved, and no crash on the placeholders. */
static void lenient(const uint8_t *data, size_t size)
{
    char err[RILL_ERRSTR_SIZE];
    struct rill_topology *t = NULL;
    struct input in = { data, size };
    struct rill_load_opts opts = { .lenient_substitution = 1, .note = expect_note,
                                   .note_opaque = &in };
    if (rill_topology_load_buf_opts("fuzz.yaml", (const char *)data, size, &opts, &t, err,
                                    sizeof err) != RILL_OK) {
        if (t)
            abort();
        expect_message(err, data, size, 0);
        return;
    }
    if (rill_topology_check_opts(t, rill_proc_builtins, rill_sink_builtins, &opts, err,
                                 sizeof err) != RILL_OK)
        expect_message(err, data, size, 1);
    rill_topology_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct rill_topology *t = NULL;
    lenient(data, size);
    if (rill_topology_load_buf("fuzz.yaml", (const char *)data, size, &t, err, sizeof err) !=
        RILL_OK) {
        if (t)
            abort();
        expect_message(err, data, size, 0);
        return 0;
    }
    if (rill_topology_check(t, rill_proc_builtins, rill_sink_builtins, err, sizeof err) !=
        RILL_OK) {
        expect_message(err, data, size, 1);
    } else {
        for (size_t i = 0; i < t->nprocs; i++) {
            const struct rill_processor_def *def =
                t->procs[i].library ? NULL : rill_proc_lookup(t->procs[i].type);
            if (!def || !def->conf_size)
                continue;
            void *conf = calloc(1, def->conf_size);
            if (!conf)
                continue;
            /* The checker accepted it, so filling must succeed. */
            if (rill_conf_fill(def->conf, &t->procs[i].config, conf, err, sizeof err) != RILL_OK)
                abort();
            rill_conf_release(def->conf, conf);
            free(conf);
        }
        for (size_t i = 0; i < t->nsinks; i++) {
            const struct rill_sink_def *def = rill_sink_lookup(t->sinks[i].type);
            if (!def)
                abort(); /* the checker knows every sink type */
            if (!def->conf_size)
                continue;
            void *conf = calloc(1, def->conf_size);
            if (!conf)
                continue;
            if (rill_conf_fill(def->conf, &t->sinks[i].config, conf, err, sizeof err) != RILL_OK)
                abort();
            rill_conf_release(def->conf, conf);
            free(conf);
        }
    }
    rill_topology_free(t);
    return 0;
}
