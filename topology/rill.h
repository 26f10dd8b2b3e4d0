/*
 * rill.h - the public face of the rill runtime: the error type shared by every
 * subsystem, version information and the monotonic clock. Subsystem APIs
 * live in their own headers (state/store.h, processors/processor.h,
 * schemas/serde.h); this header holds only what all of them need. Nothing here allocates or keeps state.
 */
#ifndef RILL_H
#define RILL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define RILL_VERSION "0.1.0"

/* One error enum for the whole runtime. Fallible calls return a rill_err_t
 * and, where a message helps, fill a caller-provided errstr buffer. Part of
 * the processor ABI (processors/processor.h): the values never change. */
typedef enum {
    RILL_OK = 0,
    RILL_ERR_INVALID,   /* bad argument or malformed input */
    RILL_ERR_NOMEM,     /* allocation failed */
    RILL_ERR_IO,        /* file or socket I/O failed */
    RILL_ERR_CONFIG,    /* configuration rejected */
    RILL_ERR_NOTFOUND,  /* the named thing does not exist */
    RILL_ERR_KAFKA,     /* a Kafka client call failed */
    RILL_ERR_AUTH,      /* authentication or authorization refused */
    RILL_ERR_PG,        /* a PostgreSQL call failed */
    RILL_ERR_STATE,     /* a state store failed */
    RILL_ERR_RETRY,     /* transient: try the same thing again later */
    RILL_ERR_FATAL,     /* unrecoverable for this component (e.g. fenced) */
    /* Codes are appended, never inserted: an external processor built against
     * an older rill.h compares the numbers it was built with. */
    RILL_ERR_NOFIT,     /* the result does not fit the caller's buffer or a named limit */
    RILL_ERR__COUNT
} rill_err_t;

/* The size of an errstr buffer everywhere in rill: large enough for a
 * file:line:col, a quoted subject and librdkafka's or libpq's own message,
 * with room for one caller to put its context in front of a callee's. */
#define RILL_ERRSTR_SIZE 1024

/* A static, lowercase description of err; never NULL. */
const char *rill_err2str(rill_err_t err);

/* The one way to report an error: formats fmt into errstr (when errstr is
 * not NULL and errsz > 0; always NUL-terminated, truncated if need be) and
 * returns err, so that `return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot
 * open '%s': %s", path, strerror(errno));` is one line. Thread-safe. */
rill_err_t rill_errf(char *errstr, size_t errsz, rill_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The same with a va_list, for a reporter that carries its buffer in a
 * context of its own (a decoder's state, a loader's position). */
rill_err_t rill_verrf(char *errstr, size_t errsz, rill_err_t err, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Writes rill's version and the versions of librdkafka, RocksDB and libpq
 * it runs with, one per line, into buf (always NUL-terminated).
 * Returns the length it wanted to write, like snprintf. Thread-safe. */
int rill_version_describe(char *buf, size_t size);

/* Milliseconds of the monotonic clock: for deadlines, intervals and
 * back-offs, not for timestamps. Thread-safe. */
int64_t rill_now_ms(void);

#endif
