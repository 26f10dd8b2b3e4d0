/*
 * test_log.c - the structured log's two formats: a logfmt line as before,
 * and a JSON line that is one valid JSON object whose members are the
 * message and every key=value pair (quoted values with spaces, '=' and
 * backslashes kept whole, control characters escaped); level names parse; a component
 * level can be set and a full table refuses more.
 */
#include "tests/lib/suite.h"
#include "topology/base/json.h"
#include "topology/base/log.h"

#include <stdio.h>
#include <string.h>

static const char *field(const char *line, const char *key)
{
    static char out[256];
    if (rill_json_get(line, strlen(line) - 1 /* the newline */, key, out, sizeof out, NULL) !=
        RILL_JSON_FOUND)
        snprintf(out, sizeof out, "<missing>");
    return out;
}

static void test_formats(void)
{
    char line[2048];
    const char *body = "circuit open, partitions paused|sink=orders_db "
                       "error=\"connection lost: 'x' \\ y=z\" retry_in_ms=104 alone";
    size_t n = rill_log_render(line, sizeof line, RILL_LOG_LOGFMT, "2026-12-02T01:00:00.000Z",
                               RILL_LOG_WARN, "sink", body);
    CU_ASSERT_EQUAL(n, strlen(line));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "2026-12-02T01:00:00.000Z level=warn comp=sink "
                                        "msg=\"circuit open, partitions paused\" sink=orders_db"));
    n = rill_log_render(line, sizeof line, RILL_LOG_JSON, "2026-12-02T01:00:00.000Z",
                        RILL_LOG_WARN, "sink", body);
    CU_ASSERT_EQUAL(n, strlen(line));
    CU_ASSERT_EQUAL(line[n - 1], '\n');
    CU_ASSERT_PTR_NULL(strchr(line, '\n') == line + n - 1 ? NULL : line);
    CU_ASSERT_STRING_EQUAL(field(line, "ts"), "2026-12-02T01:00:00.000Z");
    CU_ASSERT_STRING_EQUAL(field(line, "level"), "warn");
    CU_ASSERT_STRING_EQUAL(field(line, "comp"), "sink");
    CU_ASSERT_STRING_EQUAL(field(line, "msg"), "circuit open, partitions paused");
    CU_ASSERT_STRING_EQUAL(field(line, "sink"), "orders_db");
    CU_ASSERT_STRING_EQUAL(field(line, "error"), "connection lost: 'x' \\ y=z");
    CU_ASSERT_STRING_EQUAL(field(line, "retry_in_ms"), "104");
    CU_ASSERT_STRING_EQUAL(field(line, "extra"), "alone");
    /* control characters are escaped; the line stays one line */
    n = rill_log_render(line, sizeof line, RILL_LOG_JSON, "t", RILL_LOG_INFO, "x",
                        "a\tb\nc|k=\"v\nw\"");
    CU_ASSERT_EQUAL(strchr(line, '\n'), line + n - 1);
    CU_ASSERT_STRING_EQUAL(field(line, "msg"), "a\tb\nc");
    CU_ASSERT_STRING_EQUAL(field(line, "k"), "v\nw");
    /* too long for the buffer: cut, still one closed line */
    n = rill_log_render(line, 40, RILL_LOG_JSON, "t", RILL_LOG_INFO, "x",
                        "a message much longer than forty bytes in all");
    CU_ASSERT(n < 40);
    CU_ASSERT_EQUAL(line[n - 1], '\n');
    CU_ASSERT_EQUAL(line[n - 2], '}');
}

static void test_levels(void)
{
    rill_log_level_t l = RILL_LOG_INFO;
    CU_ASSERT_EQUAL(rill_log_level_parse("DEBUG", &l), 0);
    CU_ASSERT_EQUAL(l, RILL_LOG_DEBUG);
    CU_ASSERT_EQUAL(rill_log_level_parse("error", &l), 0);
    CU_ASSERT_EQUAL(l, RILL_LOG_ERROR);
    CU_ASSERT_EQUAL(rill_log_level_parse("loud", &l), -1);
    CU_ASSERT_EQUAL(rill_log_level_parse(NULL, &l), -1);
    CU_ASSERT_EQUAL(rill_log_set_component_level("test-a", RILL_LOG_ERROR), 0);
    CU_ASSERT_EQUAL(rill_log_set_component_level("test-a", RILL_LOG_WARN), 0); /* replaced */
    CU_ASSERT_EQUAL(rill_log_set_component_level("a-component-name-far-too-long-to-keep",
                                                 RILL_LOG_WARN), -1);
}

static CU_TestInfo tests[] = {
    { "logfmt and JSON lines: every pair a member, escaped, one line", test_formats },
    { "level names and component levels", test_levels },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("log", tests)
