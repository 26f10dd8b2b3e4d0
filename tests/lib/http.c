/*
 * http.c - a minimal HTTP/1.0 GET over loopback for the tests (http.h).
 */
#include "tests/lib/http.h"
#include "tests/lib/proc.h"
#include "tests/lib/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int it_http_get(int port, const char *path, char *body, size_t size)
{
    return it_http_get_head(port, path, NULL, 0, body, size);
}

int it_http_get_head(int port, const char *path, char *head, size_t headsz, char *body,
                     size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size_t rsz = strlen(path) + 64;
    char *req = malloc(rsz);
    int n = req ? snprintf(req, rsz, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path) : 0;
    if (!req || connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        write(fd, req, (size_t)n) != n) {
        free(req);
        close(fd);
        return -1;
    }
    free(req);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while (buf && (r = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)r;
        if (len + 1 == cap) {
            char *p = realloc(buf, cap * 2);
            if (!p)
                break;
            buf = p;
            cap *= 2;
        }
    }
    close(fd);
    if (!buf)
        return -1;
    buf[len] = '\0';
    int status = -1;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        status = -1;
    const char *b = strstr(buf, "\r\n\r\n");
    snprintf(body, size, "%s", b ? b + 4 : "");
    if (head)
        snprintf(head, headsz, "%.*s", b ? (int)(b + 2 - buf) : 0, buf);
    free(buf);
    return status;
}

int it_http_header(const char *head, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (!strncasecmp(line, name, n) && line[n] == ':') {
            const char *v = line + n + 1, *end = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            snprintf(out, size, "%.*s", end ? (int)(end - v) : (int)strlen(v), v);
            return 0;
        }
    }
    return -1;
}

int it_http_port(const char *log, int timeout_ms)
{
    if (it_file_wait(log, "msg=\"listening\"", 1, timeout_ms) < 1)
        return 0;
    char *text = it_read_file(log, NULL);
    const char *p = text ? strstr(text, "msg=\"listening\" address=") : NULL;
    const char *colon = p ? strchr(p + 24, ':') : NULL;
    int port = colon ? atoi(colon + 1) : 0;
    free(text);
    return port;
}
