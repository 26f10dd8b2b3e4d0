/*
 * suite.h - how a test file registers its CUnit suite. Each test file ends with
 * RILL_SUITE("name", tests) (unit and integration tiers alike); a constructor
 * adds it to a list that the tier's main() hands to CUnit, so adding a test
 * file needs no edit elsewhere. Not a test framework of its own: assertions
 * are CUnit's.
 */
#ifndef RILL_TEST_SUITE_H
#define RILL_TEST_SUITE_H

#include <CUnit/CUnit.h>

struct rill_suite {
    const char *name;
    CU_TestInfo *tests;
    CU_InitializeFunc init;
    CU_CleanupFunc cleanup;
    struct rill_suite *next;
};

void rill_suite_add(struct rill_suite *s);
/* Registers every added suite with CUnit, runs them (verbose), prints CUnit's
 * summary and returns the process exit status: 0 only if nothing failed.
 * argv[1], when given, runs only the suite of that name; argv[2] only its
 * tests whose names contain that text. */
int rill_suite_main(int argc, char **argv);

#define RILL_SUITE_FULL(sname, stests, sinit, scleanup)                                \
    static struct rill_suite rill_suite_entry_ = { sname, stests, sinit, scleanup, 0 }; \
    __attribute__((constructor)) static void rill_suite_register_(void)                \
    {                                                                                  \
        rill_suite_add(&rill_suite_entry_);                                            \
    }
#define RILL_SUITE(sname, stests) RILL_SUITE_FULL(sname, stests, NULL, NULL)

#endif
