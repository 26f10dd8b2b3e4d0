/*
 * profile.c - `make bench-profile`: instructions per record of rill
 * passthrough against the raw loop (rawloop.c), counted by callgrind, so
 * that an A/B of two builds holds on a busy machine where wall-clock figures
 * do not. Each contender runs under `valgrind --tool=callgrind` on core 1
 * with its own empty input and output topics (6 partitions); one warm-up
 * record goes through first (group join, producer connections, the first
 * transaction), then the counters are zeroed, PROFILE_RECORDS records of ~150
 * bytes are produced, and the counters are dumped once the contender has
 * committed them all (its group's offsets). The count covers every thread of the process (librdkafka's too).
 * RILL_BIN_B, when set, adds a second rill build (e.g. the previous commit)
 * to compare. The dumps stay in the printed directory for callgrind_annotate.
 * Not a test.
 */
#include "tests/lib/scenario.h"
#include "tests/lib/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static unsigned seq;

/* Waits until the contender has committed n input records; 0 when it does
 * within 30 minutes. */
static int wait_for(rd_kafka_t *grp, const char *topic, long n)
{
    for (int64_t until = it_now_ms() + 1800000; it_now_ms() < until;) {
        if (it_group_committed(grp, topic, 6) >= n)
            return 0;
        usleep(50000);
    }
    return -1;
}

static void callgrind_control(const char *op, pid_t pid)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "callgrind_control %s %d >/dev/null", op, (int)pid);
    if (system(cmd))
        fprintf(stderr, "profile: '%s' failed\n", cmd);
}

/* Ir of a callgrind dump (its "summary:" line), or -1. */
static long long dump_ir(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    long long ir = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "summary:", 8)) {
            ir = atoll(line + 8);
            break;
        }
    if (f)
        fclose(f);
    return ir;
}

/* Runs one contender (the raw loop, or a rill binary) with guarantee "alo" or
 * "eos"; returns instructions per record, or -1. */
static double profile(const char *name, const char *bin, int raw, const char *guarantee,
                      int commit_ms, long records)
{
    char in[160], out[160], group[128], yaml[256], body[2048], ms[16], cgout[256], log[256];
    snprintf(group, sizeof group, "bench-prof-%d-%u", (int)getpid(), seq++);
    snprintf(in, sizeof in, "%s.in", group);
    snprintf(out, sizeof out, "%s.out", group);
    snprintf(ms, sizeof ms, "%d", commit_ms);
    snprintf(cgout, sizeof cgout, "--callgrind-out-file=%s/%s.%%p", dir, name);
    snprintf(log, sizeof log, "%s/%s.log", dir, name);
    if (it_create_topic(in, 6) || it_create_topic(out, 6))
        return -1;
    char *argv[16] = { "taskset", "-c", "1", "valgrind", "--tool=callgrind",
                       "--compress-strings=no", "--compress-pos=no", cgout, (char *)bin };
    int n = 9;
    if (raw) {
        argv[n++] = in;
        argv[n++] = out;
        argv[n++] = group;
        argv[n++] = (char *)guarantee;
        argv[n++] = ms;
    } else {
        snprintf(yaml, sizeof yaml, "%s/%s.yaml", dir, name);
        snprintf(body, sizeof body,
                 "application.id: %s\nprocessing.guarantee: %s\ncommit.interval.ms: %d\n"
                 "state.dir: %s/state\n"
                 "topics:\n  %s: {partitions: 6}\n  %s: {partitions: 6}\n"
                 "processors:\n  p: {type: passthrough, inputs: [%s], outputs: [%s]}\n",
                 group, !strcmp(guarantee, "eos") ? "exactly_once_v2" : "at_least_once",
                 commit_ms, dir, in, out, in, out);
        if (it_write_yaml(yaml, body))
            return -1;
        argv[n++] = "run";
        argv[n++] = yaml;
    }
    argv[n] = NULL;
    fflush(stdout); /* the child's freopen would write the pending lines again */
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(log, "a", stderr) || !freopen("/dev/null", "w", stdout))
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    /* A handle in the contender's group (never joining it) to read its
     * committed offsets: rill's group is "<application.id>.<processor>". */
    char err[256], gid[160];
    snprintf(gid, sizeof gid, raw ? "%s" : "%s.p", group);
    rd_kafka_conf_t *c = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(c, "group.id", gid);
    rd_kafka_t *mon = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    double per = -1;
    if (mon && !it_produce_padded(in, 1, 0) && !wait_for(mon, in, 1)) {
        callgrind_control("-z", pid);
        if (!it_produce_padded(in, records, 100000) && !wait_for(mon, in, 1 + records)) {
            callgrind_control("-d", pid);
            char path[300];
            snprintf(path, sizeof path, "%s/%s.%d.1", dir, name, (int)pid);
            long long ir = dump_ir(path);
            per = ir < 0 ? -1 : (double)ir / (double)records;
        }
    }
    if (mon)
        rd_kafka_destroy(mon);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return per;
}

int main(void)
{
    const char *rill = getenv("RILL_BIN"), *rill_b = getenv("RILL_BIN_B");
    const char *rawloop = getenv("RAWLOOP_BIN"), *rv = getenv("PROFILE_RECORDS");
    long records = rv && *rv ? atol(rv) : 100000;
    if (!rill || !rawloop || records <= 0)
        return fprintf(stderr, "profile: RILL_BIN and RAWLOOP_BIN must be set\n"), 2;
    if (!it_tmpdir(dir, sizeof dir, "profile"))
        return 1;
    struct {
        const char *name, *bin;
        int raw;
        const char *guarantee;
        int commit_ms;
    } c[] = {
        { "raw-alo", rawloop, 1, "alo", 1000 },
        { "rill-alo", rill, 0, "alo", 1000 },
        { "rill_b-alo", rill_b, 0, "alo", 1000 },
        { "raw-eos", rawloop, 1, "eos", 100 },
        { "rill-eos", rill, 0, "eos", 100 },
        { "rill_b-eos", rill_b, 0, "eos", 100 },
    };
    printf("instructions per record (callgrind, %ld records of ~150 bytes, 6 partitions; "
           "alo commits every 1 s, eos every 100 ms); dumps in %s\n\n"
           "| contender | binary | Ir / record |\n| --- | --- | ---: |\n", records, dir);
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        if (!c[i].bin)
            continue;
        double per = profile(c[i].name, c[i].bin, c[i].raw, c[i].guarantee, c[i].commit_ms,
                             records);
        printf("| %s | %s | %.0f |\n", c[i].name, c[i].bin, per);
        fflush(stdout);
    }
    return 0;
}
