/*
 * main.c - the integration tier: suites that talk to the real local Kafka
 * (KRaft, SASL/SCRAM, ACLs, transactions) and PostgreSQL started by
 * infra/local/. `make test-integration` brings the stack up first.
 */
#include "tests/lib/suite.h"

int main(int argc, char **argv)
{
    return rill_suite_main(argc, argv);
}
