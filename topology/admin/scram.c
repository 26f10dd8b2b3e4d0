/*
 * scram.c - the SCRAM client of rill apply's protocol client (scram.h):
 * RFC 5802 with SHA-256 or SHA-512, as Kafka's SCRAM-SHA-256/512 mechanisms
 * use it. Builds the client-first and client-final messages and checks the
 * server's signature; the exchange itself (SaslHandshake/SaslAuthenticate)
 * is kwire.c's. Passwords never reach an error message.
 */
#include "topology/admin/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRAM_MIN_ITERATIONS 4096
#define SCRAM_MAX_ITERATIONS 100000
#define QUOTE_MAX 200 /* bytes of a broker's own message quoted in an error */

static const EVP_MD *scram_md(int bits)
{
    return bits == 512 ? EVP_sha512() : EVP_sha256();
}

static char *b64_encode(const unsigned char *p, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

/* Decodes s (n chars) into out (at most outsz bytes); returns the length, or
 * -1 when s is not base64 or does not fit. */
static int b64_decode(const char *s, size_t n, unsigned char *out, size_t outsz)
{
    if (n % 4 || n / 4 * 3 > outsz)
        return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (len < 0)
        return -1;
    for (size_t i = n; i > 0 && s[i - 1] == '='; i--)
        len--;
    return len;
}

static char *cat(const char *a, const char *b, const char *c, const char *d)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s%s", a, b, c, d);
    return s;
}

rill_err_t rill_scram_first(struct rill_scram *s, int bits, const char *user, const char *nonce,
                            char **out)
{
    memset(s, 0, sizeof *s);
    s->bits = bits;
    *out = NULL;
    /* saslname: ',' and '=' are escaped as =2C and =3D. */
    char *esc = malloc(3 * strlen(user) + 1), *e = esc;
    if (!esc)
        return RILL_ERR_NOMEM;
    for (const char *p = user; *p; p++) {
        if (*p == ',' || *p == '=') {
            memcpy(e, *p == ',' ? "=2C" : "=3D", 3);
            e += 3;
        } else {
            *e++ = *p;
        }
    }
    *e = '\0';
    s->nonce = strdup(nonce);
    s->first_bare = cat("n=", esc, ",r=", nonce);
    free(esc);
    if (!s->nonce || !s->first_bare || !(*out = cat("n,,", s->first_bare, "", ""))) {
        rill_scram_clear(s);
        return RILL_ERR_NOMEM;
    }
    return RILL_OK;
}

/* The value of attribute `a` in a SCRAM message (comma-separated a=value),
 * or NULL; *n gets its length. */
static const char *scram_attr(const char *msg, char a, size_t *n)
{
    for (const char *p = msg; *p;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if (p[0] == a && p[1] == '=') {
            *n = (size_t)(end - p - 2);
            return p + 2;
        }
        p = *end ? end + 1 : end;
    }
    return NULL;
}

static int hmac(int bits, const unsigned char *key, size_t klen, const void *data, size_t n,
                unsigned char *out)
{
    unsigned int len = 0;
    return HMAC(scram_md(bits), key, (int)klen, data, n, out, &len) ? (int)len : -1;
}

rill_err_t rill_scram_final(struct rill_scram *s, const char *password, const char *server_first,
                            size_t len, char **out, char *errstr, size_t errsz)
{
    *out = NULL;
    if (memchr(server_first, '\0', len)) {
        return rill_errf(errstr, errsz, RILL_ERR_AUTH, "malformed scram server-first message");
    }
    char *sf = strndup(server_first, len);
    if (!sf) {
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    size_t rn = 0, sn = 0, in = 0, en = 0;
    const char *e = scram_attr(sf, 'e', &en);
    const char *r = scram_attr(sf, 'r', &rn), *salt64 = scram_attr(sf, 's', &sn);
    const char *iter = scram_attr(sf, 'i', &in);
    unsigned char salt[256];
    int saltlen = salt64 ? b64_decode(salt64, sn, salt, sizeof salt) : -1;
    long iterations = iter ? strtol(iter, NULL, 10) : 0;
    size_t nlen = strlen(s->nonce);
    rill_err_t ret = RILL_ERR_AUTH;
    if (e) {
        ret = rill_errf(errstr, errsz, RILL_ERR_AUTH, "the broker refused the scram exchange: %.*s",
             (int)(en > QUOTE_MAX ? QUOTE_MAX : en), e);
        goto out;
    }
    if (!r || rn <= nlen || strncmp(r, s->nonce, nlen) || saltlen <= 0) {
        ret = rill_errf(errstr, errsz, RILL_ERR_AUTH, "malformed scram server-first message");
        goto out;
    }
    if (iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) {
        ret = rill_errf(errstr, errsz, RILL_ERR_AUTH,
             "scram iteration count %ld outside %d..%d", iterations, SCRAM_MIN_ITERATIONS,
             SCRAM_MAX_ITERATIONS);
        goto out;
    }
    const EVP_MD *md = scram_md(s->bits);
    size_t mdlen = (size_t)EVP_MD_get_size(md);
    unsigned char salted[64], client_key[64], stored[64], client_sig[64], server_key[64];
    char rbuf[512];
    snprintf(rbuf, sizeof rbuf, "%.*s", (int)rn, r);
    char *without_proof = cat("c=biws,r=", rbuf, "", "");
    char *auth = without_proof ? cat(s->first_bare, ",", sf, ",") : NULL;
    char *auth_full = auth ? cat(auth, without_proof, "", "") : NULL;
    if (!auth_full ||
        !PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, saltlen, (int)iterations, md,
                           (int)mdlen, salted) ||
        hmac(s->bits, salted, mdlen, "Client Key", 10, client_key) < 0 ||
        !EVP_Digest(client_key, mdlen, stored, NULL, md, NULL) ||
        hmac(s->bits, stored, mdlen, auth_full, strlen(auth_full), client_sig) < 0 ||
        hmac(s->bits, salted, mdlen, "Server Key", 10, server_key) < 0 ||
        hmac(s->bits, server_key, mdlen, auth_full, strlen(auth_full), s->server_sig) < 0) {
        ret = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "cannot compute the scram proof");
    } else {
        s->siglen = mdlen;
        for (size_t i = 0; i < mdlen; i++)
            client_key[i] ^= client_sig[i];
        char *proof = b64_encode(client_key, mdlen);
        if (proof && (*out = cat(without_proof, ",p=", proof, "")))
            ret = RILL_OK;
        else
            ret = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        free(proof);
    }
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    OPENSSL_cleanse(stored, sizeof stored);
    OPENSSL_cleanse(server_key, sizeof server_key);
    free(without_proof);
    free(auth);
    free(auth_full);
out:
    free(sf);
    return ret;
}

rill_err_t rill_scram_verify(const struct rill_scram *s, const char *server_final, size_t len,
                             char *errstr, size_t errsz)
{
    if (len >= 2 && !strncmp(server_final, "e=", 2)) {
        return rill_errf(errstr, errsz, RILL_ERR_AUTH, "the broker refused the scram proof: %.*s",
             (int)(len > QUOTE_MAX ? QUOTE_MAX : len - 2), server_final + 2);
    }
    unsigned char sig[96]; /* base64 of 64 bytes decodes through 66 */
    int n = len >= 2 && !strncmp(server_final, "v=", 2)
                ? b64_decode(server_final + 2, len - 2, sig, sizeof sig)
                : -1;
    if (n < 0 || (size_t)n != s->siglen || CRYPTO_memcmp(sig, s->server_sig, s->siglen)) {
        return rill_errf(errstr, errsz, RILL_ERR_AUTH,
             "the broker's scram signature does not match (not the broker it claims to be)");
    }
    return RILL_OK;
}

void rill_scram_clear(struct rill_scram *s)
{
    free(s->first_bare);
    free(s->nonce);
    OPENSSL_cleanse(s->server_sig, sizeof s->server_sig);
    memset(s, 0, sizeof *s);
}
