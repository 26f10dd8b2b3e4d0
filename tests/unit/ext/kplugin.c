/*
 * kplugin.c - a librdkafka plugin (loaded through the plugin.library.paths
 * property, the way Confluent's monitoring interceptor is) for the
 * integration tests: each client librdkafka creates with it appends its
 * client.id and a newline to the file $RILL_TEST_KPLUGIN_OUT. It proves
 * that rill passes plugin.library.paths through to librdkafka and what
 * client ids its clients carry. Not a processor.
 */
#include <librdkafka/rdkafka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

rd_kafka_resp_err_t conf_init(rd_kafka_conf_t *conf, void **plug_opaquep, char *errstr,
                              size_t errstr_size);

static rd_kafka_resp_err_t on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf, void *ic_opaque,
                                  char *errstr, size_t errstr_size)
{
    (void)rk;
    (void)ic_opaque;
    (void)errstr;
    (void)errstr_size;
    const char *path = getenv("RILL_TEST_KPLUGIN_OUT");
    char id[512];
    size_t n = sizeof id - 1;
    if (!path || rd_kafka_conf_get(conf, "client.id", id, &n) != RD_KAFKA_CONF_OK)
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    size_t len = strlen(id);
    id[len++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        if (write(fd, id, len) < 0) { /* a test artifact: nothing to do about it */
        }
        close(fd);
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

rd_kafka_resp_err_t conf_init(rd_kafka_conf_t *conf, void **plug_opaquep, char *errstr,
                              size_t errstr_size)
{
    (void)errstr;
    (void)errstr_size;
    *plug_opaquep = NULL;
    return rd_kafka_conf_interceptor_add_on_new(conf, "rill-test-kplugin", on_new, NULL);
}
