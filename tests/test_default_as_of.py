"""The default as-of date ignores rows dated after today (issue 11), with a data note."""

from __future__ import annotations

import datetime as dt
import textwrap

from metricspec.engine.run import evaluate, local_today
from metricspec.loader import load_spec


def _spec(tmp_path, rows: list[str], timezone: str = "UTC"):
    (tmp_path / "d.csv").write_text("t,x\n" + "\n".join(rows) + "\n")
    (tmp_path / "s.yaml").write_text(textwrap.dedent(f"""\
        name: s
        timezone: {timezone}
        sources:
          d: {{connector: csv, options: {{path: d.csv}}, time_column: t, columns: {{t: date}}}}
        kpis:
          n: {{source: d, agg: sum, column: x}}
        """))
    return load_spec(tmp_path / "s.yaml")


def test_rows_after_today_do_not_set_the_default_as_of(tmp_path):
    today = local_today("Pacific/Kiritimati")
    tomorrow = today + dt.timedelta(days=1)
    loaded = _spec(tmp_path, [f"{today - dt.timedelta(days=3)},1", f"{today},2", f"{tomorrow},4", "2062-01-01,8"],
                   timezone="Pacific/Kiritimati")
    r = evaluate(loaded)
    assert r.as_of == today
    notes = [n for n in r.notes if n.code == "note_future_rows"]
    assert len(notes) == 1 and notes[0].params == {"rows": 2, "source": "d", "latest": "2062-01-01"}
    assert r.sources[0].latest == "2062-01-01"  # freshness still tells the truth


def test_no_note_when_nothing_is_in_the_future(tmp_path):
    r = evaluate(_spec(tmp_path, ["2026-01-01,1", "2026-01-05,2"]))
    assert r.as_of == dt.date(2026, 1, 5)
    assert not [n for n in r.notes if n.code == "note_future_rows"]


def test_only_future_rows_fall_back_like_no_rows(tmp_path):
    r = evaluate(_spec(tmp_path, ["2062-01-01,1"]))
    assert r.as_of == dt.date(1970, 1, 1)
    assert [n.params["rows"] for n in r.notes if n.code == "note_future_rows"] == [1]
