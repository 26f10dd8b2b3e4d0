/*
 * http_web.c - the web view at /: the static files of web/ (index.html,
 * web.css, web.js), compiled into the binary by web/embed.sh, served with
 * their content types and, like every response of rill run, with
 * Content-Security-Policy: default-src 'self' (http_text.c), so that the
 * page can load nothing and ask nothing but this origin: no CDN, no
 * external font, no inline script or style. The page draws itself from
 * /topology and /metrics in the browser (web/web.js); nothing is rendered
 * here.
 */
#include "topology/engine/http_int.h"

#include <string.h>

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && !strcmp(dot, ".html"))
        return "text/html; charset=utf-8";
    if (dot && !strcmp(dot, ".css"))
        return "text/css; charset=utf-8";
    if (dot && !strcmp(dot, ".js"))
        return "text/javascript; charset=utf-8";
    if (dot && !strcmp(dot, ".svg"))
        return "image/svg+xml";
    return "application/octet-stream";
}

int http_web(struct MHD_Connection *c, const char *url, enum MHD_Result *ret)
{
    const char *name = !strcmp(url, "/") ? "index.html" : url + 1;
    if (url[0] != '/')
        return 0;
    for (size_t i = 0; i < http_web_files_cnt; i++)
        if (!strcmp(http_web_files[i].name, name)) {
            *ret = http_reply_static(c, type_of(name), http_web_files[i].text,
                                     http_web_files[i].len);
            return 1;
        }
    return 0;
}
