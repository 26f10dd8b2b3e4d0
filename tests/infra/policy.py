#!/usr/bin/env python3
"""Project policy: no ingress to port 22 or to any port of 9092-9096 (SSH and
the Kafka listeners) from 0.0.0.0/0 or ::/0, in aws_security_group inline
ingress blocks, aws_security_group_rule (type ingress) and
aws_vpc_security_group_ingress_rule. A range that overlaps 22 or 9092-9096
counts, as does an all-protocols rule (-1); ICMP rules have no ports. A rule
open to the world whose ports cannot be read (an unresolved expression)
fails: the policy does not guess in the open case.

The rule logic (violations()) is plain Python 3 standard library. The .tf
files are parsed by checkov (its HCL parser resolves variables and modules):
policies/rill_open_ports.py registers violations() as checkov check
CKV_RILL_1. This script runs checkov with only that check and reads its
JSON report:

  policy.py DIR [--checkov PATH] [--expect-failures NAME,NAME,...]
  policy.py --self-test      (the rule on hand-made cases, no checkov)

exits 0 when no resource fails (and at least one was evaluated), 1 when some
fail; with --expect-failures, 0 exactly when the failing resources are the
ones named (resource addresses such as aws_security_group.open_ssh), which
proves on a fixture that the policy fires. 2 on a usage or checkov error.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

CHECK_ID = "CKV_RILL_1"
GUARDED = ((22, 22), (9092, 9096))
OPEN = {"0.0.0.0/0", "::/0", "0000:0000:0000:0000:0000:0000:0000:0000/0"}
NO_PORTS = {"icmp", "icmpv6", "1", "58"}
ALL_PROTOCOLS = {"-1", "all"}


def unwrap(value):
    """checkov wraps every attribute value in a one-element list."""
    while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], dict):
        return value[0]
    return value


def as_list(value):
    value = unwrap(value)
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if v is not None]


def as_port(value):
    value = unwrap(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def rule_violation(rule, cidr_keys, protocol_key):
    """One ingress rule (a dict of attributes): a reason string, or None."""
    sources = [c for k in cidr_keys for c in as_list(rule.get(k)) if isinstance(c, str)]
    opened = sorted(set(sources) & OPEN)
    if not opened:
        return None
    protocol = str(unwrap(rule.get(protocol_key)) if rule.get(protocol_key) is not None else "").lower()
    if protocol in NO_PORTS:
        return None
    if protocol in ALL_PROTOCOLS:
        return "all protocols and ports open to %s" % ", ".join(opened)
    lo, hi = as_port(rule.get("from_port")), as_port(rule.get("to_port"))
    if lo is None and hi is None:
        return "ports unreadable, open to %s" % ", ".join(opened)
    lo = hi if lo is None else lo
    hi = lo if hi is None else hi
    for g_lo, g_hi in GUARDED:
        if lo <= g_hi and hi >= g_lo:
            return "ports %d-%d open to %s" % (lo, hi, ", ".join(opened))
    return None


def violations(resource_type, conf):
    """Reasons why one resource's configuration breaks the policy."""
    found = []
    if resource_type == "aws_security_group":
        for i, block in enumerate(as_list(conf.get("ingress"))):
            for rule in as_list(block):
                if isinstance(rule, dict):
                    why = rule_violation(rule, ("cidr_blocks", "ipv6_cidr_blocks"), "protocol")
                    if why:
                        found.append("ingress[%d]: %s" % (i, why))
    elif resource_type == "aws_security_group_rule":
        if str(unwrap(conf.get("type"))).lower() == "ingress":
            why = rule_violation(conf, ("cidr_blocks", "ipv6_cidr_blocks"), "protocol")
            if why:
                found.append(why)
    elif resource_type == "aws_vpc_security_group_ingress_rule":
        why = rule_violation(conf, ("cidr_ipv4", "cidr_ipv6"), "ip_protocol")
        if why:
            found.append(why)
    return found


def find_checkov(given):
    if given:
        return given
    return shutil.which("checkov")


def run(directory, checkov):
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false")
    env.pop("BC_API_KEY", None)
    cmd = [checkov, "-d", directory, "--framework", "terraform", "--skip-download",
           "--external-checks-dir", os.path.join(here, "policies"), "--check", CHECK_ID,
           "-o", "json"]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        sys.stderr.write(proc.stderr[-2000:])
        raise SystemExit("policy.py: checkov gave no JSON report (exit %d)" % proc.returncode)
    reports = report if isinstance(report, list) else [report]
    passed, failed = [], []
    for r in reports:
        if r.get("check_type") != "terraform":
            continue
        results = r.get("results", {})
        passed += [c for c in results.get("passed_checks", []) if c["check_id"] == CHECK_ID]
        failed += [c for c in results.get("failed_checks", []) if c["check_id"] == CHECK_ID]
    return passed, failed


def address(check):
    return check.get("resource", "?")


def self_test():
    """The rule on hand-made configurations in checkov's shape."""
    w = lambda v: [v]
    sg = lambda **kw: {k: w(v) for k, v in kw.items()}
    cases = [
        ("aws_security_group", {"ingress": [sg(from_port=0, to_port=0, protocol="-1", cidr_blocks=["0.0.0.0/0"])]}, True),
        ("aws_security_group", {"ingress": [sg(from_port=22, to_port=22, protocol="tcp", cidr_blocks=["10.0.0.0/8"])]}, False),
        ("aws_security_group", {"ingress": [sg(from_port=9096, to_port=9200, protocol="tcp", ipv6_cidr_blocks=["::/0"])]}, True),
        ("aws_security_group", {"ingress": [sg(from_port=9097, to_port=9200, protocol="tcp", cidr_blocks=["0.0.0.0/0"])]}, False),
        ("aws_security_group", {"ingress": [sg(from_port=1, to_port=21, protocol="tcp", cidr_blocks=["0.0.0.0/0"])]}, False),
        ("aws_security_group_rule", sg(type="egress", from_port=22, to_port=22, protocol="tcp", cidr_blocks=["0.0.0.0/0"]), False),
        ("aws_security_group_rule", sg(type="ingress", from_port="${var.p}", to_port="${var.p}", protocol="tcp", cidr_blocks=["0.0.0.0/0"]), True),
        ("aws_security_group_rule", sg(type="ingress", from_port=8, to_port=0, protocol="icmp", cidr_blocks=["0.0.0.0/0"]), False),
        ("aws_vpc_security_group_ingress_rule", sg(ip_protocol="-1", cidr_ipv4="0.0.0.0/0"), True),
        ("aws_vpc_security_group_ingress_rule", sg(ip_protocol="tcp", from_port=9092, to_port=9092, cidr_ipv4="${var.vpc_cidr}"), False),
        ("aws_vpc_security_group_ingress_rule", sg(ip_protocol="tcp", from_port=22, to_port=22, cidr_ipv4="0.0.0.0/0"), True),
    ]
    bad = [(t, c) for t, c, want in cases if bool(violations(t, c)) != want]
    for t, c in bad:
        print("policy: self-test wrong on %s %r" % (t, c))
    print("policy: self-test: %d of %d cases right" % (len(cases) - len(bad), len(cases)))
    return 1 if bad else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory")
    ap.add_argument("--checkov", help="the checkov executable (default: checkov on PATH)")
    ap.add_argument("--expect-failures", help="comma-separated resource addresses that must fail")
    args = ap.parse_args()
    checkov = find_checkov(args.checkov)
    if not checkov:
        print("policy.py: checkov not found (infra/local/tools.sh checkov installs it)", file=sys.stderr)
        return 2
    passed, failed = run(args.directory, checkov)
    for c in failed:
        details = "; ".join(c.get("details") or []) or "open ingress"
        print("policy: FAILED %s (%s:%s): %s" % (address(c), c.get("file_path", "?"),
              (c.get("file_line_range") or ["?"])[0], details))
    print("policy: %s: %d resources evaluated, %d passed, %d failed"
          % (args.directory, len(passed) + len(failed), len(passed), len(failed)))
    if args.expect_failures is not None:
        want = set(a for a in args.expect_failures.split(",") if a)
        got = set(address(c) for c in failed)
        if got != want:
            print("policy: expected exactly %s to fail, got %s" % (sorted(want), sorted(got)))
            return 1
        print("policy: the policy fires on exactly the %d expected resources" % len(want))
        return 0
    if not passed and not failed:
        print("policy: no security group resource evaluated: nothing proven")
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
