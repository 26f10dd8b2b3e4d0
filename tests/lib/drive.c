/*
 * drive.c - the unit tier's shortcuts to the test driver and to running a
 * command in-process (drive.h).
 */
#include "tests/lib/drive.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct rill_topology *it_load(const char *yaml)
{
    struct rill_topology *t = NULL;
    char err[512];
    if (rill_topology_load_buf("test.yaml", yaml, strlen(yaml), &t, err, sizeof err) != RILL_OK)
        fprintf(stderr, "load: %s\n", err);
    return t;
}

rill_driver_t *it_driver(struct rill_topology *t)
{
    char err[512];
    rill_driver_t *d = rill_driver_new(t, err, sizeof err);
    if (!d)
        fprintf(stderr, "driver: %s\n", err);
    return d;
}

int it_capture(int (*cmd)(int, char **), char *out, size_t size, int argc, char **argv)
{
    fflush(stdout);
    fflush(stderr);
    FILE *tmp = tmpfile();
    if (!tmp)
        return -1;
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fileno(tmp), 1);
    dup2(fileno(tmp), 2);
    int rc = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    rewind(tmp);
    size_t n = fread(out, 1, size - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return rc;
}

const char *it_header(const struct rill_captured *c, const char *name, char *buf, size_t sz)
{
    for (size_t i = 0; c && i < c->rec.header_cnt; i++)
        if (!strcmp(c->rec.headers[i].name, name)) {
            snprintf(buf, sz, "%.*s", (int)c->rec.headers[i].len,
                     (const char *)c->rec.headers[i].value);
            return buf;
        }
    return NULL;
}

const char *const it_chain_yaml =
    "application.id: a\n"
    "topics:\n"
    "  order_placed: {partitions: 4}\n"
    "  payment_result: {partitions: 4}\n"
    "  inventory_result: {partitions: 4}\n"
    "  order_shipped: {partitions: 4}\n"
    "  order_status: {partitions: 4}\n"
    "  stock_release: {partitions: 4, feedback: true}\n"
    "  notifications: {partitions: 4}\n"
    "processors:\n"
    "  payment: {type: payment, inputs: [order_placed], outputs: [payment_result],\n"
    "            config: {approve_rate: 0.75, seed: 5}}\n"
    "  inventory: {type: inventory, inputs: [order_placed, stock_release],\n"
    "              outputs: [inventory_result], stores: [stock], config: {initial_stock: 6}}\n"
    "  shipping: {type: shipping, inputs: [payment_result, inventory_result],\n"
    "             outputs: [order_shipped, order_status, stock_release], stores: [joins]}\n"
    "  notification: {type: notification, outputs: [notifications],\n"
    "                 inputs: [payment_result, inventory_result, order_shipped, order_status]}\n";
