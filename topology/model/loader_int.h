/*
 * loader_int.h - internal to the YAML loader (config.c and subst.c): the
 * parsed document's tree, the loader's state, its limits, and how it reports
 * errors and notes at a file position. Not for other callers: they use
 * config.h.
 */
#ifndef RILL_LOADER_INT_H
#define RILL_LOADER_INT_H

#include "topology/model/config.h"

/* Bytes of an invalid ${...} name quoted in its error. */
#define VARNAME_QUOTE_MAX 64

#define MAX_FILE (1024 * 1024)          /* bytes of YAML */
#define MAX_DEPTH 32                    /* nested maps and lists */
#define MAX_NODES 10000                 /* scalars, maps and lists */
#define MAX_SECRET (64 * 1024)          /* bytes of one ${file:PATH} */
#define MAX_SCALAR (256 * 1024)         /* bytes of one scalar after substitution */
#define MAX_SUBST_TOTAL (4 * 1024 * 1024) /* bytes substituted in one file */
#define MAX_VARNAME 255                 /* characters of a ${VAR} name */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

/* One node of the parsed document. A map's kids alternate key, value. */
struct ynode {
    enum ykind kind;
    int line, col;
    char *s;        /* scalar: the text after substitution */
    char *raw;      /* scalar: the text as written when substitution changed it */
    int null;       /* scalar: a plain empty, ~ or null */
    int unresolved; /* scalar: a lenient load could not substitute it; s is the
                     * text as written, a placeholder */
    struct ynode **kids;
    size_t n, cap;
};

struct loader {
    const char *name;   /* file name for messages */
    const char *buf;
    size_t len;
    char *dir;          /* base of relative ${file:PATH}, NULL: current directory */
    char *errstr;
    size_t errsz;
    size_t nodes;
    size_t subst_total;
    const struct rill_load_opts *opts; /* never NULL */
    struct lnote *notes;  /* held until the end of the load, then given in file order */
    size_t nnotes;
};

struct lnote {
    int line, col;
    size_t seq;           /* the order found, for equal positions */
    char *text;
};

/* An error at line:col of the file: "file:line:col: message", through
 * rill_errf(). */
#define LERR(L, line, col, err, fmt, ...)                                                   \
    rill_errf((L)->errstr, (L)->errsz, err, "%s:%d:%d: " fmt, (L)->name, line, col,         \
              ##__VA_ARGS__)

/* A note at line:col of a lenient load: held, and given to the caller's
 * callback in file order when the load ends. A note that cannot be held for
 * want of memory is given at once. */
void rill_loader_note(struct loader *L, int line, int col, const char *text);

#define LNOTE(L, line, col, fmt, ...)                                                       \
    do {                                                                                    \
        char note_[RILL_ERRSTR_SIZE];                                                       \
        rill_errf(note_, sizeof note_, RILL_OK, "%s:%d:%d: note: " fmt, (L)->name, line,     \
                  col, ##__VA_ARGS__);                                                      \
        rill_loader_note(L, line, col, note_);                                                      \
    } while (0)

/* "out of memory" at line:col. */
rill_err_t rill_loader_nomem(struct loader *L, int line, int col);
/* The text of a scalar as written in the file: safe to quote in a message. */
const char *rill_loader_txt(const struct ynode *n);

/* Substitutes ${...} in the scalar n in place (subst.c); keeps the written
 * text in n->raw when anything changed. A lenient load leaves an unresolved
 * scalar as written and notes it. */
rill_err_t rill_loader_subst(struct loader *L, struct ynode *n);

/* ytree.c: builds the tree of L's text into *root (NULL on error, which L's
 * errstr says); rill_ynode_free() frees a tree (NULL is fine). */
rill_err_t rill_loader_tree(struct loader *L, struct ynode **root);
void rill_ynode_free(struct ynode *n);
/* "a map", "a list", "nothing" or "a scalar", for messages. */
const char *rill_ynode_kind(const struct ynode *n);

#endif
