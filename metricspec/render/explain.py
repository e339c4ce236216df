"""``metricspec run --explain`` as text: per query, what it computes, where it runs and its SQL."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence


def explain_text(plans: Sequence[Mapping[str, object]]) -> str:
    """One block per fused query: source, grain, breakdown and scope, the aggregates, where it runs,
    and for database sources the statement that answers it (one per source, grain and breakdown: its
    SQL is shown under the first query it answers)."""
    lines: list[str] = []
    for plan in plans:
        queries = plan["queries"]
        statements = plan.get("statements") or []
        assert isinstance(queries, list) and isinstance(statements, list)
        sent = f"; {_count(len(statements), 'statement')} sent to databases" if statements else ""
        lines.append(f"{plan['spec']}: {_count(len(queries), 'query', 'queries')}{sent}")
        shown: set[object] = set()
        for i, q in enumerate(queries, 1):
            segments = ", ".join(q["segments"]) or "-"
            scope = ", ".join(f"{c}={v}" for c, v in q["scope"]) or "-"
            lines.append(f"\n[{i}] source {q['source']} · time {q['time_column'] or 'none'} · grain {q['grain']} · "
                         f"segments {segments} · scope {scope}")
            lines.append(f"    runs in: {q['runs_in']}")
            for j in q.get("joins") or []:
                brought = ", ".join(f"{new}" if new == old else f"{new} (= {old})" for old, new in j["columns"].items())
                lines.append(f"    join: {j['joined']} on {j['source']}.{j['on']} = {j['joined']}.{j['key']} "
                             f"({j['how']}; in {j['runs_in']}): {brought or 'no columns'}")
            for a in q["aggregates"]:
                value = a["expression"] or a["column"] or "rows"
                where = f" where {a['filter']}" if a["filter"] else ""
                lines.append(f"    {a['output']} = {a['agg']}({value}){where}")
            n = q.get("statement")
            if n is not None and n in shown:
                lines.append(f"    sql: statement {n} (above), fused: {q.get('fused')}")
            elif q.get("sql"):
                shown.add(n)
                head = f"statement {n} of {len(statements)}, fused: {q.get('fused')}" if n is not None else "sql"
                lines.append(f"    {head}:")
                lines.append(textwrap.indent(str(q["sql"]).strip(), "      "))
        conventions = plan.get("conventions") or []
        assert isinstance(conventions, list)
        if conventions:
            lines.append("\nconventions (what an event is, how days are counted, the edges of periods and windows):")
        for c in conventions:
            lines.append(f"  {c['kpi']} ({c['kind']}):")
            lines += [f"    {rule}" for rule in c["rules"]]
        others = [s for s in statements if str(s).startswith("--")]
        if others:
            lines.append("\nalso sent: " + "; ".join(str(s).removeprefix("-- ") for s in others))
        lines.append("")
    return "\n".join(lines) + "\n"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
