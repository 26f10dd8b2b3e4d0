/*
 * json.c - `make bench-json`: rill's bounded JSON reader (topology/base/
 * json.h) against jansson (Debian's libjansson) on the two record-field
 * paths the reader serves, side by side in one run, on the same order
 * records (rill generate's JSON shape, 10,000 distinct orders):
 *
 *   field  what filter, route, count, sum and latest do per record
 *          (rill_record_field(): one rill_json_get() per selector, each
 *          validating the whole value): the group key customerId and the
 *          summed total, copied out as text. jansson: json_loadb(), two
 *          json_object_get(), the strings copied out, json_decref().
 *   order  what the JSON serde reads of an order (serde_json.c): the whole
 *          value validated once, then every member of the order and of each
 *          line, strings copied out, numbers as text. jansson: json_loadb()
 *          and the same members through json_object_get() and the arrays,
 *          numbers printed back to text as the serde needs them exact.
 *
 * Each contender runs BENCH_JSON_ROUNDS (default 7) rounds of
 * BENCH_JSON_RECORDS (default 200,000) records, alternating with the other;
 * the figure is the median round, in ns per record of process CPU time, and
 * the ratio is jansson / rill (above 1: rill is faster). Every round checks
 * that both contenders extracted the same bytes (a checksum), so neither
 * can skip work. Writes bench/results/json.md. Not a test: nothing asserts;
 * jansson is linked into this bench only.
 */
#include "processors/orders/generate.h"
#include "tests/lib/util.h"
#include "topology/base/json.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DISTINCT 10000

struct doc {
    char *p;
    size_t len;
};

static uint64_t sum_bytes(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h;
}

/* ---- field: two selectors, as rill_record_field() does ---- */

static uint64_t field_rill(const struct doc *d)
{
    char a[64], b[64];
    size_t al = 0, bl = 0;
    if (rill_json_get(d->p, d->len, "customerId", a, sizeof a, &al) != RILL_JSON_FOUND ||
        rill_json_get(d->p, d->len, "total", b, sizeof b, &bl) != RILL_JSON_FOUND)
        return 0;
    return sum_bytes(sum_bytes(1, a, al), b, bl);
}

static uint64_t field_jansson(const struct doc *d)
{
    json_error_t e;
    json_t *root = json_loadb(d->p, d->len, 0, &e);
    uint64_t h = 0;
    if (root) {
        json_t *a = json_object_get(root, "customerId"), *b = json_object_get(root, "total");
        char x[64], y[64];
        if (json_is_string(a) && json_is_string(b) && json_string_length(a) < sizeof x &&
            json_string_length(b) < sizeof y) {
            size_t al = json_string_length(a), bl = json_string_length(b);
            memcpy(x, json_string_value(a), al + 1);
            memcpy(y, json_string_value(b), bl + 1);
            h = sum_bytes(sum_bytes(1, x, al), y, bl);
        }
        json_decref(root);
    }
    return h;
}

/* ---- order: every member, as the JSON serde reads them ---- */

static const char *const order_keys[] = { "orderId", "customerId", "locationId", "status",
                                          "timestamp", "total", "currency", "correlationId" };
static const char *const item_keys[] = { "productId", "category", "quantity", "unitPrice" };
#define NKEYS(a) (sizeof a / sizeof a[0])

/* A scalar's text as the serde takes it: a string unescaped, a number
 * verbatim. */
static uint64_t rill_scalar(uint64_t h, const rill_json_val_t *v)
{
    char buf[1100];
    size_t n = 0;
    if (v->type == RILL_JSON_STRING) {
        if (rill_json_string(v, buf, sizeof buf, &n) != RILL_JSON_FOUND)
            return 0;
        return sum_bytes(h, buf, n);
    }
    return sum_bytes(h, v->p, v->len);
}

/* The members of obj named in names, in names' order, into vals. */
static void rill_members(const rill_json_val_t *obj, const char *const *names, size_t n,
                         rill_json_val_t *vals)
{
    rill_json_val_t k, v;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        vals[i].p = NULL;
    while (rill_json_next(obj, &pos, &k, &v)) {
        char key[32];
        size_t klen;
        if (rill_json_string(&k, key, sizeof key, &klen) != RILL_JSON_FOUND)
            continue;
        for (size_t i = 0; i < n; i++)
            if (klen == strlen(names[i]) && !memcmp(key, names[i], klen))
                vals[i] = v;
    }
}

static uint64_t order_rill(const struct doc *d)
{
    rill_json_val_t root, vals[NKEYS(order_keys)], items = { 0 }, k, it;
    if (rill_json_parse(d->p, d->len, &root, NULL) != RILL_JSON_FOUND)
        return 0;
    rill_members(&root, order_keys, NKEYS(order_keys), vals);
    uint64_t h = 1;
    for (size_t i = 0; i < NKEYS(order_keys); i++)
        h = vals[i].p ? rill_scalar(h, &vals[i]) : 0;
    size_t pos = 0;
    while (rill_json_next(&root, &pos, &k, &it))
        if (k.len == 7 && !memcmp(k.p, "\"items\"", 7))
            items = it;
    pos = 0;
    while (rill_json_next(&items, &pos, NULL, &it)) {
        rill_json_val_t iv[NKEYS(item_keys)];
        rill_members(&it, item_keys, NKEYS(item_keys), iv);
        for (size_t i = 0; i < NKEYS(item_keys); i++)
            h = iv[i].p ? rill_scalar(h, &iv[i]) : 0;
    }
    return h;
}

/* A jansson scalar's text: strings as they are, integers printed back. */
static uint64_t jansson_scalar(uint64_t h, const json_t *v)
{
    char buf[32];
    if (json_is_string(v))
        return sum_bytes(h, json_string_value(v), json_string_length(v));
    if (json_is_integer(v)) {
        int n = snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return sum_bytes(h, buf, (size_t)n);
    }
    return 0;
}

static uint64_t order_jansson(const struct doc *d)
{
    json_error_t e;
    json_t *root = json_loadb(d->p, d->len, 0, &e);
    if (!root)
        return 0;
    uint64_t h = 1;
    for (size_t i = 0; i < NKEYS(order_keys); i++) {
        json_t *v = json_object_get(root, order_keys[i]);
        h = v ? jansson_scalar(h, v) : 0;
    }
    json_t *items = json_object_get(root, "items");
    for (size_t j = 0; j < json_array_size(items); j++) {
        json_t *it = json_array_get(items, j);
        for (size_t i = 0; i < NKEYS(item_keys); i++) {
            json_t *v = json_object_get(it, item_keys[i]);
            h = v ? jansson_scalar(h, v) : 0;
        }
    }
    json_decref(root);
    return h;
}

/* ---- the run ---- */

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef uint64_t (*contender_fn)(const struct doc *);

/* One round: ns per record, the checksum in *sum. */
static double round_of(contender_fn fn, const struct doc *docs, long records, uint64_t *sum)
{
    uint64_t h = 0;
    double t0 = cpu_ns();
    for (long i = 0; i < records; i++)
        h += fn(&docs[i % DISTINCT]);
    *sum = h;
    return (cpu_ns() - t0) / (double)records;
}

struct pair {
    const char *name;
    contender_fn rill, jansson;
    double rill_ns, jansson_ns;
};

int main(void)
{
    long records = it_getenv_long("BENCH_JSON_RECORDS", 200000);
    long rounds = it_getenv_long("BENCH_JSON_ROUNDS", 7);
    if (records < 1 || rounds < 1 || rounds > 101)
        return fprintf(stderr, "bench: BENCH_JSON_RECORDS >= 1, BENCH_JSON_ROUNDS 1..101\n"), 2;
    char err[256];
    struct rill_gen_opts go = { .seed = 1, .orders = DISTINCT };
    rill_gen_t *g = rill_gen_new(&go, err, sizeof err);
    static struct doc docs[DISTINCT];
    rill_buf_t b = { 0 };
    size_t bytes = 0;
    for (int i = 0; g && i < DISTINCT; i++) {
        rill_event_t ev;
        rill_gen_next(g, &ev);
        if (rill_serde_encode_json(&ev, &b, err, sizeof err) != RILL_OK ||
            !(docs[i].p = malloc(b.len)))
            return fprintf(stderr, "bench: %s\n", err), 1;
        memcpy(docs[i].p, b.p, b.len);
        docs[i].len = b.len;
        bytes += b.len;
    }
    rill_buf_free(&b);
    rill_gen_free(g);
    if (!g)
        return fprintf(stderr, "bench: %s\n", err), 1;

    struct pair pairs[] = { { "field", field_rill, field_jansson, 0, 0 },
                            { "order", order_rill, order_jansson, 0, 0 } };
    double *t = calloc((size_t)rounds * 2, sizeof *t);
    for (size_t p = 0; t && p < 2; p++) {
        uint64_t s1 = 0, s2 = 0;
        round_of(pairs[p].rill, docs, DISTINCT, &s1); /* warm-up */
        round_of(pairs[p].jansson, docs, DISTINCT, &s2);
        for (long r = 0; r < rounds; r++) {
            int first = (int)(r % 2); /* alternate who goes first */
            for (int k = 0; k < 2; k++) {
                int j = first ^ k;
                t[j * rounds + r] =
                    round_of(j ? pairs[p].jansson : pairs[p].rill, docs, records, j ? &s2 : &s1);
            }
            if (s1 != s2 || !s1)
                return fprintf(stderr, "bench: %s: the contenders extracted different bytes\n",
                               pairs[p].name), 1;
        }
        qsort(t, (size_t)rounds, sizeof *t, it_cmp_double);
        qsort(t + rounds, (size_t)rounds, sizeof *t, it_cmp_double);
        pairs[p].rill_ns = t[rounds / 2];
        pairs[p].jansson_ns = t[rounds + rounds / 2];
    }
    free(t);
    for (int i = 0; i < DISTINCT; i++)
        free(docs[i].p);

    FILE *md = fopen("bench/results/json.md", "w");
    if (!md)
        return fprintf(stderr, "bench: cannot write bench/results/json.md\n"), 1;
    time_t now = time(NULL);
    char day[16];
    strftime(day, sizeof day, "%Y-%m-%d", gmtime(&now));
    fprintf(md,
            "# JSON record-field paths: rill's reader vs jansson %s\n\n"
            "`make bench-json` (bench/json.c), %s: %d distinct orders of rill generate's JSON "
            "shape (%zu bytes on average), %ld records per round, median of %ld rounds, "
            "alternating; process CPU time per record.\n\n"
            "| path | rill ns/record | jansson ns/record | jansson / rill |\n"
            "| --- | ---: | ---: | ---: |\n",
            JANSSON_VERSION, day, DISTINCT, bytes / DISTINCT, records, rounds);
    for (size_t p = 0; p < 2; p++) {
        fprintf(md, "| %s | %.0f | %.0f | %.2f |\n", pairs[p].name, pairs[p].rill_ns,
                pairs[p].jansson_ns, pairs[p].jansson_ns / pairs[p].rill_ns);
        fprintf(stderr, "bench: %s: rill %.0f ns, jansson %.0f ns, jansson / rill %.2f\n",
                pairs[p].name, pairs[p].rill_ns, pairs[p].jansson_ns,
                pairs[p].jansson_ns / pairs[p].rill_ns);
    }
    int faster = pairs[0].jansson_ns > pairs[0].rill_ns && pairs[1].jansson_ns > pairs[1].rill_ns;
    fprintf(md, "\n%s\n",
            faster ? "rill's reader is faster on both paths, so it stays (issue 12: it may stay "
                     "only if it beats jansson on the path it serves)."
                   : "rill's reader is not faster on both paths: by issue 12 it should give way "
                     "to jansson.");
    fprintf(md, "\nfield: customerId and total, one rill_json_get() each (each validates the "
                "whole value), as rill_record_field() does; order: every member the JSON serde "
                "reads.\n");
    fclose(md);
    fprintf(stderr, "bench: wrote bench/results/json.md\n");
    return 0;
}
