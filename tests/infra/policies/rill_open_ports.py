"""checkov custom check CKV_RILL_1, loaded by `checkov --external-checks-dir
tests/infra/policies`: the project policy of tests/infra/policy.py (no
ingress to 22 or 9092-9096 from 0.0.0.0/0 or ::/0) on checkov's parsed
resources. The rule itself lives in policy.py (standard library only)."""
import os
import sys

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import policy  # noqa: E402  (tests/infra/policy.py)


class NoWorldIngressToSshOrKafka(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="No ingress to port 22 or 9092-9096 from 0.0.0.0/0 or ::/0 (rill policy)",
            id=policy.CHECK_ID,
            categories=(CheckCategories.NETWORKING,),
            supported_resources=("aws_security_group", "aws_security_group_rule",
                                 "aws_vpc_security_group_ingress_rule"),
        )

    def scan_resource_conf(self, conf):
        found = policy.violations(self.entity_type, conf)
        if found:
            self.details.extend(found)
            return CheckResult.FAILED
        return CheckResult.PASSED


check = NoWorldIngressToSshOrKafka()
