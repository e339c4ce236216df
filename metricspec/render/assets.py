"""Charts drawn in the browser: the JavaScript a site ships and each chart's embedded JSON.

A site (``metricspec build`` without ``--static-charts``) writes two scripts into ``assets/``:
``vega.js``, vl-convert's offline bundle of Vega, Vega-Lite and vega-embed
(``vl_convert.javascript_bundle()``, cached on disk: bundling takes a few seconds), and
``charts.js``, which draws every chart of a page from its ``<script type="application/json">``
block. Nothing loads from the network.
"""

from __future__ import annotations

import contextlib
import json
import threading
from importlib import resources

from metricspec.render import chart_cache, charts
from metricspec.render.charts import ChartDrawError

VEGA_JS = "assets/vega.js"
CHARTS_JS = "assets/charts.js"
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_bundle: dict[str, str] = {}
_pending: dict[str, threading.Thread] = {}


def _load_or_make(version: str) -> None:
    name = f"vega-bundle-{version}.js"
    text = chart_cache.load_text(name)
    if text is None or "vegaEmbed" not in text:
        import vl_convert  # heavy: vl-convert's JavaScript engine, only to bundle the scripts

        header = (f"/* Vega {vl_convert.get_vega_version()}, Vega-Lite and vega-embed "
                  f"{vl_convert.get_vega_embed_version()} (BSD-3-Clause licences), bundled by vl-convert "
                  f"{version} for metricspec. */\n")
        try:
            text = header + str(vl_convert.javascript_bundle())  # type: ignore[call-arg]  # snippet is optional
        except Exception as exc:  # vl-convert raises ValueError; anything else is as unexpected
            raise ChartDrawError(f"vl-convert could not bundle the chart scripts: {exc}",
                                 hint="build with --static-charts to draw the charts as SVG instead") from None
        chart_cache.store_text(name, text)
    _bundle[version] = text


def prefetch_bundle() -> None:
    """Start making the bundle in a background thread (it takes seconds when not cached), so that it
    overlaps evaluating the specs; :func:`vega_bundle` waits for it."""
    version = chart_cache.vl_convert_version()
    if version not in _bundle and version not in _pending:
        def make() -> None:
            with contextlib.suppress(Exception):  # vega_bundle() tries again, and reports the error
                _load_or_make(version)

        thread = threading.Thread(target=make, name="vega-bundle", daemon=True)
        _pending[version] = thread
        thread.start()


def vega_bundle() -> str:
    """vl-convert's bundle of Vega, Vega-Lite and vega-embed (bundled once per vl-convert version)."""
    version = chart_cache.vl_convert_version()
    pending = _pending.pop(version, None)
    if pending is not None:
        pending.join()
    if version not in _bundle:  # not prefetched, or the background thread failed: make it here
        _load_or_make(version)
    return _bundle[version]


def charts_js() -> str:
    """The script that draws a page's charts (``metricspec/render/assets/charts.js``)."""
    return resources.files("metricspec.render").joinpath("assets", "charts.js").read_text(encoding="utf-8")


def script_json(text: str) -> str:
    """JSON text made safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` and the JavaScript
    line separators as ``\\uXXXX`` escapes (the same value to JSON.parse), so data can never end the block."""
    for char, escape in _JSON_ESCAPES.items():
        text = text.replace(char, escape)
    return text


def page_config(chart_locale: str) -> str:
    """A page's shared chart settings, as script-safe JSON: the Vega-Lite config every chart of
    :mod:`metricspec.render.charts` has (embedded charts leave it out, see :func:`embed_json`) and the
    page's d3 number locale (a name becomes its definition)."""
    return script_json(json.dumps({"config": charts.shared_config(), "locale": _locale(chart_locale)},
                                  sort_keys=True))


def _locale(locale: str) -> object:
    loc = json.loads(locale)
    if isinstance(loc, str):
        import vl_convert  # heavy: vl-convert's JavaScript engine, only for a named locale

        return vl_convert.get_format_locale(loc)  # type: ignore[arg-type]
    return loc


def embed_json(vega_lite: str, locale: str, page_locale: str | None = None) -> str:
    """A chart's block: its Vega-Lite spec without the ``$schema`` URL (charts.js says the spec is
    Vega-Lite, and a page names no web address) and without the config every chart shares (the page
    has it once, :func:`page_config`); its d3 number locale only when it is not the page's."""
    spec = _without_shared_config(_without_schema(vega_lite))
    locale_part = "" if locale == page_locale else f'"locale":{json.dumps(_locale(locale), sort_keys=True)},'
    return script_json(f'{{{locale_part}"spec":{spec}}}')


_SCHEMA = '{"$schema": "'
_CONFIG = '{"config": '


def _without_shared_config(spec: str) -> str:
    """The spec without its ``config`` when that is the shared one: sorted keys put it first, so it is
    cut off as text after reading just that value."""
    if not spec.startswith(_CONFIG):
        return spec
    config, end = json.JSONDecoder().raw_decode(spec, len(_CONFIG))
    if config != charts.shared_config():
        return spec
    return "{" + spec[end:].removeprefix(",").lstrip()


def _without_schema(vega_lite: str) -> str:
    """The canonical spec JSON without its ``$schema`` entry: sorted keys put it first, so it is cut off
    as text (parsing and writing every spec again took a second per site)."""
    if not vega_lite.startswith(_SCHEMA):
        spec = json.loads(vega_lite)
        spec.pop("$schema", None)
        return json.dumps(spec, sort_keys=True)
    end = vega_lite.index('"', len(_SCHEMA)) + 1  # a URL has no quote in it
    rest = vega_lite[end:].removeprefix(",").lstrip()
    return "{" + rest
