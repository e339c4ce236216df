"""Results in Jupyter: the HTML scorecard inside an ``<iframe srcdoc>``.

Importing this module makes :meth:`Results._repr_html_` return the frame (``metricspec.evaluate``
imports it). The scorecard is a whole HTML document with its own stylesheet; in a frame its styles cannot
restyle the notebook around it, and the notebook's cannot break it. The frame is sandboxed
(scripts may run, for charts, but get no access to the notebook's origin).
"""

from __future__ import annotations

import html

from metricspec.engine.results import HTML_VIEWS, Results
from metricspec.render.i18n import DEFAULT_LANGUAGE, LANGUAGES


def scorecard_iframe(results: Results, lang: str | None = None, *, height: str = "min(85vh, 1000px)") -> str:
    """``results`` as an HTML scorecard (:func:`metricspec.render.html.render_scorecard`) in a frame.

    ``lang`` defaults to the spec's ``language`` when a scorecard can be shown in it, else English.
    """
    from metricspec.render.html import render_scorecard  # start-up: jinja2, only in Jupyter

    lang = lang or (results.spec.language if results.spec.language in LANGUAGES else DEFAULT_LANGUAGE)
    document = render_scorecard(results, lang)
    title = html.escape(f"Scorecard: {results.spec.title}", quote=True)
    return (f'<iframe srcdoc="{html.escape(document, quote=True)}" title="{title}" '
            f'sandbox="allow-scripts allow-popups" loading="lazy" '
            f'style="width: 100%; height: {html.escape(height, quote=True)}; border: 1px solid #d9dee5;">'
            "</iframe>")


HTML_VIEWS.append(scorecard_iframe)  # Results._repr_html_: Jupyter shows the scorecard
