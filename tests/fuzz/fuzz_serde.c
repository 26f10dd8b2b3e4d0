/*
 * fuzz_serde.c - libFuzzer harness of the serde's decoders: every input is a
 * record value handed to rill_serde_decode(), which dispatches on its first
 * bytes (0: Confluent-framed Avro, '{': the JSON order shape), with a fixed
 * record key for the JSON location fallback. Beyond what ASan and UBSan
 * catch (and the memory limits of `make fuzz`, which turn a huge allocation
 * into a failure), it aborts when a failed decode leaves something in the
 * event or returns an unexpected code or no message, when an accepted event
 * does not re-encode, or when re-encoding and decoding again (as Avro, and
 * for orders through JSON too) does not give the same event. Built and run by
 * `make fuzz FUZZ_TARGET=serde`; not part of the unit tier.
 */
#include "schemas/serde.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rill_serde_t *serde;
static rill_buf_t first, second;

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_serde: %s: %s\n", what, err);
    abort();
}

/* At exit, so that the leak check sees only what a decode failed to free. */
static void cleanup(void)
{
    rill_serde_destroy(serde);
    rill_buf_free(&first);
    rill_buf_free(&second);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    (void)argc;
    (void)argv;
    if (rill_serde_new(&serde, err, sizeof err) != RILL_OK)
        die("cannot create the serde", err);
    atexit(cleanup);
    return 0;
}

/* Decodes value into ev, which must succeed, and Avro-encodes ev into out. */
static void redecode(const rill_buf_t *value, rill_event_t *ev, rill_buf_t *out)
{
    char err[512];
    if (rill_serde_decode(serde, NULL, 0, value->p, value->len, ev, err, sizeof err) != RILL_OK)
        die("an encoded event does not decode", err);
    if (rill_serde_encode(serde, ev, out, err, sizeof err) != RILL_OK)
        die("a decoded event does not encode", err);
}

static void same_bytes(const rill_buf_t *a, const rill_buf_t *b, const char *what)
{
    if (a->len != b->len || memcmp(a->p, b->p, a->len))
        die(what, "the events differ");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    rill_event_t ev = { 0 }, again = { 0 };
    err[0] = '\0';
    rill_err_t rc = rill_serde_decode(serde, "loc-fuzz", 8, data, size, &ev, err, sizeof err);
    if (rc != RILL_OK) {
        if (rc != RILL_ERR_INVALID && rc != RILL_ERR_NOMEM)
            die("unexpected error code", rill_err2str(rc));
        if (ev.arena_ || ev.type != 0)
            die("a failed decode left an event", err);
        if (!err[0] || (err[0] >= 'A' && err[0] <= 'Z'))
            die("missing or capitalised message", err);
        return 0;
    }
    /* The decode applied the encoder's checks, so the event encodes; the
     * Avro encoding is a function of every field, so equal bytes mean equal
     * events. */
    if (!rill_event_location(&ev))
        die("a decoded event has no location", rill_event_type_name(ev.type));
    if (rill_serde_encode(serde, &ev, &first, err, sizeof err) != RILL_OK)
        die("a decoded event does not encode", err);
    redecode(&first, &again, &second);
    same_bytes(&first, &second, "avro round trip");
    rill_event_clear(&again);
    if (ev.type == RILL_EVENT_ORDER_PLACED) {
        rill_buf_t json = { 0 };
        if (rill_serde_encode_json(&ev, &json, err, sizeof err) == RILL_OK) {
            redecode(&json, &again, &second);
            same_bytes(&first, &second, "json round trip");
            rill_event_clear(&again);
        } else if (!strstr(err, "exceeds the limit")) {
            die("a decoded order does not encode as json", err);
        }
        rill_buf_free(&json);
    }
    rill_event_clear(&ev);
    return 0;
}
