/*
 * suite.c - the suite list behind RILL_SUITE and the shared main() logic of
 * the test tiers: register, run with CUnit's basic verbose interface, and turn
 * failures (including suite setup failures) into a non-zero exit status.
 */
#include "tests/lib/suite.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

static struct rill_suite *suites, **suites_tail = &suites;

void rill_suite_add(struct rill_suite *s)
{
    /* Keep file order stable: append. */
    *suites_tail = s;
    suites_tail = &s->next;
}

int rill_suite_main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    const char *test_like = argc > 2 ? argv[2] : NULL; /* a substring of test names */
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "cannot initialize CUnit: %s\n", CU_get_error_msg());
        return 2;
    }
    unsigned nsuites = 0;
    for (struct rill_suite *s = suites; s; s = s->next) {
        if (only && strcmp(only, s->name))
            continue;
        CU_pSuite cs = CU_add_suite(s->name, s->init, s->cleanup);
        if (!cs) {
            fprintf(stderr, "cannot add suite '%s': %s\n", s->name, CU_get_error_msg());
            CU_cleanup_registry();
            return 2;
        }
        for (CU_TestInfo *t = s->tests; t->pName; t++)
            if ((!test_like || strstr(t->pName, test_like)) &&
                !CU_add_test(cs, t->pName, t->pTestFunc)) {
                fprintf(stderr, "cannot add test '%s': %s\n", t->pName, CU_get_error_msg());
                CU_cleanup_registry();
                return 2;
            }
        nsuites++;
    }
    if (only && nsuites == 0) {
        fprintf(stderr, "no suite named '%s'\n", only);
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return (failed || ran == 0) ? 1 : 0;
}
