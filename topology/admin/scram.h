/*
 * scram.h - internal: the SCRAM client (scram.c) that kwire.c logs in with (RFC 5802 with
 * SHA-256 or SHA-512, as Kafka's SCRAM-SHA-256/512 mechanisms use it),
 * exposed so that the unit tier can check it against RFC 7677's example with
 * a fixed nonce. Not for other callers: kwire.c runs the exchange itself.
 */
#ifndef RILL_SCRAM_H
#define RILL_SCRAM_H

#include <stddef.h>

#include "topology/rill.h"

struct rill_scram {
    int bits;                   /* 256 or 512 */
    char *first_bare;           /* client-first-message-bare */
    char *nonce;                /* the client's nonce */
    unsigned char server_sig[64]; /* expected ServerSignature */
    size_t siglen;
};

/* The client-first message ("n,,n=USER,r=NONCE") into *out (malloc'd);
 * user is escaped as RFC 5802 asks. Returns RILL_OK, or RILL_ERR_NOMEM. */
rill_err_t rill_scram_first(struct rill_scram *s, int bits, const char *user, const char *nonce,
                            char **out);

/* Given the server-first message (len bytes), the client-final message with
 * its proof into *out (malloc'd), and the expected server signature into s.
 * Returns RILL_OK, or RILL_ERR_AUTH (a refused or malformed exchange) or
 * RILL_ERR_NOMEM with the reason in errstr (never the password). */
rill_err_t rill_scram_final(struct rill_scram *s, const char *password, const char *server_first,
                            size_t len, char **out, char *errstr, size_t errsz);

/* Checks the server-final message ("v=SIGNATURE", or "e=ERROR"): RILL_OK,
 * or RILL_ERR_AUTH with the reason in errstr. */
rill_err_t rill_scram_verify(const struct rill_scram *s, const char *server_final, size_t len,
                      char *errstr, size_t errsz);

void rill_scram_clear(struct rill_scram *s);

#endif
