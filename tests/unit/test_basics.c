/*
 * test_basics.c - unit tests of the error descriptions, the errstr formatter
 * and the version report.
 */
#include "tests/lib/suite.h"
#include "topology/rill.h"

#include <string.h>

static void test_err2str_distinct(void)
{
    for (int a = 0; a < RILL_ERR__COUNT; a++) {
        const char *sa = rill_err2str((rill_err_t)a);
        CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
        CU_ASSERT_STRING_NOT_EQUAL(sa, "unknown error");
        for (int b = a + 1; b < RILL_ERR__COUNT; b++)
            CU_ASSERT_STRING_NOT_EQUAL(sa, rill_err2str((rill_err_t)b));
    }
}

static void test_err2str_out_of_range(void)
{
    CU_ASSERT_STRING_EQUAL(rill_err2str(RILL_ERR__COUNT), "unknown error");
    CU_ASSERT_STRING_EQUAL(rill_err2str((rill_err_t)-1), "unknown error");
}

static void test_errf_formats_and_returns(void)
{
    char buf[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL(rill_errf(buf, sizeof buf, RILL_ERR_IO, "cannot open '%s': %d", "x", 7),
                    RILL_ERR_IO);
    CU_ASSERT_STRING_EQUAL(buf, "cannot open 'x': 7");
    char small[5];
    CU_ASSERT_EQUAL(rill_errf(small, sizeof small, RILL_ERR_NOFIT, "%s", "truncated"),
                    RILL_ERR_NOFIT);
    CU_ASSERT_STRING_EQUAL(small, "trun");
    /* No buffer: still the code, and nothing written. */
    CU_ASSERT_EQUAL(rill_errf(NULL, 0, RILL_ERR_STATE, "%s", "ignored"), RILL_ERR_STATE);
    buf[0] = 'z';
    CU_ASSERT_EQUAL(rill_errf(buf, 0, RILL_ERR_KAFKA, "%s", "ignored"), RILL_ERR_KAFKA);
    CU_ASSERT_EQUAL(buf[0], 'z');
}

static void test_version_names_libraries(void)
{
    char buf[512];
    int n = rill_version_describe(buf, sizeof buf);
    CU_ASSERT(n > 0 && (size_t)n < sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "rill " RILL_VERSION "\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "librdkafka 2."));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "rocksdb 7."));
    CU_ASSERT_PTR_NULL(strstr(buf, "not loaded"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "libpq 1"));
}

static void test_version_truncates_safely(void)
{
    char small[8];
    memset(small, 'x', sizeof small);
    int n = rill_version_describe(small, sizeof small);
    CU_ASSERT(n > (int)sizeof small);
    CU_ASSERT_EQUAL(small[sizeof small - 1], '\0');
}

static CU_TestInfo tests[] = {
    { "err2str gives every error its own text", test_err2str_distinct },
    { "err2str handles out-of-range values", test_err2str_out_of_range },
    { "errf formats, truncates and returns its code", test_errf_formats_and_returns },
    { "version names rill, librdkafka, rocksdb, libpq", test_version_names_libraries },
    { "version truncates into a small buffer", test_version_truncates_safely },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("basics", tests)
