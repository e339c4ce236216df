"""Engine sentences on translated scorecards: status reasons, forecast methods, SMART findings, data notes.

The engine writes each sentence in English and also as a message ``code`` with ``params``
(``metricspec.engine.results.ENGINE_MESSAGES``); HTML scorecards in other languages translate the
code from ``metricspec/render/locales/<lang>.json`` with the params formatted for the locale.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest

from metricspec.engine.results import ENGINE_MESSAGES, PARAM_KINDS, DataNote, Results, english
from metricspec.engine.run import evaluate
from metricspec.loader import load_spec
from metricspec.render.cg_text import unit_of
from metricspec.render.html import render_scorecard
from metricspec.render.i18n import Translator, available_languages, load_messages, placeholders
from metricspec.render.kpi_numbers import kpi_format
from metricspec.trust import Confinement

OUTSIDE_OK = Confinement(allow_outside=True)

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "metricspec" / "engine"
EXAMPLES = ROOT / "specs" / "examples"
AS_OF = dt.date(2026, 11, 1)
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CODE_LITERAL = re.compile(r"""["']((?:reason|forecast|smart|note|cg)_[a-z_]+)["']""")

#: a sample value per parameter kind, to fill every message
SAMPLES = {"value": 12345.678, "approx": 1109.333, "change": 0.0172, "count": 3, "date": "2026-12-31",
           "grain": "month", "group": "treatment", "pvalue": 0.000123, "share": 0.05, "text": "instagram",
           "delta": -0.0235, "decimal": 0.137, "chance": 0.734}


def sample_params(code: str) -> dict[str, str | int | float]:
    return {name: SAMPLES[PARAM_KINDS[name]] for name in placeholders(ENGINE_MESSAGES[code])}


# -- the catalogue --------------------------------------------------------------------------------


def test_every_emitted_code_is_in_the_catalogue():
    from metricspec.engine.forecast import MODELS
    from metricspec.engine.results import LEGACY_MESSAGES

    emitted = {f"forecast_model_{model}" for model in MODELS}  # "forecast_model_" + the model's name
    modules = ["goals.py", "judgement.py", "smart.py", "run.py", "experiments_run.py",
               *(f"experiments/{p.name}" for p in (ENGINE / "experiments").glob("*.py"))]
    for module in modules:
        emitted |= set(CODE_LITERAL.findall((ENGINE / module).read_text(encoding="utf-8")))
    emitted.discard("forecast_model_")
    assert not emitted & LEGACY_MESSAGES, "a legacy code is emitted again: take it out of LEGACY_MESSAGES"
    assert emitted | LEGACY_MESSAGES == set(ENGINE_MESSAGES), (
        f"emitted but not catalogued: {sorted(emitted - set(ENGINE_MESSAGES))}; "
        f"catalogued but never emitted: {sorted(set(ENGINE_MESSAGES) - emitted)}")


def test_every_placeholder_has_a_kind():
    for code, text in ENGINE_MESSAGES.items():
        assert placeholders(text) <= set(PARAM_KINDS), f"{code}: {sorted(placeholders(text) - set(PARAM_KINDS))}"


def test_english_catalogue_is_the_engine_text():
    en = load_messages("en")
    for code, text in ENGINE_MESSAGES.items():
        assert en.get(code) == text, f"en.json:{code} differs from ENGINE_MESSAGES"


@pytest.mark.parametrize("lang", available_languages())
def test_every_language_translates_every_code(lang):
    msgs, tr = load_messages(lang), Translator(lang)
    for code, text in ENGINE_MESSAGES.items():
        assert code in msgs, f"{lang}.json lacks {code}"
        assert placeholders(msgs[code]) == placeholders(text), f"{lang}:{code} placeholders differ"
        params = sample_params(code)
        shown = tr.message(code, params, english(code, params))
        # every language, English too, fills the template with the params formatted for the locale
        assert shown == msgs[code].format(**{k: tr._param(k, v, "number", None) for k, v in params.items()})
        if lang != "en":
            assert shown != english(code, params), f"{lang}:{code} is not translated"
    for grain in ("day", "week", "month", "quarter", "year"):
        assert f"grain_noun_{grain}" in msgs
    for group in ("treatment", "control"):
        assert f"group_noun_{group}" in msgs


def test_params_are_formatted_for_the_locale():
    params = {"forecast": 11995.1, "target": 12000.0}
    assert english("reason_within_tolerance", params) == "forecast 11995.1 falls just short of 12000 (within tolerance)"
    es, pl = Translator("es"), Translator("pl")
    assert es.message("reason_within_tolerance", params, "") == (
        "la previsión (11.995,1) se queda a las puertas de la meta (12.000), dentro de la tolerancia")
    assert pl.message("reason_within_tolerance", params, "") == (
        "prognoza (11\u00a0995,1) minimalnie nie osiąga celu (12\u00a0000), ale mieści się w tolerancji")
    # KPI values in their unit, dates, signed changes and grains
    assert es.message("reason_missed", {"deadline": "2026-05-17", "current": 0.4, "target": 0.5}, "",
                      unit="percent") == "el plazo venció el 17 may 2026 con 40,0\u00a0% frente a una meta de 50,0\u00a0%"
    assert pl.message("smart_achievable_pace", {"needed": 1109.333, "grain": "week", "left": 3, "best": 1028.0},
                      "", unit="currency", currency="PLN") == (
        "wymaga 1\u00a0109,33\u00a0zł na tydzień, pozostało okresów: 3; najlepszy tydzień dotąd: 1\u00a0028,00\u00a0zł")
    assert es.message("smart_achievable_growth_no_history", {"needed_rate": 0.0172, "grain": "month"}, "") == (
        "necesita +1,72\u00a0% por mes; historial insuficiente para comparar")


def test_unknown_or_missing_codes_keep_the_english_text():
    es = Translator("es")
    assert es.message("reason_from_a_newer_version", {"x": 1}, "the English text") == "the English text"
    assert es.message(None, {}, "written before codes existed") == "written before codes existed"
    assert es.message("status_achieved", {}, "a UI key is not an engine code") == "a UI key is not an engine code"
    # params that do not fit the template (a hand-edited document)
    assert es.message("reason_on_track", {"forecast": 1.0}, "forecast 1 meets it") == "forecast 1 meets it"


# -- scorecards -----------------------------------------------------------------------------------


def _spec_copy(folder: Path, lang: str) -> Path:
    """specs/examples/marketing_plan.yaml with ``language: <lang>``, next to links to its data."""
    folder.mkdir(exist_ok=True)
    for name in ("data", "shared"):
        if not (folder / name).exists():
            (folder / name).symlink_to(EXAMPLES / name, target_is_directory=True)
    text = (EXAMPLES / "marketing_plan.yaml").read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^language: \w+$", f"language: {lang}", text)
    assert n == 1
    path = folder / f"marketing_plan_{lang}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Results]:
    folder = tmp_path_factory.mktemp("specs")
    # the copies' data/ and shared/ are symlinks to the examples, outside this temporary project
    return {lang: evaluate(load_spec(_spec_copy(folder, lang), OUTSIDE_OK), as_of=AS_OF) for lang in ("en", "es", "pl")}


@pytest.fixture(scope="module")
def pages(runs) -> dict[str, str]:
    return {lang: render_scorecard(r, r.spec.language) for lang, r in runs.items()}


def english_sentences(r: Results) -> set[str]:
    out = {n.message for n in r.notes}
    for g in r.goals():
        out |= {g.status_reason, g.forecast_method, *(f.message for f in g.smart)}
    return out


def test_the_example_exercises_every_kind_of_sentence(runs):
    r = runs["en"]
    assert r.notes and all(n.code == "note_null_rows" for n in r.notes)
    assert all(g.status_reason_code and g.forecast_method_code for g in r.goals())
    assert all(f.code for g in r.goals() for f in g.smart)
    # the English text is the catalogue template filled with the params
    for g in r.goals():
        assert g.status_reason == english(g.status_reason_code or "", g.status_reason_params)
        assert g.forecast_method == english(g.forecast_method_code or "", g.forecast_method_params)
        for f in g.smart:
            assert f.message == english(f.code or "", f.params)


@pytest.mark.parametrize("lang", ["es", "pl"])
def test_translated_scorecards_have_no_english_engine_sentences(runs, pages, lang):
    r, text = runs[lang], html.unescape(pages[lang])
    tr = Translator(lang)
    kpis = {k.name: k for k in r.kpis}
    for sentence in english_sentences(r):
        assert sentence not in text, f"English in the {lang} scorecard: {sentence!r}"
    for g in r.goals():
        unit = kpis[g.kpi].unit
        cur = kpis[g.kpi].currency
        digits = kpi_format(r, g.kpi, tr).digits  # the goal's sentences say its values as its card does
        assert tr.message(g.status_reason_code, g.status_reason_params, "", unit, cur, digits) in text
        assert tr.message(g.forecast_method_code, g.forecast_method_params, "", unit, cur) in text
        for f in g.smart:
            assert tr.message(f.code, f.params, "", unit, cur, digits) in text
    for n in r.notes:
        assert tr.message(n.code, n.params, "") in text


def test_spanish_and_polish_wording(pages):
    es, pl = html.unescape(pages["es"]), html.unescape(pages["pl"])
    assert "filas omitidas porque 'revenue' está vacío en la fuente 'customers': 13" in es
    assert "pominięte wiersze z pustą wartością 'revenue' w źródle 'customers': 13" in pl
    assert "probabilidad de alcanzar la meta 30,0\u00a0% al plazo: solo 22\u00a0%" in es
    assert "szansa na osiągnięcie celu 30,0% w terminie: tylko 22%" in pl
    assert "11.303 cumple hoy la meta 11.000; probabilidad de seguir cumpliéndola al plazo: 99\u00a0%" in es
    assert "último valor más su cambio medio por periodo; intervalo a partir de los errores pasados" in es
    assert "tempo z ostatnich 28 dni (5/dzień) × pozostałe dni: 61" in pl  # a count: whole numbers
    assert "los datos dan un valor actual de 306.409\u00a0€" in es  # the KPI's precision, as on its card
    assert "plazo: 31 dic 2026" in es and "termin: 31 gru 2026" in pl


def test_english_scorecard_formats_engine_numbers(runs, pages):
    """English pages format the engine's numbers like es/pl pages do: 1.66%, not 0.0166173."""
    r, page = runs["en"], pages["en"]
    text = html.unescape(page)
    tr = Translator("en")
    for g in r.goals():
        k = r.kpi(g.kpi)
        unit, cur = k.unit, (k.currency or r.spec.currency) if k.unit == "currency" else k.currency
        digits = kpi_format(r, g.kpi, tr).digits
        reason = tr.message(g.status_reason_code, g.status_reason_params, g.status_reason, unit, cur, digits)
        assert reason in text
        assert reason == ENGINE_MESSAGES[g.status_reason_code or ""].format(
            **{n: tr._param(n, v, unit, cur, digits) for n, v in g.status_reason_params.items()})
        for f in g.smart:
            assert tr.message(f.code, f.params, f.message, unit, cur, digits) in text
    repeat = next(g for g in r.goals() if g.id == "repeat")  # a percentage KPI: 0.294944 on the JSON side
    assert "0.294944" in repeat.status_reason + repeat.forecast_method + " ".join(f.message for f in repeat.smart)
    assert "0.294944" not in text and "29.5%" in text
    assert not re.search(r"\d\.\d{5,}", re.sub(r"<svg.*?</svg>|<script.*?</script>", "", text, flags=re.S))
    # a document without codes (version 1) shows the engine's English text
    plain = r.model_copy(update={
        "objectives": [o.model_copy(update={"goals": [
            g.model_copy(update={"status_reason_code": None, "status_reason_params": {}, "forecast_method_code": None,
                                 "forecast_method_params": {},
                                 "smart": [f.model_copy(update={"code": None, "params": {}}) for f in g.smart]})
            for g in o.goals]}) for o in r.objectives],
        "notes": [n.model_copy(update={"code": None, "params": {}}) for n in r.notes],
    })
    plain_text = html.unescape(render_scorecard(plain, "en"))
    for sentence in english_sentences(r):
        assert sentence in plain_text


def test_results_without_codes_still_load_and_render(runs):
    r = runs["es"]
    doc = r.model_dump(mode="json")
    for o in doc["objectives"]:
        for g in o["goals"]:
            for key in ("status_reason_code", "status_reason_params", "forecast_method_code",
                        "forecast_method_params"):
                del g[key]
            for f in g["smart"]:
                del f["code"], f["params"]
    for n in doc["notes"]:
        del n["code"], n["params"]
    doc["schema_version"] = 1
    old = Results.model_validate(doc)
    page = html.unescape(render_scorecard(old, "es"))
    assert r.notes[0].message in page  # nothing to translate: the English text, as before
    # the JSON (numbers at 12 significant digits) reads back and writes the same bytes
    assert Results.model_validate_json(r.to_json()).to_json() == r.to_json()


def test_unknown_code_falls_back_and_params_are_escaped(runs):
    r = runs["es"]
    notes = [DataNote(level="warning", message="Something only a newer metricspec knows", code="note_from_the_future",
                      params={"x": 1}),
             DataNote(level="warning", message=f"3 row(s) with a null '{XSS}' in source 'posts' were skipped",
                      code="note_null_rows", params={"rows": 3, "column": XSS, "source": f"posts {XSS}"})]
    page = render_scorecard(r.model_copy(update={"notes": notes}), "es")
    assert "Something only a newer metricspec knows" in page
    assert XSS not in page
    assert f"filas omitidas porque '{ESCAPED}' está vacío en la fuente 'posts {ESCAPED}': 3" in page.replace(
        "&#39;", "'")


@pytest.mark.parametrize("lang", ["es", "pl"])
def test_control_group_warnings_are_translated(tmp_path, lang):
    """customer_value.yaml's control groups produce warnings; translated scorecards show them translated."""
    for name in ("data", "shared"):
        (tmp_path / name).symlink_to(EXAMPLES / name, target_is_directory=True)
    text, n = re.subn(r"(?m)^language: \w+$", f"language: {lang}",
                      (EXAMPLES / "customer_value.yaml").read_text(encoding="utf-8"))
    assert n == 1
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    r = evaluate(load_spec(tmp_path / "spec.yaml", OUTSIDE_OK), as_of=AS_OF)
    page = html.unescape(render_scorecard(r, lang))
    tr = Translator(lang)
    # a metric's warnings show its figures in its unit (pp for proportions, money in the currency)
    items = [*((cg, "number", None) for cg in r.control_groups),
             *((m, unit_of(m), cg.currency) for cg in r.control_groups for m in cg.metrics)]
    warned = [(w, c, unit, cur) for item, unit, cur in items
              for w, c in zip(item.warnings, item.warning_codes, strict=True)]
    assert warned, "the example should produce control-group warnings"
    for english_text, message, unit, cur in warned:
        assert english_text == english(message.code, message.params)
        assert english_text not in page, f"English in the {lang} scorecard: {english_text!r}"
        assert tr.message(message.code, message.params, "", unit, cur) in page
