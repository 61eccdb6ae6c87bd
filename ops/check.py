#!/usr/bin/env python3
"""Checks the operator kit against the metrics tve-activate exposes (ops/metrics.txt).

- ops/grafana/tve-activate.json: valid JSON; the expected rows; unique panel ids; every panel
  and query on the `${datasource}` variable; every query names only known metrics, and only
  labels those metrics have.
- ops/prometheus/alerts.yml: the same for every rule's `expr`.
- ops/metrics.txt against src/: every metric on the list is registered there
  (`registry.register("name", ...)`), so no panel or alert waits on a metric that is never
  exposed; metrics registered there and missing from the list are reported as a warning.

A name outside ops/metrics.txt is most likely a typo or a metric renamed in src/: fix the
panel, or the list. Standard library only; exits 1 with one line per problem.

    python3 ops/check.py [--exposition FILE]
"""

import json
import re
import sys
from pathlib import Path

OPS = Path(__file__).resolve().parent
DASHBOARD = OPS / "grafana" / "tve-activate.json"
ALERTS = OPS / "prometheus" / "alerts.yml"
METRICS = OPS / "metrics.txt"
UNIT = OPS / "systemd" / "tve-activate.service"
DEPLOY_DOC = OPS.parent / "docs" / "deploy.md"
SOURCES = OPS.parent / "src"
# Series Prometheus writes itself, not the service.
PROMETHEUS_OWN = {"up"}

ROWS = ["Game night at a glance", "Activation funnel", "Adobe Pass", "HTTP", "Abuse"]
DATASOURCE_UID = "${datasource}"
# Labels Prometheus adds to every series it scrapes.
TARGET_LABELS = {"instance", "job"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "bool", "offset", "atan2"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg", "avg_over_time", "ceil", "changes", "clamp",
    "clamp_max", "clamp_min", "count", "count_over_time", "count_values", "day_of_month",
    "day_of_week", "delta", "deriv", "exp", "floor", "group", "histogram_quantile", "holt_winters",
    "hour", "idelta", "increase", "irate", "label_join", "label_replace", "last_over_time", "ln",
    "log10", "log2", "max", "max_over_time", "min", "min_over_time", "minute", "month",
    "present_over_time", "quantile", "quantile_over_time", "rate", "resets", "round", "scalar",
    "sgn", "sort", "sort_desc", "sqrt", "stddev", "stddev_over_time", "stdvar", "sum",
    "sum_over_time", "time", "timestamp", "topk", "bottomk", "vector", "year",
}
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def load_metrics():
    """name -> set of labels, for every series name a metric in ops/metrics.txt gives; and
    the names as src/ registers them (without `_total`)."""
    known = {}
    registered = {}
    for number, line in enumerate(METRICS.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 3 or fields[1] not in {"counter", "gauge", "histogram"}:
            sys.exit(f"{METRICS}:{number}: want 'name type labels', got {line!r}")
        name, kind, labels = fields
        labels = set() if labels == "-" else set(labels.split(","))
        if name not in PROMETHEUS_OWN:
            family = name[: -len("_total")] if kind == "counter" and name.endswith("_total") else name
            registered[family] = kind
        if kind == "histogram":
            known[name + "_bucket"] = labels | {"le"}
            known[name + "_sum"] = labels
            known[name + "_count"] = labels
        else:
            known[name] = labels
    return known, registered


def check_sources(listed, problems):
    """Compares the list with the names src/ registers."""
    if not SOURCES.is_dir():
        return
    in_src = set()
    for source in SOURCES.rglob("*.rs"):
        in_src |= set(re.findall(r'registry\s*\.register\(\s*"([A-Za-z_:][A-Za-z0-9_:]*)"', source.read_text()))
    for name in sorted(set(listed) - in_src):
        problems.append(f"ops/metrics.txt: {name} is registered nowhere in src/")
    for name in sorted(in_src - set(listed)):
        print(f"ops/check.py: warning: src/ registers {name}, which ops/metrics.txt does not list "
              "(no panel or alert can use it)", file=sys.stderr)


TOKEN = re.compile(
    r'(?P<string>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')'
    r"|(?P<range>\[[^\]]*\])"
    r"|(?P<variable>\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)"
    r"|(?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)"
    r"|(?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=(){},])"
    r"|(?P<space>\s+)"
)


def tokens(expr):
    position = 0
    out = []
    while position < len(expr):
        match = TOKEN.match(expr, position)
        if not match:
            raise ValueError(f"cannot read {expr[position:position + 20]!r}")
        position = match.end()
        kind = match.lastgroup
        if kind != "space":
            out.append((kind, match.group()))
    return out


def check_expr(where, expr, known, problems):
    """Appends to `problems` what is wrong with one PromQL expression."""
    try:
        toks = tokens(expr)
    except ValueError as error:
        problems.append(f"{where}: {error}")
        return
    if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}"):
        problems.append(f"{where}: unbalanced brackets in {expr!r}")
    metrics = []  # (name, selector label keys)
    grouping = set()
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        following = toks[i + 1][1] if i + 1 < len(toks) else None
        if kind == "name" and text in GROUPING and following == "(":
            j = i + 2
            while j < len(toks) and toks[j][1] != ")":
                if toks[j][0] == "name":
                    grouping.add(toks[j][1])
                j += 1
            i = j + 1
            continue
        # Aggregations may put `by (...)` between their name and their argument.
        if kind == "name" and text in FUNCTIONS:
            i += 1
            continue
        if kind == "name" and following == "(" and text not in KEYWORDS:
            if text not in FUNCTIONS:
                problems.append(f"{where}: unknown function {text}()")
            i += 1
            continue
        if kind == "name" and text not in KEYWORDS:
            keys = set()
            j = i + 1
            if following == "{":
                j = i + 2
                while j < len(toks) and toks[j][1] != "}":
                    if toks[j][0] == "name" and j + 1 < len(toks) and toks[j + 1][1] in {"=", "!=", "=~", "!~"}:
                        keys.add(toks[j][1])
                    j += 1
                j += 1
            metrics.append((text, keys))
            i = j
            continue
        i += 1
    if not metrics:
        problems.append(f"{where}: names no metric: {expr!r}")
    available = set(TARGET_LABELS)
    for name, keys in metrics:
        if name not in known:
            problems.append(f"{where}: unknown metric {name} (not in ops/metrics.txt)")
            continue
        available |= known[name]
        for key in sorted(keys - known[name] - TARGET_LABELS):
            problems.append(f"{where}: {name} has no label {key}")
    if any(name not in known for name, _ in metrics):
        return
    for label in sorted(grouping - available):
        problems.append(f"{where}: groups by {label}, which none of its metrics has")


def panels_of(items):
    for panel in items:
        yield panel
        yield from panels_of(panel.get("panels", []))


def check_dashboard(known, problems):
    try:
        dashboard = json.loads(DASHBOARD.read_text())
    except (OSError, ValueError) as error:
        problems.append(f"{DASHBOARD}: {error}")
        return 0
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    source = variables.get("datasource", {})
    if source.get("type") != "datasource" or source.get("query") != "prometheus":
        problems.append("dashboard: wants a 'datasource' variable of type datasource over prometheus")
    if "instance" not in variables:
        problems.append("dashboard: wants an 'instance' variable")
    panels = list(panels_of(dashboard.get("panels", [])))
    rows = [p.get("title") for p in panels if p.get("type") == "row"]
    if rows != ROWS:
        problems.append(f"dashboard: rows are {rows}, want {ROWS}")
    ids = [p.get("id") for p in panels]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        problems.append(f"dashboard: panel id {duplicate} used twice")
    queries = 0
    for panel in panels:
        if panel.get("type") == "row":
            continue
        where = f"panel {panel.get('id')} {panel.get('title')!r}"
        grid = panel.get("gridPos", {})
        if grid.get("x", 0) + grid.get("w", 0) > 24:
            problems.append(f"{where}: wider than the dashboard")
        if panel.get("datasource", {}).get("uid") != DATASOURCE_UID:
            problems.append(f"{where}: not on the ${{datasource}} variable")
        targets = panel.get("targets", [])
        if not targets:
            problems.append(f"{where}: no query")
        for target in targets:
            if target.get("datasource", {}).get("uid") != DATASOURCE_UID:
                problems.append(f"{where} query {target.get('refId')}: not on the ${{datasource}} variable")
            if 'instance=~"$instance"' not in target.get("expr", ""):
                problems.append(f"{where} query {target.get('refId')}: ignores the instance variable")
            check_expr(f"{where} query {target.get('refId')}", target.get("expr", ""), known, problems)
            queries += 1
    return queries


def alert_exprs():
    """(alert, expr) of every rule in alerts.yml; a small reader for `expr:` on one line or as
    a `|`/`>` block, which is all the file uses."""
    lines = ALERTS.read_text().splitlines()
    alert = None
    i = 0
    while i < len(lines):
        line = lines[i]
        named = re.match(r"\s*-\s*alert:\s*(\S+)", line)
        if named:
            alert = named.group(1)
        found = re.match(r"(\s*)(?:-\s*)?expr:\s*(.*)$", line)
        i += 1
        if not found:
            continue
        indent, rest = len(found.group(1)), found.group(2).strip()
        if rest in {"|", "|-", ">", ">-"}:
            block = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i].strip())
                i += 1
            rest = " ".join(part for part in block if part)
        yield alert, rest


def check_unit_in_docs(problems):
    """docs/deploy.md quotes the unit whole, in an ```ini block."""
    unit = UNIT.read_text().strip()
    blocks = re.findall(r"^```ini\n(.*?)\n```$", DEPLOY_DOC.read_text(), re.M | re.S)
    if unit not in (block.strip() for block in blocks):
        problems.append("docs/deploy.md: its ```ini block differs from ops/systemd/tve-activate.service")


def check_exposition(path, listed, problems):
    """Compares the list with the `# TYPE family type` lines of an OpenMetrics text."""
    exposed = dict(re.findall(r"^# TYPE (\S+) (\S+)$", Path(path).read_text(), re.M))
    if not exposed:
        problems.append(f"{path}: no '# TYPE' line: not an OpenMetrics text")
        return
    for family, kind in sorted(listed.items()):
        if family not in exposed:
            problems.append(f"{path}: the binary does not expose {family} (ops/metrics.txt lists it)")
        elif exposed[family] != kind:
            problems.append(f"{path}: {family} is a {exposed[family]}, ops/metrics.txt says {kind}")
    for family in sorted(set(exposed) - set(listed)):
        print(f"ops/check.py: warning: the binary exposes {family}, which ops/metrics.txt does not list",
              file=sys.stderr)


def main():
    known, registered = load_metrics()
    problems = []
    check_sources(registered, problems)
    check_unit_in_docs(problems)
    args = sys.argv[1:]
    if args[:1] == ["--exposition"] and len(args) == 2:
        check_exposition(args[1], registered, problems)
    elif args:
        sys.exit("usage: python3 ops/check.py [--exposition FILE]")
    queries = check_dashboard(known, problems)
    rules = 0
    for alert, expr in alert_exprs():
        check_expr(f"alerts.yml {alert}", expr, known, problems)
        rules += 1
    if rules == 0:
        problems.append(f"{ALERTS}: no rule found")
    for problem in problems:
        print(f"ops/check.py: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"ops/check.py: {queries} dashboard queries and {rules} alert rules name only known metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
