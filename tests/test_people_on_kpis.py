"""People on KPIs, objective types and stages, and the who/what/how of the publishing calendar.

* ``owner`` and ``measured_by`` on any kind of KPI: in the Results only when set (specs without them
  keep byte-identical Results: the golden tests), not part of the definition fingerprint, shown on the
  site's KPI page linked to person pages that list the KPIs the person owns or measures;
* objective types ``relationships`` and ``authority``; objectives in stage order on the scorecards
  (HTML, site, Markdown): stable, objectives without a stage last (a hypothesis property against a
  plain-Python reference);
* calendar entries' ``owner``, ``topic``, ``content_type`` are columns of the virtual ``calendar``
  source (values checked against a plain-Python day-by-day expansion);
* typos get file:line and did-you-mean.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metricspec.engine.results import ObjectiveResult
from metricspec.engine.run import evaluate
from metricspec.errors import SpecError
from metricspec.loader import load_spec
from metricspec.render.html import render_scorecard
from metricspec.render.markdown import results_markdown
from metricspec.render.site import build_site
from metricspec.render.stages import STAGES, by_stage

AS_OF = dt.date(2026, 11, 1)

SPEC = """\
name: people
title: People and plans
grains: [month]
sources:
  posts: {connector: csv, options: {path: posts.csv}, time_column: t}
calendar:
  - {network: instagram, posts: 3, per: week, start: 2026-09-01, end: 2026-10-31, owner: Ana Ruiz,
     topic: skincare, content_type: carousel}
  - {network: linkedin, posts: 10, per: month, start: 2026-10-01, end: 2026-10-31, owner: Tomasz Nowak,
     topic: hiring, content_type: article}
  - {network: x, posts: 1, per: day, start: 2026-10-20, end: 2026-10-31}
kpis:
  likes: {source: posts, agg: sum, column: likes, owner: Lucía Fernández, measured_by: Tomasz Nowak}
  posts: {source: posts, agg: count, measured_by: Ana Ruiz}
  like_rate: {ratio: {numerator: likes, denominator: posts}, owner: Lucía Fernández}
  plain: {source: posts, agg: max, column: likes}
  planned_by_topic: {source: calendar, agg: sum, column: planned_posts, segments: [topic], kind: activity}
  planned_by_ana: {source: calendar, agg: sum, column: planned_posts, scope: {owner: Ana Ruiz}, kind: activity}
  planned_carousels: {source: calendar, agg: sum, column: planned_posts, filter: "content_type == 'carousel'"}
objectives:
  loyal: {title: Keep them, type: retention, stage: loyalty, kpis: [plain]}
  talk: {title: Talk with people, type: relationships, stage: engagement, kpis: [likes]}
  other: {title: Unstaged, type: other, kpis: [posts]}
  known: {title: Be the reference, type: authority, stage: acquisition, kpis: [like_rate]}
  talk2: {title: Answer people, type: relationships, stage: engagement,
          goals: {g: {kpi: likes, target: 100, responsible: Maria, start: 2026-09-01, deadline: 2026-12-31},
                  h: {kpi: likes, target: 50, start: 2026-09-01, deadline: 2026-12-31}}}
"""
POSTS = "t,likes\n2026-09-03,5\n2026-09-20,7\n2026-10-02,4\n2026-10-15,11\n"


def _spec(tmp_path: Path, text: str = SPEC) -> Path:
    (tmp_path / "posts.csv").write_text(POSTS)
    (tmp_path / "s.yaml").write_text(text)
    return tmp_path / "s.yaml"


def _results(tmp_path: Path, text: str = SPEC) -> dict:  # type: ignore[type-arg]
    return json.loads(evaluate(load_spec(_spec(tmp_path, text)), as_of=AS_OF).to_json())


# ---------------------------------------------------------------- Results and the model


def test_kpi_people_are_in_the_results_only_when_set(tmp_path: Path) -> None:
    kpis = {k["name"]: k for k in _results(tmp_path)["kpis"]}
    assert (kpis["likes"]["owner"], kpis["likes"]["measured_by"]) == ("Lucía Fernández", "Tomasz Nowak")
    assert kpis["posts"]["measured_by"] == "Ana Ruiz" and "owner" not in kpis["posts"]
    assert kpis["like_rate"]["owner"] == "Lucía Fernández" and "measured_by" not in kpis["like_rate"]
    assert "owner" not in kpis["plain"] and "measured_by" not in kpis["plain"]


def test_goals_take_their_kpis_people_when_they_name_none(tmp_path: Path) -> None:
    goals = {g["id"]: g for o in _results(tmp_path)["objectives"] for g in o["goals"]}
    assert (goals["h"]["responsible"], goals["h"]["measured_by"]) == ("Lucía Fernández", "Tomasz Nowak")
    assert (goals["g"]["responsible"], goals["g"]["measured_by"]) == ("Maria", "Tomasz Nowak")
    owned = SPEC.replace("type: relationships, stage: engagement,\n", "type: relationships, stage: engagement, "
                         "owner: Olga,\n")
    assert owned != SPEC
    goals = {g["id"]: g for o in _results(tmp_path, owned)["objectives"] for g in o["goals"]}
    assert goals["h"]["responsible"] == "Olga"  # the objective's owner comes before the KPI's


def test_people_do_not_change_a_kpis_definition(tmp_path: Path) -> None:
    loaded = load_spec(_spec(tmp_path))
    without = load_spec(_spec(tmp_path, SPEC.replace(", owner: Lucía Fernández, measured_by: Tomasz Nowak", "")))
    assert loaded.spec.kpis["likes"].definition() == without.spec.kpis["likes"].definition()
    assert loaded.spec.kpis["likes"].owner == "Lucía Fernández"


def test_objective_types_include_relationships_and_authority(tmp_path: Path) -> None:
    objectives = {o["id"]: o for o in _results(tmp_path)["objectives"]}
    assert objectives["talk"]["type"] == "relationships" and objectives["known"]["type"] == "authority"
    assert list(objectives) == ["loyal", "talk", "other", "known", "talk2"]  # Results keep spec order


@pytest.mark.parametrize(("bad", "line", "message", "hint"), [
    ("likes: {source: posts, agg: sum, column: likes, ownr: Ana}", 13, "unknown key 'ownr'", "did you mean 'owner'?"),
    ("posts: {source: posts, agg: count, measured: Ana}", 14, "unknown key 'measured'", "did you mean 'measured_by'?"),
    ("     topic: skincare, content_type: carousel}", 8, "unknown key 'contenttype'", "did you mean 'content_type'?"),
])
def test_typos_get_the_place_and_did_you_mean(tmp_path: Path, bad: str, line: int, message: str, hint: str) -> None:
    lines = SPEC.splitlines()
    i = line - 1
    if "topic" in bad:
        lines[i] = bad.replace("content_type", "contenttype")
    else:
        lines[i] = "  " + bad
    with pytest.raises(SpecError) as info:
        load_spec(_spec(tmp_path, "\n".join(lines) + "\n"))
    (issue,) = info.value.issues()
    assert issue.where is not None and issue.where.line == line, issue
    assert message in issue.message and issue.hint is not None and hint in issue.hint, issue


def test_an_unknown_objective_type_lists_relationships(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(_spec(tmp_path, SPEC.replace("type: relationships, stage: engagement, kpis", "type: relations, "
                                                                                            "stage: engagement, kpis")))
    (issue,) = info.value.issues()
    assert issue.where is not None and issue.where.line == 22 and "'relationships'" in issue.message


# ---------------------------------------------------------------- the calendar's who, what and how


def _planned(start: dt.date, end: dt.date, posts: float, per: str, month_of: dt.date) -> float:
    """Plain Python: the planned posts of one entry in one month, day by day."""
    total, day = 0.0, start
    while day <= end:
        if (day.year, day.month) == (month_of.year, month_of.month):
            days_in_month = ((day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)).day
            total += {"day": posts, "week": posts / 7, "month": posts / days_in_month}[per]
        day += dt.timedelta(days=1)
    return total


def _headline(kpi: dict, period: str, value: str | None = None) -> float | None:  # type: ignore[type-arg]
    for s in kpi["series"]:
        if (s["kind"] == "headline") if value is None else (s["kind"] == "segment" and s["segment_value"] == value):
            for p in s["points"]:
                if p["period"] == period:
                    return p["value"]  # type: ignore[no-any-return]
    return None


def test_calendar_entries_carry_owner_topic_and_content_type(tmp_path: Path) -> None:
    kpis = {k["name"]: k for k in _results(tmp_path)["kpis"]}
    sep, oct_ = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
    insta = (dt.date(2026, 9, 1), dt.date(2026, 10, 31), 3.0, "week")
    linked = (dt.date(2026, 10, 1), dt.date(2026, 10, 31), 10.0, "month")
    for month in (sep, oct_):
        key = month.isoformat()
        assert _headline(kpis["planned_by_ana"], key) == pytest.approx(_planned(*insta, month))
        assert _headline(kpis["planned_carousels"], key) == pytest.approx(_planned(*insta, month))
        assert _headline(kpis["planned_by_topic"], key, "skincare") == pytest.approx(_planned(*insta, month))
    assert _headline(kpis["planned_by_topic"], "2026-10-01", "hiring") == pytest.approx(_planned(*linked, oct_)) == 10.0
    assert _headline(kpis["planned_by_topic"], "2026-10-01") == pytest.approx(
        _planned(*insta, oct_) + 10.0 + 12.0)  # the x entry: 1 a day, 20-31 October, no topic


# ---------------------------------------------------------------- stage order


def _objective(i: int, stage: str | None) -> ObjectiveResult:
    return ObjectiveResult(id=f"o{i}", title=f"O{i}", description=None, type="other", stage=stage, owner=None,
                           kpis=[], goals=[])


@given(st.lists(st.sampled_from([*STAGES, None]), max_size=12))
def test_by_stage_is_a_stable_funnel_order_with_unstaged_last(stages: list[str | None]) -> None:
    objectives = [_objective(i, s) for i, s in enumerate(stages)]
    got = [o.id for o in by_stage(objectives)]
    expected = [o.id for stage in [*STAGES, None] for o in objectives if o.stage == stage]  # reference
    assert got == expected


def _positions(text: str, titles: list[str]) -> list[int]:
    return [text.index(t) for t in titles]


ORDER = ["Be the reference", "Talk with people", "Answer people", "Keep them", "Unstaged"]


def test_scorecards_show_objectives_in_stage_order(tmp_path: Path) -> None:
    results = evaluate(load_spec(_spec(tmp_path)), as_of=AS_OF)
    html = render_scorecard(results)
    main = html[html.index("<main"):]
    pos = _positions(main, [f">{t}<" for t in ORDER])
    assert pos == sorted(pos), pos
    assert "Relationships" in html and "Authority in the field" in html
    md = results_markdown(results)
    assert _positions(md, [f"### {t}" for t in ORDER]) == sorted(_positions(md, [f"### {t}" for t in ORDER]))


# ---------------------------------------------------------------- the site


def test_kpi_pages_and_person_pages_show_owners_and_measurers(tmp_path: Path) -> None:
    results = evaluate(load_spec(_spec(tmp_path)), as_of=AS_OF)
    files = build_site([results], tmp_path / "site")
    rel = {str(p.relative_to(tmp_path / "site")) for p in files}
    assert {"people/lucia-fernandez.html", "people/tomasz-nowak.html", "people/ana-ruiz.html",
            "people/maria.html"} <= rel, rel
    likes = (tmp_path / "site" / "kpi" / "people--likes.html").read_text()
    assert re.search(r'Owner: <a href="\.\./people/lucia-fernandez\.html">Lucía Fernández</a>', likes), likes
    assert re.search(r'Measured by: <a href="\.\./people/tomasz-nowak\.html">Tomasz Nowak</a>', likes)
    plain = (tmp_path / "site" / "kpi" / "people--plain.html").read_text()
    assert "Owner:" not in plain and "Measured by:" not in plain
    lucia = (tmp_path / "site" / "people" / "lucia-fernandez.html").read_text()
    assert '<a href="../kpi/people--likes.html">likes</a> <span class="muted">(KPI owner)</span>' in lucia
    assert '<a href="../kpi/people--like_rate.html">Like rate</a>' in lucia  # a KPI without a title: readable
    assert "Roles: responsible, KPI owner" in lucia
    tomasz = (tmp_path / "site" / "people" / "tomasz-nowak.html").read_text()
    assert '<a href="../kpi/people--likes.html">likes</a> <span class="muted">(measures)</span>' in tomasz
    assert "people--like_rate" not in tomasz
    index = (tmp_path / "site" / "index.html").read_text()
    assert 'href="people/ana-ruiz.html"' in index


def test_the_site_is_byte_identical_when_built_twice(tmp_path: Path) -> None:
    results = evaluate(load_spec(_spec(tmp_path)), as_of=AS_OF)
    a = {p.name: p.read_bytes() for p in build_site([results], tmp_path / "a") if p.suffix == ".html"}
    again = evaluate(load_spec(_spec(tmp_path)), as_of=AS_OF)
    b = {p.name: p.read_bytes() for p in build_site([again], tmp_path / "b") if p.suffix == ".html"}
    assert a == b


def test_a_spanish_site_translates_the_new_labels(tmp_path: Path) -> None:
    results = evaluate(load_spec(_spec(tmp_path)), as_of=AS_OF)
    build_site([results], tmp_path / "site", lang="es")
    lucia = (tmp_path / "site" / "people" / "lucia-fernandez.html").read_text()
    assert "responsable de KPI" in lucia
    scorecard = (tmp_path / "site" / "scorecards" / "people.html").read_text()
    assert "Relaciones" in scorecard

