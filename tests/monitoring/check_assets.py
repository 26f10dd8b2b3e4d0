#!/usr/bin/env python3
# check_assets.py - static checks of the monitoring assets in
# infra/monitoring/, run by tests/monitoring/check.sh:
#   check_assets.py dashboard FILE.json [EXPRS.yml]
#       the Grafana dashboard parses as JSON, has a description, a
#       `datasource` variable of type prometheus and an `instance` variable,
#       the rows of issue 12, every panel and target on ${datasource}, and
#       every target's PromQL names only the metrics rill exposes (or `up`),
#       known PromQL functions and bounded labels; with EXPRS.yml, writes the
#       targets' expressions (Grafana's variables replaced) as a rules file
#       for `promtool check rules` to parse.
#   check_assets.py metrics FILE
#       a live /metrics answer names only the metrics below, each with
#       exactly its labels, and all of them appear (the sinks' when there
#       are sinks); tests/integration/test_http.c runs it.
#   check_assets.py rules FILE.yml
#       the alert rules name only those metrics and labels (or recording
#       rules of the file), each alert has `for:`, a severity label and
#       summary/description annotations, and templates read only bounded
#       labels.
# Prints one line per problem ("FILE: where: what") and exits 1 when there is
# one. "Bounded labels" (issue 12: no label whose values grow with the data):
# the labels rill's metrics carry, whose values come from the topology and
# the deployment (processors, sinks, groups, topics, partitions, stores,
# instances, versions, histogram buckets), never from the records.
import json
import re
import sys

# What /metrics exposes (topology/engine/metrics.c), by name, with its
# labels; tests/integration/test_http.c checks a live /metrics against it. Histograms also expose _bucket (le),
# _sum and _count.
METRICS = {
    "rill_build_info": {"version"},
    "rill_ready": set(),
    "rill_start_time_seconds": set(),
    "rill_records_in_total": {"processor", "topic"},
    "rill_records_out_total": {"processor", "topic"},
    "rill_dlq_records_total": {"processor", "reason"},
    "rill_transactions_total": {"processor", "result"},
    "rill_rebalances_total": {"processor"},
    "rill_retries_total": {"processor"},
    "rill_fetch_wakeups_total": {"processor"},
    "rill_sink_records_total": {"sink"},
    "rill_sink_batches_total": {"sink"},
    "rill_sink_retries_total": {"sink"},
    "rill_sink_rebalances_total": {"sink"},
    "rill_sink_dead_letters_total": {"sink"},
    "rill_sink_circuit_open": {"sink"},
    "rill_consumer_lag_records": {"group", "topic", "partition"},
    "rill_consumer_lag_seconds": {"group", "topic", "partition"},
    "rill_restore_progress_ratio": {"processor", "store"},
    "rill_restore_remaining_records": {"processor"},
    "rill_restore_records_total": {"processor"},
    "rill_store_estimated_keys": {"processor", "store"},
    "rill_store_estimated_bytes": {"processor", "store"},
    "rill_kafka_broker_rtt_seconds": {"processor", "thread", "client", "broker"},
    "rill_kafka_queue_messages": {"processor", "thread", "client"},
    "rill_kafka_txn_state": {"processor", "thread", "client", "state"},
    "up": set(),
}
HISTOGRAMS = {"rill_commit_duration_seconds": {"processor"},
              "rill_end_to_end_latency_seconds": {"processor"},
              "rill_processing_seconds": {"processor"}}
for h, labels in HISTOGRAMS.items():
    METRICS[h + "_bucket"] = labels | {"le"}
    METRICS[h + "_sum"] = labels
    METRICS[h + "_count"] = labels
# Prometheus's target labels and the alerts' own label.
TARGET_LABELS = {"job", "instance"}
LABELS = set().union(*METRICS.values()) | TARGET_LABELS
ALERT_LABELS = LABELS | {"severity"}

FUNCTIONS = set("""abs absent absent_over_time avg avg_over_time bottomk ceil
changes clamp clamp_max clamp_min count count_over_time count_values delta
deriv exp floor group histogram_quantile holt_winters idelta increase irate
label_join label_replace last_over_time ln log10 log2 max max_over_time min
min_over_time predict_linear present_over_time quantile quantile_over_time
rate resets round scalar sgn sort sort_desc sqrt stddev stddev_over_time
stdvar stdvar_over_time sum sum_over_time time timestamp topk vector""".split())
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on",
            "ignoring", "group_left", "group_right", "inf", "nan", "atan2"}
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
IDENT = re.compile(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)")

problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def strip_grafana(expr):
    """Grafana's variables, replaced as Grafana would before the query."""
    expr = expr.replace("$__rate_interval", "1m").replace("${__rate_interval}", "1m")
    expr = expr.replace("$__range", "1h").replace("${__range}", "1h")
    expr = expr.replace("$__interval", "1m").replace("${__interval}", "1m")
    return re.sub(r"\$\{?(instance|job)\}?", ".*", expr)


def check_promql(where, expr, names_ok=frozenset()):
    """Metric names, functions and labels of a PromQL expression. names_ok:
    recording rules a rules file defines. A small scanner, not a parser:
    `promtool check rules` parses the expressions."""
    e = re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    e = re.sub(r"\$\{?\w+\}?", "", e)
    if "$" in e:
        problem(where, f"a Grafana variable the check does not know in {expr!r}")
    e = re.sub(r"\[[^\]]*\]", "", e)
    # Label matchers: {name op "value", ...}.
    for inner in re.findall(r"\{([^}]*)\}", e):
        for label in re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", inner):
            if label == "__name__":
                problem(where, f"selects by __name__ (name the metric instead) in {expr!r}")
            elif label not in LABELS:
                problem(where, f"label {label!r} is not one rill's metrics carry")
    e = re.sub(r"\{[^}]*\}", " ", e)
    for _, inner in GROUPING.findall(e):
        for label in re.findall(r"[A-Za-z_]\w*", inner):
            if label not in LABELS:
                problem(where, f"groups by {label!r}, not a label of rill's metrics")
    e = GROUPING.sub(" ", e)
    names, unknown = [], False
    for m in IDENT.finditer(e):
        word = m.group(1)
        rest = e[m.end():].lstrip()
        if word.lower() in KEYWORDS:
            pass
        elif rest.startswith("("):
            if word not in FUNCTIONS:
                problem(where, f"unknown PromQL function {word!r}")
        elif word in METRICS or word in names_ok:
            names.append(word)
        else:
            problem(where, f"metric {word!r} is not one rill exposes (nor up)")
            unknown = True
    if not names and not unknown:
        problem(where, f"names no metric: {expr!r}")
    return names


def check_legend(where, legend):
    for label in re.findall(r"\{\{\s*([^}\s]+)\s*\}\}", legend or ""):
        if label not in LABELS:
            problem(where, f"legend reads label {label!r}, not one of rill's metrics")


def is_ds_ref(ds):
    if isinstance(ds, str):
        return ds in ("$datasource", "${datasource}")
    return isinstance(ds, dict) and ds.get("uid") in ("$datasource", "${datasource}")


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def check_dashboard(path, exprs_out=None):
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        problem(path, f"not valid JSON: {e}")
        return
    if not isinstance(d, dict):
        problem(path, "not a dashboard object")
        return
    if not str(d.get("description", "")).strip():
        problem(path, "no description (the dashboard's purpose)")
    if not isinstance(d.get("schemaVersion"), int) or d["schemaVersion"] < 36:
        problem(path, f"schemaVersion {d.get('schemaVersion')!r}, want 36 or newer")
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problem(path, "no `datasource` variable of type datasource, query prometheus")
    inst = variables.get("instance")
    if not inst:
        problem(path, "no `instance` variable")
    else:
        if not is_ds_ref(inst.get("datasource")):
            problem(path, "the instance variable does not query ${datasource}")
        q = inst.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        m = re.match(r"\s*label_values\((.*),\s*instance\s*\)\s*$", q)
        if not m:
            problem(path, f"the instance variable's query {q!r} is not label_values(..., instance)")
        else:
            check_promql(f"{path}: variable instance", m.group(1))
    panels = list(walk_panels(d.get("panels", [])))
    rows = {p.get("title") for p in panels if p.get("type") == "row"}
    for want in ("Throughput", "Lag", "Latency", "DLQ", "Transactions", "Restore", "Sinks"):
        if want not in rows:
            problem(path, f"no row {want!r}")
    ids = [p.get("id") for p in panels]
    if len(ids) != len(set(ids)) or None in ids:
        problem(path, "panel ids missing or not unique")
    exprs = []
    for p in panels:
        if p.get("type") == "row":
            continue
        where = f"{path}: panel {p.get('id')} {p.get('title')!r}"
        if not is_ds_ref(p.get("datasource")):
            problem(where, "datasource is not ${datasource}")
        targets = p.get("targets") or []
        if not targets:
            problem(where, "no targets")
        for t in targets:
            tw = f"{where} target {t.get('refId')}"
            if not is_ds_ref(t.get("datasource")):
                problem(tw, "datasource is not ${datasource}")
            expr = t.get("expr", "")
            if not expr.strip():
                problem(tw, "no expr")
                continue
            if 'job="rill"' not in expr or "$instance" not in expr:
                problem(tw, 'selectors without job="rill" and instance=~"$instance"')
            check_promql(tw, expr)
            check_legend(tw, t.get("legendFormat"))
            exprs.append(strip_grafana(expr))
    if exprs_out:
        # JSON is YAML: one recording rule per expression, for promtool.
        rules = [{"record": f"dashboard:expr{i}", "expr": e} for i, e in enumerate(exprs)]
        with open(exprs_out, "w") as f:
            json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, f, indent=1)


def check_rules(path):
    try:
        import yaml
    except ImportError:
        problem(path, "python3 cannot import yaml (Debian: python3-yaml; make deps)")
        return
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        problem(path, f"not valid YAML: {e}")
        return
    rules = [(g.get("name"), r) for g in doc.get("groups", []) for r in g.get("rules", [])]
    recorded = {r["record"] for _, r in rules if "record" in r}
    alerts = 0
    for group, r in rules:
        name = r.get("alert") or r.get("record")
        where = f"{path}: {group}/{name}"
        check_promql(where, r.get("expr", ""), recorded)
        if "alert" not in r:
            continue
        alerts += 1
        if not r.get("for"):
            problem(where, "no `for:`")
        labels = r.get("labels") or {}
        if labels.get("severity") not in ("critical", "warning", "info"):
            problem(where, "no severity label (critical, warning or info)")
        for k, v in labels.items():
            if k != "severity" or "{{" in str(v):
                problem(where, f"label {k}={v!r}: alerts add only a fixed severity label")
        ann = r.get("annotations") or {}
        for k in ("summary", "description"):
            if not str(ann.get(k, "")).strip():
                problem(where, f"no {k} annotation")
        for text in ann.values():
            for label in re.findall(r"\$labels\.(\w+)", str(text)):
                if label not in ALERT_LABELS:
                    problem(where, f"annotation reads $labels.{label}, not a label of rill's metrics")
    if not alerts:
        problem(path, "no alert rule")


SAMPLE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def check_metrics(path):
    """A live /metrics answer names only the metrics of METRICS, each with
    exactly its labels, and every metric of METRICS but `up` appears
    (HELP/TYPE at least)."""
    seen = set()
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("# TYPE "):
                seen.add(line.split()[2])
                continue
            if not line or line.startswith("#"):
                continue
            m = SAMPLE.match(line)
            if not m:
                problem(f"{path}:{n}", f"not a sample line: {line!r}")
                continue
            name, labels = m.group(1), {k for k, _ in LABEL.findall(m.group(2) or "")}
            if name not in METRICS:
                problem(f"{path}:{n}", f"unknown metric {name}")
            elif labels != METRICS[name]:
                problem(f"{path}:{n}", f"{name} has labels {sorted(labels)}, "
                        f"want {sorted(METRICS[name])}")
    for name in METRICS:
        stripped = re.sub(r"_(bucket|sum|count)$", "", name)
        base = stripped if stripped in HISTOGRAMS else name
        if name != "up" and base not in seen and not name.startswith("rill_sink_"):
            problem(path, f"{base} is not exposed")


def main(argv):
    if len(argv) >= 3 and argv[1] == "dashboard":
        check_dashboard(argv[2], argv[3] if len(argv) > 3 else None)
    elif len(argv) == 3 and argv[1] == "rules":
        check_rules(argv[2])
    elif len(argv) == 3 and argv[1] == "metrics":
        check_metrics(argv[2])
    else:
        print(__doc__ or "usage: check_assets.py dashboard FILE.json [EXPRS.yml] | rules FILE.yml",
              file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
