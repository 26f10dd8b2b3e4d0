/*
 * ytree.c - the topology loader's first step (config.c is the second): the
 * YAML text through libyaml's event parser into a small bounded tree of
 * scalars, lists and maps (struct ynode of loader_int.h): no aliases, at
 * most MAX_DEPTH levels and MAX_NODES nodes, duplicate keys refused with
 * both positions, ${...} substituted in every scalar (subst.c), libyaml's
 * errors at their line and column. Not the walk over the key table.
 */
#include "topology/model/loader_int.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

const char *rill_ynode_kind(const struct ynode *n)
{
    if (n->kind == Y_MAP)
        return "a map";
    if (n->kind == Y_SEQ)
        return "a list";
    return n->null ? "nothing" : "a scalar";
}

void rill_ynode_free(struct ynode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        rill_ynode_free(n->kids[i]);
    free(n->kids);
    free(n->s);
    free(n->raw);
    free(n);
}

static int ynode_add(struct ynode *parent, struct ynode *kid)
{
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        struct ynode **k = realloc(parent->kids, cap * sizeof *k);
        if (!k)
            return -1;
        parent->kids = k;
        parent->cap = cap;
    }
    parent->kids[parent->n++] = kid;
    return 0;
}

/* ---- parsing ------------------------------------------------------------- */

static void offset_pos(const struct loader *L, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < L->len; i++) {
        if (L->buf[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

static rill_err_t yaml_fail(struct loader *L, const yaml_parser_t *p)
{
    int line, col;
    if (p->error == YAML_MEMORY_ERROR)
        return rill_loader_nomem(L, 1, 1);
    if (p->error == YAML_READER_ERROR) {
        offset_pos(L, p->problem_offset, &line, &col);
    } else {
        line = (int)p->problem_mark.line + 1;
        col = (int)p->problem_mark.column + 1;
    }
    const char *problem = p->problem ? p->problem : "unknown problem";
    if (p->context)
        return LERR(L, line, col, RILL_ERR_CONFIG, "invalid yaml: %s (%s at %d:%d)", problem,
                    p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    return LERR(L, line, col, RILL_ERR_CONFIG, "invalid yaml: %s", problem);
}

static int is_null_scalar(const yaml_event_t *ev)
{
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.tag)
        return 0;
    const char *v = (const char *)ev->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

/* Hangs n under parent (a key or value of a map, or a list item); refuses
 * non-scalar and duplicate keys. */
static rill_err_t attach(struct loader *L, struct ynode *parent, struct ynode *n)
{
    if (parent->kind == Y_MAP && parent->n % 2 == 0) {
        if (n->kind != Y_SCALAR || n->null) {
            rill_err_t e = LERR(L, n->line, n->col, RILL_ERR_CONFIG,
                                "expected a key name, got %s", rill_ynode_kind(n));
            rill_ynode_free(n);
            return e;
        }
        for (size_t i = 0; i < parent->n; i += 2)
            if (!strcmp(parent->kids[i]->s, n->s)) {
                rill_err_t e = LERR(L, n->line, n->col, RILL_ERR_CONFIG,
                                    "duplicate key '%s' (first at %d:%d)", rill_loader_txt(n),
                                    parent->kids[i]->line, parent->kids[i]->col);
                rill_ynode_free(n);
                return e;
            }
    }
    if (ynode_add(parent, n) < 0) {
        rill_ynode_free(n);
        return rill_loader_nomem(L, n->line, n->col);
    }
    return RILL_OK;
}

rill_err_t rill_loader_tree(struct loader *L, struct ynode **root)
{
    yaml_parser_t p;
    yaml_event_t ev;
    struct ynode *stack[MAX_DEPTH];
    int depth = 0, docs = 0, done = 0;
    rill_err_t err = RILL_OK;

    *root = NULL;
    if (!yaml_parser_initialize(&p))
        return rill_loader_nomem(L, 1, 1);
    yaml_parser_set_input_string(&p, (const unsigned char *)L->buf, L->len);
    while (!done && !err) {
        if (!yaml_parser_parse(&p, &ev)) {
            err = yaml_fail(L, &p);
            break;
        }
        int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
        struct ynode *n = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                err = LERR(L, line, col, RILL_ERR_CONFIG,
                           "expected a single yaml document, found a second one");
            break;
        case YAML_ALIAS_EVENT:
            err = LERR(L, line, col, RILL_ERR_CONFIG,
                       "aliases are not supported (found '*%s'; write the value out)",
                       (const char *)ev.data.alias.anchor);
            break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++L->nodes > MAX_NODES) {
                err = LERR(L, line, col, RILL_ERR_CONFIG,
                           "too many yaml nodes (at most %d)", MAX_NODES);
                break;
            }
            if (ev.type != YAML_SCALAR_EVENT && depth == MAX_DEPTH) {
                err = LERR(L, line, col, RILL_ERR_CONFIG,
                           "nesting deeper than %d levels", MAX_DEPTH);
                break;
            }
            n = calloc(1, sizeof *n);
            if (!n) {
                err = rill_loader_nomem(L, line, col);
                break;
            }
            n->line = line;
            n->col = col;
            if (ev.type == YAML_SCALAR_EVENT) {
                n->kind = Y_SCALAR;
                n->null = is_null_scalar(&ev);
                if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length)) {
                    free(n);
                    err = LERR(L, line, col, RILL_ERR_CONFIG, "nul character in a scalar");
                    break;
                }
                n->s = strdup(n->null ? "" : (const char *)ev.data.scalar.value);
                if (!n->s) {
                    free(n);
                    err = rill_loader_nomem(L, line, col);
                    break;
                }
                if (!n->null && (err = rill_loader_subst(L, n)) != RILL_OK) {
                    rill_ynode_free(n);
                    break;
                }
            } else {
                n->kind = ev.type == YAML_MAPPING_START_EVENT ? Y_MAP : Y_SEQ;
            }
            if (depth)
                err = attach(L, stack[depth - 1], n);
            else
                *root = n;
            if (!err && n->kind != Y_SCALAR)
                stack[depth++] = n;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth)
                depth--;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (err) {
        rill_ynode_free(*root);
        *root = NULL;
    }
    return err;
}
