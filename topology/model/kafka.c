/*
 * kafka.c - which librdkafka properties of a topology's kafka: maps concern
 * only one kind of client, so that each client is given only the keys it
 * takes (librdkafka warns about the others). The engine's consumers and
 * producers and rill apply's admin client read the same answer.
 *
 * The answer comes from the librdkafka the process runs with, not from a
 * copied list: librdkafka 2.0.2 has no API that tells a property's scope
 * (rd_kafka_conf_get() and rd_kafka_conf_dump() do not say whether a key is
 * for consumers or producers), but rd_kafka_conf_properties_show() prints its
 * CONFIGURATION.md table, whose second column is C (consumer), P (producer)
 * or * (both), for the global and the topic properties, aliases included
 * (linger.ms as well as queue.buffering.max.ms). That table is parsed once,
 * on first use, into two sorted sets that live as long as the process.
 *
 * Not here: validating kafka: values (librdkafka does that when a client is
 * created).
 */
#include "topology/model/kafka.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kset {
    char **v;
    size_t n, cap;
};

static struct kset consumer_only, producer_only;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int kset_add(struct kset *s, const char *name, size_t len)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strndup(name, len)))
        return -1;
    s->n++;
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One table row: "name   |  C  | range | default | importance | doc". */
static int parse_row(const char *line)
{
    const char *bar = strchr(line, '|');
    if (!bar)
        return 0;
    size_t len = (size_t)(bar - line);
    while (len && line[len - 1] == ' ')
        len--;
    const char *scope = bar + 1;
    while (*scope == ' ')
        scope++;
    if (!len || !strncmp(line, "Property", len) || line[0] == '-' || !scope[0] || scope[1] != ' ')
        return 0;
    if (scope[0] == 'C')
        return kset_add(&consumer_only, line, len);
    if (scope[0] == 'P')
        return kset_add(&producer_only, line, len);
    return 0;
}

static void load(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return;
    rd_kafka_conf_properties_show(f);
    if (fclose(f) != 0 || !text) {
        free(text);
        return;
    }
    int failed = 0;
    for (char *line = text, *nl; !failed && line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        failed = parse_row(line) < 0;
    }
    free(text);
    if (failed) {
        /* Out of memory: answer "both" for every key rather than half a set. */
        for (size_t i = 0; i < consumer_only.n; i++)
            free(consumer_only.v[i]);
        for (size_t i = 0; i < producer_only.n; i++)
            free(producer_only.v[i]);
        consumer_only.n = producer_only.n = 0;
        return;
    }
    qsort(consumer_only.v, consumer_only.n, sizeof *consumer_only.v, cmp);
    qsort(producer_only.v, producer_only.n, sizeof *producer_only.v, cmp);
}

static int listed(const struct kset *s, const char *key)
{
    if (!key)
        return 0;
    pthread_once(&once, load);
    return s->n && bsearch(&key, s->v, s->n, sizeof *s->v, cmp) != NULL;
}

int rill_kafka_consumer_only(const char *key)
{
    return listed(&consumer_only, key);
}

int rill_kafka_producer_only(const char *key)
{
    return listed(&producer_only, key);
}
