/*
 * http_text.c - the JSON strings and the replies of rill run's HTTP
 * endpoints (http_int.h): any bytes as a valid JSON string, telling
 * readable text from binary, and the replies, which set the content type,
 * no caching, and the Content-Security-Policy the web view needs (the
 * growing text itself is http.c's text_put()). Not the endpoints.
 */
#include "topology/engine/http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (s[0] >= 0xf5 || !len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    /* no overlong forms, surrogates or code points past U+10FFFF */
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return len;
}

int text_readable(const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n;) {
        if (s[i] >= 0x80) {
            size_t len = utf8_len(s + i, n - i);
            if (!len)
                return 0;
            i += len;
        } else if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') || s[i] == 0x7f) {
            return 0;
        } else {
            i++;
        }
    }
    return 1;
}

void text_json_n(struct text *t, const void *v, size_t n)
{
    const unsigned char *s = v;
    text_put(t, "\"");
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            text_put(t, "\\%c", c);
        } else if (c < 0x20 || c == 0x7f) {
            text_put(t, "\\u%04x", c);
        } else if (c < 0x80) {
            text_put(t, "%c", c);
        } else {
            size_t len = utf8_len(s + i, n - i);
            if (!len) {
                text_put(t, "\\ufffd");
                i++;
                continue;
            }
            text_put(t, "%.*s", (int)len, (const char *)s + i);
            i += len;
            continue;
        }
        i++;
    }
    text_put(t, "\"");
}

void text_json(struct text *t, const char *v)
{
    if (v)
        text_json_n(t, v, strlen(v));
    else
        text_put(t, "null");
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, const char *type,
                             struct MHD_Response *r, const char *header, const char *value)
{
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Content-Security-Policy", HTTP_CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (header && value)
        MHD_add_response_header(r, header, value);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, const char *type,
                           struct text *t, const char *header, const char *value)
{
    if (t->oom) {
        free(t->p);
        t->p = NULL;
        t->len = 0;
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        t->len, t->p ? t->p : (void *)"", t->p ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r)
        free(t->p);
    return queue(c, status, type, r, header, value);
}

enum MHD_Result http_reply_static(struct MHD_Connection *c, const char *type, const void *p,
                                  size_t n)
{
    return queue(c, MHD_HTTP_OK, type,
                 MHD_create_response_from_buffer(n, (void *)p, MHD_RESPMEM_PERSISTENT), NULL,
                 NULL);
}
