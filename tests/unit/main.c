/*
 * main.c - the unit tier: every suite under tests/unit/, no broker, no
 * database, no network beyond 127.0.0.1 (the scripted schema registry of
 * test_registry.c). Run as `make test-unit`, or with a suite name to run just
 * that suite.
 */
#include "tests/lib/suite.h"

int main(int argc, char **argv)
{
    return rill_suite_main(argc, argv);
}
