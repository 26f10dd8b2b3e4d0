/*
 * cmd_validate.c - `rill validate FILE [--dot] [--strict]`, `rill validate
 * --describe TYPE` and `rill validate --describe-all [--markdown]`: loads and
 * checks a topology without a broker (what cannot be resolved offline is a
 * note, or with --strict an error), then prints its graph as text (topics ->
 * processor -> topics, sinks, stores) or as Graphviz; or prints a built-in
 * processor's or sink's typed config table; or every topology key table
 * (keys.h) and every built-in's config table, as text or as the markdown of
 * docs/CONFIGURATION.md. It prints and picks the exit status; the loading and
 * checking are config.c's and check.c's.
 */
#include "topology/model/check.h"
#include "processors/registry.h"
#include "topology/cli/cli.h"
#include "topology/model/config.h"
#include "topology/model/keys.h"
#include "processors/processor.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void validate_usage(FILE *out)
{
    fprintf(out,
            "usage: rill validate FILE [--dot] [--strict]\n"
            "       rill validate --describe TYPE\n"
            "       rill validate --describe-all [--markdown]\n"
            "\n"
            "Loads and checks the topology in FILE without a broker (keys, types, ${VAR}\n"
            "substitution, processor and sink types known, inputs produced, stores granted,\n"
            "co-partitioning, no cycles) and prints its graph. A ${VAR} that is not set\n"
            "or a ${file:PATH} that cannot be read is a note on stderr (file:line:col),\n"
            "and validation goes on without its value.\n"
            "\n"
            "  --dot            print the graph in Graphviz dot instead of text\n"
            "  --strict         refuse what cannot be resolved, as rill run and rill apply do\n"
            "  --describe TYPE  print the config table of the built-in processor or sink TYPE\n"
            "  --describe-all   print every topology key table and every built-in\n"
            "                   processor's and sink's config table\n"
            "  --markdown       with --describe-all: as docs/CONFIGURATION.md\n"
            "  --help           this text\n");
}

static const char *conf_type_str(rill_conf_type_t type)
{
    switch (type) {
    case RILL_CONF_STR:
        return "str";
    case RILL_CONF_INT:
        return "int";
    case RILL_CONF_DOUBLE:
        return "double";
    case RILL_CONF_BOOL:
        return "bool";
    }
    return "?";
}

/* ---- the tables, as text or markdown ---------------------------------------- */

/* Prints s; when md, escaped for a markdown table cell ('|', '*', '<'). */
static void cell(const char *s, int md)
{
    for (; s && *s; s++) {
        if (md && *s == '<')
            fputs("&lt;", stdout);
        else if (md && (*s == '|' || *s == '*'))
            printf("\\%c", *s);
        else
            putchar(*s);
    }
}

/* A processor config row's default, as --describe shows it. */
static const char *conf_default(const struct rill_conf_def *d)
{
    if (d->def && !*d->def)
        return "\"\"";
    if (d->def)
        return d->def;
    if (d->type == RILL_CONF_STR)
        return "(required)";
    return d->type == RILL_CONF_BOOL ? "false" : "0";
}

/* A processor config row's range: "0 .. 1", ">= 0", "<= 18" or "". */
static void conf_range(const struct rill_conf_def *d, char *buf, size_t size)
{
    if (d->min && d->max)
        snprintf(buf, size, "%s .. %s", d->min, d->max);
    else if (d->min)
        snprintf(buf, size, ">= %s", d->min);
    else if (d->max)
        snprintf(buf, size, "<= %s", d->max);
    else
        buf[0] = '\0';
}

/* A topology key's default: its value, the one that depends on another key,
 * or what no value means. */
static void key_default(const struct rill_key_def *k, char *buf, size_t size)
{
    if (k->flags & RILL_KEY_REQUIRED)
        snprintf(buf, size, "(required)");
    else if (k->def && k->when_key)
        snprintf(buf, size, "%s; %s when %s is %s", k->def, k->when_def, k->when_key,
                 k->when_value);
    else if (k->def)
        snprintf(buf, size, "%s", k->def);
    else if (k->unset)
        snprintf(buf, size, "(%s)", k->unset);
    else if (k->type == RILL_KEY_LIST)
        snprintf(buf, size, "[]");
    else if (k->type == RILL_KEY_MAP)
        snprintf(buf, size, "{}");
    else
        buf[0] = '\0';
}

/* A topology key's range: "1 .. 32767", ">= 1", the allowed values, or "". */
static void key_range(const struct rill_key_def *k, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    if (k->type == RILL_KEY_INT && k->max == INT64_MAX)
        snprintf(buf, size, ">= %" PRId64, k->min);
    else if (k->type == RILL_KEY_INT)
        snprintf(buf, size, "%" PRId64 " .. %" PRId64, k->min, k->max);
    for (size_t i = 0; k->values && k->values[i]; i++) {
        int r = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", k->values[i]);
        if (r < 0 || (size_t)r >= size - off)
            break;
        off += (size_t)r;
    }
}

/* A topology key's type, with what its entries or items are. */
static void key_type(const struct rill_key_def *k, char *buf, size_t size)
{
    if (k->type == RILL_KEY_LIST)
        snprintf(buf, size, "list of %s names", k->item);
    else if (k->type == RILL_KEY_SECTION)
        snprintf(buf, size, "map of %ss", rill_scopes[k->sub].noun);
    else if (k->type == RILL_KEY_OTHER)
        snprintf(buf, size, "scalar");
    else
        snprintf(buf, size, "%s", rill_key_type_name(k->type));
}

/* The config table of a built-in processor or sink type: its name, doc and
 * rows (conf may be NULL: no config keys). */
static void print_conf_table(const char *name, const char *doc,
                             const struct rill_conf_def *conf, int md)
{
    char range[128];
    if (md) {
        printf("### %s\n\n", name);
        cell(doc, 1);
        printf("\n\n");
        if (!conf || !conf->key) {
            printf("No config keys.\n\n");
            return;
        }
        printf("| Key | Type | Default | Range | Description |\n");
        printf("|-----|------|---------|-------|-------------|\n");
        for (const struct rill_conf_def *d = conf; d->key; d++) {
            conf_range(d, range, sizeof range);
            printf("| `%s` | %s | ", d->key, conf_type_str(d->type));
            cell(conf_default(d), 1);
            printf(" | %s | ", range);
            cell(d->doc, 1);
            printf(" |\n");
        }
        printf("\n");
        return;
    }
    printf("%s - %s\n\n", name, doc ? doc : "");
    if (!conf || !conf->key) {
        printf("no config keys\n");
        return;
    }
    printf("%-20s %-7s %-12s %-10s %s\n", "key", "type", "default", "range", "doc");
    for (const struct rill_conf_def *d = conf; d->key; d++) {
        conf_range(d, range, sizeof range);
        printf("%-20s %-7s %-12s %-10s %s\n", d->key, conf_type_str(d->type), conf_default(d),
               range, d->doc ? d->doc : "");
    }
}

/* --describe TYPE: a built-in processor type, else a sink type. */
static int describe(const char *type)
{
    const struct rill_processor_def *def = rill_proc_lookup(type);
    if (def) {
        print_conf_table(def->name, def->doc, def->conf, 0);
        return 0;
    }
    const struct rill_sink_def *sink = rill_sink_lookup(type);
    if (sink) {
        print_conf_table(sink->name, sink->doc, sink->conf, 0);
        return 0;
    }
    fprintf(stderr, "rill validate: unknown processor or sink type '%s' (processor types:", type);
    for (size_t i = 0; rill_proc_at(i); i++)
        fprintf(stderr, "%s %s", i ? "," : "", rill_proc_at(i)->name);
    fprintf(stderr, "; sink types:");
    for (size_t i = 0; rill_sink_builtins[i]; i++)
        fprintf(stderr, "%s %s", i ? "," : "", rill_sink_builtins[i]->name);
    fprintf(stderr, ")\n");
    return 1;
}

/* The title of a scope's table: "top level", "topics: (each topic)"; in
 * markdown "Top level", "`topics:` (each topic)". */
static void scope_title(rill_scope_t s, int md, char *buf, size_t size)
{
    const struct rill_key_def *section = NULL;
    for (const struct rill_key_def *k = rill_keys; k->name && !section; k++)
        if (k->type == RILL_KEY_SECTION && k->sub == s)
            section = k;
    if (section)
        snprintf(buf, size, "%s%s:%s (each %s)", md ? "`" : "", section->name, md ? "`" : "",
                 rill_scopes[s].noun);
    else
        snprintf(buf, size, "%s", md ? "Top level" : "top level");
}

/* Every topology key table, then every built-in processor's and sink's
 * config table. */
static int describe_all(int md)
{
    char title[128], type[64], dflt[160], range[160];
    if (md)
        printf("# rill configuration\n\n"
               "_Generated by `rill validate --describe-all --markdown` (`make docs`) from the key "
               "tables in topology/model/keys.c and the processors' and sinks' config tables. Do "
               "not edit by hand._\n\n"
               "## Topology keys\n\n"
               "Every key of a topology YAML file, by where it goes. An unknown key is an error. "
               "`${VAR}`, `${VAR:-default}` and `${file:PATH}` are substituted in every value.\n\n");
    else
        printf("topology keys\n");
    for (int s = 0; s < RILL_SCOPE__COUNT; s++) {
        scope_title((rill_scope_t)s, md, title, sizeof title);
        if (md)
            printf("### %s\n\n%s.\n\n| Key | Type | Default | Range | Description |\n"
                   "|-----|------|---------|-------|-------------|\n",
                   title, rill_scopes[s].doc);
        else
            printf("\n%s - %s\n\n", title, rill_scopes[s].doc);
        for (const struct rill_key_def *k = rill_keys; k->name; k++) {
            if (k->scope != (rill_scope_t)s)
                continue;
            key_type(k, type, sizeof type);
            key_default(k, dflt, sizeof dflt);
            key_range(k, range, sizeof range);
            int other = k->type == RILL_KEY_OTHER;
            if (md) {
                printf("| %s%s%s | %s | ", other ? "" : "`", other ? "*any other key*" : k->name,
                       other ? "" : "`", type);
                cell(dflt, 1);
                printf(" | ");
                cell(range, 1);
                printf(" | ");
                cell(k->doc, 1);
                printf(" |\n");
            } else {
                int req = (k->flags & RILL_KEY_REQUIRED) != 0, names = k->values != NULL;
                printf("  %-22s %s%s%s%s%s\n      %s\n", other ? "(any other key)" : k->name, type,
                       req ? ", required" : *dflt ? ", default " : "", req ? "" : dflt,
                       !*range ? "" : names ? ", one of " : ", range ", range, k->doc);
            }
        }
        if (md)
            printf("\n");
    }
    if (md)
        printf("## Processors\n\n"
               "The `config:` keys of each built-in processor (`type:`), checked by `rill "
               "validate`; `rill validate --describe TYPE` prints one.\n\n");
    else
        printf("\nprocessors\n");
    for (size_t i = 0; rill_proc_at(i); i++) {
        const struct rill_processor_def *def = rill_proc_at(i);
        if (!md)
            printf("\n");
        print_conf_table(def->name, def->doc, def->conf, md);
    }
    if (md)
        printf("## Sinks\n\n"
               "The `config:` keys of each sink type (`type:`), checked by `rill validate`; "
               "`rill validate --describe TYPE` prints one.\n\n");
    else
        printf("\nsinks\n");
    for (size_t i = 0; rill_sink_builtins[i]; i++) {
        const struct rill_sink_def *def = rill_sink_builtins[i];
        if (!md)
            printf("\n");
        print_conf_table(def->name, def->doc, def->conf, md);
    }
    return 0;
}

/* A note of a lenient load or check: one line on stderr, counted. */
static void print_note(void *opaque, const char *note)
{
    fprintf(stderr, "%s\n", note);
    ++*(int *)opaque;
}

static void print_list(const struct rill_strlist *l)
{
    putchar('[');
    for (size_t i = 0; i < l->n; i++)
        printf("%s%s", i ? ", " : "", l->v[i]);
    putchar(']');
}

static int produced(const struct rill_topology *t, const char *topic)
{
    for (size_t i = 0; i < t->nprocs; i++)
        for (size_t j = 0; j < t->procs[i].outputs.n; j++)
            if (!strcmp(t->procs[i].outputs.v[j], topic))
                return 1;
    return 0;
}

static const struct rill_proc_conf *store_owner(const struct rill_topology *t, const char *store)
{
    for (size_t i = 0; i < t->nprocs; i++)
        for (size_t j = 0; j < t->procs[i].stores.n; j++)
            if (!strcmp(t->procs[i].stores.v[j], store))
                return &t->procs[i];
    return NULL;
}

static void print_text(const struct rill_topology *t)
{
    printf("%s: ok\n", t->path);
    printf("application.id %s, %s, commit every %lld ms, %d stream thread%s, state in %s\n",
           t->application_id,
           t->guarantee == RILL_EXACTLY_ONCE_V2 ? "exactly_once_v2" : "at_least_once",
           (long long)t->commit_interval_ms, t->num_stream_threads,
           t->num_stream_threads == 1 ? "" : "s", t->state_dir);

    printf("\ntopics:\n");
    for (size_t i = 0; i < t->ntopics; i++) {
        const struct rill_topic_conf *tc = &t->topics[i];
        printf("  %-28s ", tc->name);
        if (tc->partitions > 0)
            printf("%d partition%s", (int)tc->partitions, tc->partitions == 1 ? "" : "s");
        else
            printf("partitions from the broker");
        if (tc->replication > 0)
            printf(", replication %d", (int)tc->replication);
        printf("%s%s\n", tc->feedback ? ", feedback" : "",
               produced(t, tc->name) ? "" : " (source)");
    }

    if (t->nprocs) {
        printf("\nprocessors:\n");
        for (size_t i = 0; i < t->nprocs; i++) {
            const struct rill_proc_conf *p = &t->procs[i];
            printf("  ");
            print_list(&p->inputs);
            printf(" -> %s (%s%s%s) -> ", p->name, p->type, p->library ? " from " : "",
                   p->library ? p->library : "");
            print_list(&p->outputs);
            putchar('\n');
            if (p->stores.n) {
                printf("      stores: ");
                print_list(&p->stores);
                putchar('\n');
            }
            if (p->dlq)
                printf("      dlq: %s\n", p->dlq);
        }
    }
    if (t->nsinks) {
        printf("\nsinks:\n");
        for (size_t i = 0; i < t->nsinks; i++) {
            printf("  ");
            print_list(&t->sinks[i].inputs);
            printf(" -> %s (%s)\n", t->sinks[i].name, t->sinks[i].type);
        }
    }

    if (t->nclients) {
        printf("\nclients:\n");
        for (size_t i = 0; i < t->nclients; i++) {
            const struct rill_client_conf *c = &t->clients[i];
            printf("  %s (user %s): writes ", c->name, c->user);
            print_list(&c->writes);
            printf(", reads ");
            print_list(&c->reads);
            if (c->group)
                printf(", group %s", c->group);
            putchar('\n');
        }
    }

    int header = 0;
    for (size_t i = 0; i < t->nprocs; i++)
        for (size_t j = 0; j < t->procs[i].stores.n; j++) {
            const char *name = t->procs[i].stores.v[j];
            const struct rill_store_conf *sc = rill_topology_store(t, name);
            if (!header++)
                printf("\nstores:\n");
            printf("  %-28s %s, %s, granted to %s\n", name, sc ? sc->type : "rocksdb",
                   !sc || sc->changelog ? "changelog" : "no changelog", t->procs[i].name);
        }
    for (size_t i = 0; i < t->nstores; i++)
        if (!store_owner(t, t->stores[i].name)) {
            if (!header++)
                printf("\nstores:\n");
            printf("  %-28s %s, %s, not granted to any processor\n", t->stores[i].name,
                   t->stores[i].type, t->stores[i].changelog ? "changelog" : "no changelog");
        }
}

/* Prints s escaped for the inside of a dot double-quoted string. */
static void dot_esc(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            putchar('\\');
        if (*p == '\n')
            fputs("\\n", stdout);
        else
            putchar(*p);
    }
}

/* A dot id: "prefix" followed by name, quoted. */
static void dot_id(const char *prefix, const char *name)
{
    printf("\"%s", prefix);
    dot_esc(name);
    putchar('"');
}

/* A two-line label: "name\n(note)", or "name\nN partitions" when n > 0. */
static void dot_label(const char *name, const char *note, long n)
{
    putchar('"');
    dot_esc(name);
    if (n > 0) {
        printf("\\n%ld partition%s", n, n == 1 ? "" : "s");
    } else if (note) {
        fputs("\\n(", stdout);
        dot_esc(note);
        putchar(')');
    }
    putchar('"');
}

static void print_dot(const struct rill_topology *t)
{
    printf("digraph ");
    dot_id("", t->application_id);
    printf(" {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
    for (size_t i = 0; i < t->ntopics; i++) {
        const struct rill_topic_conf *tc = &t->topics[i];
        printf("  ");
        dot_id("topic:", tc->name);
        printf(" [shape=box, label=");
        dot_label(tc->name, NULL, tc->partitions);
        printf("];\n");
    }
    for (size_t i = 0; i < t->nprocs; i++) {
        const struct rill_proc_conf *p = &t->procs[i];
        printf("  ");
        dot_id("proc:", p->name);
        printf(" [shape=ellipse, style=bold, label=");
        dot_label(p->name, p->type, -1);
        printf("];\n");
        for (size_t j = 0; j < p->inputs.n; j++) {
            printf("  ");
            dot_id("topic:", p->inputs.v[j]);
            printf(" -> ");
            dot_id("proc:", p->name);
            printf(";\n");
        }
        for (size_t j = 0; j < p->outputs.n; j++) {
            printf("  ");
            dot_id("proc:", p->name);
            printf(" -> ");
            dot_id("topic:", p->outputs.v[j]);
            printf(";\n");
        }
        for (size_t j = 0; j < p->stores.n; j++) {
            printf("  ");
            dot_id("store:", p->stores.v[j]);
            printf(" [shape=cylinder, label=");
            dot_id("", p->stores.v[j]);
            printf("];\n  ");
            dot_id("proc:", p->name);
            printf(" -> ");
            dot_id("store:", p->stores.v[j]);
            printf(" [style=dashed, dir=both];\n");
        }
    }
    for (size_t i = 0; i < t->nsinks; i++) {
        const struct rill_sink_conf *s = &t->sinks[i];
        printf("  ");
        dot_id("sink:", s->name);
        printf(" [shape=box3d, label=");
        dot_label(s->name, s->type, -1);
        printf("];\n");
        for (size_t j = 0; j < s->inputs.n; j++) {
            printf("  ");
            dot_id("topic:", s->inputs.v[j]);
            printf(" -> ");
            dot_id("sink:", s->name);
            printf(";\n");
        }
    }
    printf("}\n");
}

int rill_cmd_validate(int argc, char **argv)
{
    const char *file = NULL, *type = NULL;
    int dot = 0, strict = 0, all = 0, md = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            validate_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--dot")) {
            dot = 1;
        } else if (!strcmp(argv[i], "--strict")) {
            strict = 1;
        } else if (!strcmp(argv[i], "--describe-all")) {
            all = 1;
        } else if (!strcmp(argv[i], "--markdown")) {
            md = 1;
        } else if (!strcmp(argv[i], "--describe")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "rill validate: --describe needs a processor or sink type\n");
                validate_usage(stderr);
                return 2;
            }
            type = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "rill validate: unknown option '%s'\n", argv[i]);
            validate_usage(stderr);
            return 2;
        } else if (!file) {
            file = argv[i];
        } else {
            fprintf(stderr, "rill validate: expected one FILE, got '%s' too\n", argv[i]);
            validate_usage(stderr);
            return 2;
        }
    }
    if (md && !all) {
        fprintf(stderr, "rill validate: --markdown goes with --describe-all\n");
        return 2;
    }
    if (all) {
        if (file || dot || strict || type) {
            fprintf(stderr, "rill validate: --describe-all takes no FILE, --dot, --strict or "
                            "--describe\n");
            return 2;
        }
        return describe_all(md);
    }
    if (type) {
        if (file || dot || strict) {
            fprintf(stderr, "rill validate: --describe takes no FILE, --dot or --strict\n");
            return 2;
        }
        return describe(type);
    }
    if (!file) {
        validate_usage(stderr);
        return 2;
    }
    char err[RILL_ERRSTR_SIZE];
    struct rill_topology *t;
    int notes = 0;
    struct rill_load_opts opts = { .lenient_substitution = !strict, .note = print_note,
                                   .note_opaque = &notes };
    if (rill_topology_load_opts(file, &opts, &t, err, sizeof err) != RILL_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (rill_topology_check_opts(t, rill_proc_builtins, rill_sink_builtins, &opts, err,
                                 sizeof err) != RILL_OK) {
        fprintf(stderr, "%s\n", err);
        rill_topology_free(t);
        return 1;
    }
    if (dot)
        print_dot(t);
    else
        print_text(t);
    if (notes)
        fprintf(stderr,
                "rill validate: %d note%s: validated without the values that could not be "
                "resolved (--strict refuses them)\n",
                notes, notes == 1 ? "" : "s");
    rill_topology_free(t);
    return 0;
}
