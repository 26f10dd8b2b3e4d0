/*
 * proc.c - process control and topic reading for the integration tiers.
 */
#include "tests/lib/proc.h"
#include "tests/lib/util.h"

#include <fcntl.h>
#include <stdarg.h>
#include <poll.h>
#include <sys/inotify.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

pid_t it_rill_spawn(const char *log, ...)
{
    const char *argv[16];
    int n = 0;
    argv[n++] = getenv("RILL_BIN") ? getenv("RILL_BIN") : "./rill";
    va_list ap;
    va_start(ap, log);
    const char *a;
    while (n < 15 && (a = va_arg(ap, const char *)))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

pid_t it_rill_start(const char *yaml, const char *log)
{
    return it_rill_spawn(log, "run", yaml, (char *)NULL);
}

int it_rill_stop(pid_t pid, int sig, int timeout_ms)
{
    /* Wait for the child's exit on SIGCHLD itself, with a deadline. */
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    int status, ret = -1;
    kill(pid, sig);
    int64_t deadline = it_now_ms() + timeout_ms;
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            ret = status;
            break;
        }
        int64_t left = deadline - it_now_ms();
        if (left <= 0)
            break;
        struct timespec ts = { left / 1000, (left % 1000) * 1000000 };
        sigtimedwait(&chld, NULL, &ts);
    }
    if (ret == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return ret;
}

void it_rill_kill_all(pid_t *const *pids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (*pids[i] > 0) {
            it_rill_stop(*pids[i], SIGKILL, 10000);
            *pids[i] = 0;
        }
}

/* The file of it_write_yaml, with the tests' short session when short_session. */
static int write_yaml(const char *path, const char *body, int short_session)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const char *dir = it_env("SECRETS_DIR");
    fprintf(f,
            "kafka:\n"
            "  bootstrap.servers: %s\n"
            "  security.protocol: SASL_PLAINTEXT\n"
            "  sasl.mechanisms: SCRAM-SHA-512\n"
            "  sasl.username: admin\n"
            "  sasl.password: ${file:%s/admin.password}\n"
            "%s"
            "%s",
            it_env("KAFKA_BOOTSTRAP"), dir,
            short_session ? "  session.timeout.ms: '6000'\n  heartbeat.interval.ms: '1000'\n" : "",
            body);
    return fclose(f);
}

int it_write_yaml(const char *path, const char *body)
{
    return write_yaml(path, body, 1);
}

int it_write_yaml_defaults(const char *path, const char *body)
{
    return write_yaml(path, body, 0);
}

static rd_kafka_t *reader(int committed)
{
    static unsigned seq;
    char err[256], group[128];
    rd_kafka_conf_t *c = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    snprintf(group, sizeof group, "it-reader-%d-%u", (int)getpid(), seq++);
    it_kconf_set(c, "group.id", group);
    it_kconf_set(c, "isolation.level", committed ? "read_committed" : "read_uncommitted");
    it_kconf_set(c, "enable.partition.eof", "true");
    it_kconf_set(c, "enable.auto.commit", "false");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (rk)
        rd_kafka_poll_set_consumer(rk);
    return rk;
}

static int partitions_of(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    if (!rd_kafka_metadata(rk, 0, rkt, &md, 15000) && md->topic_cnt == 1 && !md->topics[0].err)
        n = md->topics[0].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return n;
}

static char *dupn(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* "name=value\n" for every header, however many (NULL when out of memory). */
static char *headers_text(rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h = NULL;
    size_t used = 0, cap = 256;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    buf[0] = '\0';
    if (!rd_kafka_message_headers(m, &h)) {
        const char *name;
        const void *val;
        size_t len;
        for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &val, &len); i++) {
            size_t need = strlen(name) + len + 3;
            while (used + need > cap) {
                char *nb = realloc(buf, cap * 2);
                if (!nb) {
                    free(buf);
                    return NULL;
                }
                buf = nb;
                cap *= 2;
            }
            used += (size_t)snprintf(buf + used, cap - used, "%s=%.*s\n", name, (int)len,
                                     val ? (const char *)val : "");
        }
    }
    return buf;
}

long it_read_topic(const char *topic, int committed, int timeout_ms, struct it_rec **out)
{
    rd_kafka_t *rk = reader(committed);
    if (!rk)
        return -1;
    int np = partitions_of(rk, topic);
    if (np <= 0) {
        rd_kafka_destroy(rk);
        return -1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
    for (int p = 0; p < np; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    long n = 0, cap = 1024;
    struct it_rec *r = malloc((size_t)cap * sizeof *r);
    int eofs = 0;
    int64_t deadline = it_now_ms() + timeout_ms;
    while (eofs < np && it_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eofs++;
        } else if (!m->err) {
            if (n == cap) {
                cap *= 2;
                r = realloc(r, (size_t)cap * sizeof *r);
            }
            r[n].partition = m->partition;
            r[n].offset = m->offset;
            r[n].timestamp = rd_kafka_message_timestamp(m, NULL);
            r[n].key = m->key ? dupn(m->key, m->key_len) : NULL;
            r[n].value = dupn(m->payload, m->len);
            r[n].key_len = m->key ? m->key_len : 0;
            r[n].value_len = m->payload ? m->len : 0;
            r[n].headers = headers_text(m);
            n++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (eofs < np) {
        it_recs_free(r, n);
        return -1;
    }
    *out = r;
    return n;
}

void it_recs_free(struct it_rec *r, long n)
{
    for (long i = 0; i < n; i++) {
        free(r[i].key);
        free(r[i].value);
        free(r[i].headers);
    }
    free(r);
}

long it_end_offsets(const char *topic)
{
    rd_kafka_t *rk = reader(0);
    if (!rk)
        return -1;
    int np = partitions_of(rk, topic);
    long sum = np > 0 ? 0 : -1;
    for (int p = 0; p < np && sum >= 0; p++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000))
            sum = -1;
        else
            sum += (long)hi;
    }
    rd_kafka_destroy(rk);
    return sum;
}

long it_group_committed(rd_kafka_t *grp, const char *topic, int parts)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
    for (int p = 0; p < parts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p);
    long sum = 0;
    if (!rd_kafka_committed(grp, l, 5000))
        for (int i = 0; i < l->cnt; i++)
            sum += l->elems[i].offset > 0 ? (long)l->elems[i].offset : 0;
    rd_kafka_topic_partition_list_destroy(l);
    return sum;
}

long it_count_committed(const char *topic, int timeout_ms)
{
    struct it_rec *r = NULL;
    long n = it_read_topic(topic, 1, timeout_ms, &r);
    if (n >= 0)
        it_recs_free(r, n);
    return n;
}

long it_wait_committed_past(const char *topic, long seen, long complete, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    long now;
    while ((now = it_count_committed(topic, 30000)) <= seen && now < complete &&
           it_now_ms() < deadline)
        ;
    return now;
}

int it_file_count(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

int it_file_wait(const char *path, const char *needle, int n, int timeout_ms)
{
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    int got = 0;
    if (fd < 0)
        return it_file_count(path, needle);
    /* Watch the folder, so that a file not yet created is covered too. */
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    inotify_add_watch(fd, slash ? dir : ".", IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE);
    int64_t deadline = it_now_ms() + timeout_ms;
    while ((got = it_file_count(path, needle)) < n && it_now_ms() < deadline) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int64_t left = deadline - it_now_ms();
        if (poll(&p, 1, (int)(left > 0 ? left : 0)) > 0) {
            char buf[4096];
            while (read(fd, buf, sizeof buf) > 0)
                ;
        }
    }
    close(fd);
    return got;
}

/* Runs argv to completion with the output on fd `which` (-1: stdout and
 * stderr both) captured into out; returns the wait status, or -1 when it
 * did not end within timeout_ms. */
static int exec_capture(int which, char *out, size_t outsz, int timeout_ms,
                        const char *const argv[])
{
    char path[64];
    int fd = it_tmpfile(path, sizeof path, "it-capture");
    if (fd < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, which < 0 ? STDOUT_FILENO : which);
        if (which < 0)
            dup2(fd, STDERR_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fd);
    int status = it_rill_stop(pid, 0, timeout_ms);
    FILE *f = fopen(path, "r");
    size_t got = f ? fread(out, 1, outsz - 1, f) : 0;
    out[got] = '\0';
    if (f)
        fclose(f);
    unlink(path);
    return status;
}

static const char *rill_bin(void)
{
    const char *bin = getenv("RILL_BIN");
    return bin ? bin : "./rill";
}

int it_rill_exec(char *err, size_t errsz, int timeout_ms, const char *arg1, const char *arg2)
{
    const char *argv[] = { rill_bin(), arg1, arg2, NULL };
    return exec_capture(STDERR_FILENO, err, errsz, timeout_ms, argv);
}

#define EXEC_MAX_ARGS 22

static int exec_va(int which, char *out, size_t outsz, int timeout_ms, va_list ap)
{
    const char *argv[EXEC_MAX_ARGS + 2];
    int n = 0;
    argv[n++] = rill_bin();
    const char *a;
    while (n <= EXEC_MAX_ARGS && (a = va_arg(ap, const char *)))
        argv[n++] = a;
    argv[n] = NULL;
    int status = exec_capture(which, out, outsz, timeout_ms, argv);
    return status == -1 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status);
}

int it_rill_exec3(char *out, size_t outsz, int timeout_ms, ...)
{
    va_list ap;
    va_start(ap, timeout_ms);
    int rc = exec_va(STDOUT_FILENO, out, outsz, timeout_ms, ap);
    va_end(ap);
    return rc;
}

int it_rill_exec_all(char *out, size_t outsz, int timeout_ms, ...)
{
    va_list ap;
    va_start(ap, timeout_ms);
    int rc = exec_va(-1, out, outsz, timeout_ms, ap);
    va_end(ap);
    return rc;
}

/* ---- the order pipeline's topology ------------------------------------------- */

const char *const it_pipeline_topics[7] = {
    "order_placed", "payment_result", "inventory_result", "order_shipped",
    "order_status", "stock_release",  "notifications",
};

static int word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.';
}

/* Replaces every occurrence of word in *text by repl (whole words only when
 * whole is set). */
static int replace_all(char **text, const char *word, const char *repl, int whole)
{
    size_t wl = strlen(word), rl = strlen(repl), n = 0;
    for (const char *p = *text; (p = strstr(p, word)); p += wl)
        n++;
    char *out = malloc(strlen(*text) + n * (rl + 1) + 1), *o = out;
    if (!out)
        return -1;
    const char *s = *text, *p;
    while ((p = strstr(s, word))) {
        int ok = !whole || ((p == *text || !word_char(p[-1])) && !word_char(p[wl]));
        memcpy(o, s, (size_t)(p - s));
        o += p - s;
        memcpy(o, ok ? repl : word, ok ? rl : wl);
        o += ok ? rl : wl;
        s = p + wl;
    }
    strcpy(o, s);
    free(*text);
    *text = out;
    return 0;
}

void it_pipeline_topic_names(const char *app, char (*topics)[128], const char **tp)
{
    for (int i = 0; i < 7; i++) {
        snprintf(topics[i], 128, "%s.%s", app, it_pipeline_topics[i]);
        tp[i] = topics[i];
    }
}

int it_pipeline_prepare(const char *yaml, const char *app, const char *dir, const char *stock,
                        const char *overrides, const char *const *topics, const char *extra)
{
    char state[300];
    snprintf(state, sizeof state, "%s/state", dir);
    setenv("RILL_APP_ID", app, 1);
    setenv("RILL_STATE_DIR", state, 1);
    setenv("KAFKA_BOOTSTRAP", it_env("KAFKA_BOOTSTRAP"), 1);
    setenv("RILL_INITIAL_STOCK", stock, 1);
    setenv("RILL_STOCK_OVERRIDES", overrides, 1);
    if (it_ecommerce_yaml(yaml, topics) != 0)
        return -1;
    if (!extra)
        return 0;
    FILE *f = fopen(yaml, "a");
    if (!f)
        return -1;
    fputs(extra, f);
    return fclose(f);
}

int it_ecommerce_yaml(const char *path, const char *const *topics)
{
    char *text = it_read_file("topology/examples/ecommerce.yaml", NULL);
    if (!text)
        return -1;
    char secrets[300];
    snprintf(secrets, sizeof secrets, "${file:%s/", it_env("SECRETS_DIR"));
    int bad = replace_all(&text, "${file:../../.stack/secrets/", secrets, 0) ||
              replace_all(&text, "kafka:\n  bootstrap",
                          "kafka:\n  session.timeout.ms: '6000'\n"
                          "  heartbeat.interval.ms: '1000'\n  bootstrap",
                          0);
    for (int i = 0; i < 7 && !bad; i++)
        bad = replace_all(&text, it_pipeline_topics[i], topics[i], 1);
    FILE *f = bad ? NULL : fopen(path, "w");
    if (!f) {
        free(text);
        return -1;
    }
    fputs(text, f);
    free(text);
    return fclose(f);
}
