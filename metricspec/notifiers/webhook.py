"""The built-in notifier: a Slack-compatible JSON message to a webhook URL.

``metricspec check --notify`` calls every ``metricspec_notify`` hook: for the team when the check
fails, and for each person responsible for goals that fall behind (pacing alerts). The team's message
goes to the URL in ``$METRICSPEC_WEBHOOK_URL`` (a Slack incoming webhook, or anything that takes
Slack's ``{"text": …, "blocks": […]}``: Mattermost, Rocket.Chat, Discord's ``/slack`` endpoint, …);
a person's goes to their URL in the spec's ``notify: {people: {Name: …}}`` — a URL, or
``${VARIABLE}`` read from the environment when sending, so the secret stays out of the spec — else
to ``$METRICSPEC_WEBHOOK_URL``. Nothing is sent where no URL is set. Only the standard library is
used; URLs are secrets, so messages name only their scheme and host.

The plugin manager imports this module for every command, so the check package (which loads the engine)
and urllib's HTTP client are imported only when a notification is built or sent (``start-up``).
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from metricspec.errors import MetricSpecError
from metricspec.hookspecs import hookimpl

if TYPE_CHECKING:
    from metricspec.check.findings import CheckReport, Finding
    from metricspec.check.pacing import PacingAlert

URL_VARIABLE = "METRICSPEC_WEBHOOK_URL"
TIMEOUT_SECONDS = 10
MAX_LISTED = 20
"""Findings listed one by one in a message; the rest are counted (chat messages have size limits)."""


class NotifyError(MetricSpecError):
    """A notification could not be sent."""


def slack_escape(text: str) -> str:
    """Slack's three control characters (``&``, ``<``, ``>``), so names from specs cannot become links
    or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def redact(url: str) -> str:
    """``https://hooks.slack.com/…``: webhook URLs carry their secret in the path."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/…"


def _ci_link(env: Mapping[str, str]) -> str | None:
    keys = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    if all(env.get(k) for k in keys):
        return f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    return None


def payload(findings: Sequence[Finding], report: CheckReport, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The message: a plain ``text`` (shown by every Slack-compatible receiver and in notifications)
    and the same content as Block Kit ``blocks``."""
    from metricspec.check.render import value_text  # start-up: the engine, only to notify

    env = os.environ if env is None else env
    n = len(findings)
    head = f"metricspec check: {n} regression{'s' if n != 1 else ''} ({report.goal_summary()})"
    lines = []
    for f in findings[:MAX_LISTED]:
        where = f" ({f.where})" if f.where else ""
        change = (f": {value_text(f.old, f.unit, f.currency)} → {value_text(f.new, f.unit, f.currency)}"
                  if f.old is not None or f.new is not None else "")
        lines.append(slack_escape(f"• {f.spec}: {f.rule.replace('_', ' ')} — {f.subject}{change}{where}"))
    if n > MAX_LISTED:
        lines.append(f"… and {n - MAX_LISTED} more")
    link = _ci_link(env)
    text = "\n".join([slack_escape(head), *lines] + ([f"<{link}|CI run>"] if link else []))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{slack_escape(head)}*"}},
    ]
    if lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}})
    if link:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|CI run>"}]})
    return {"text": text, "blocks": blocks}


def post_json(url: str, body: dict[str, Any], *, timeout: float = TIMEOUT_SECONDS) -> int:
    """POST ``body`` as JSON; the HTTP status, or :class:`NotifyError` naming the host (never the path)."""
    import urllib.error  # start-up: only to notify
    import urllib.request  # start-up: only to notify

    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise NotifyError(f"${URL_VARIABLE} must be an http(s) URL, not '{redact(url)}'",
                          hint="set it to the incoming-webhook URL your chat tool gives you")
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": "metricspec"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # the scheme is checked above
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise NotifyError(f"the webhook {redact(url)} answered {exc.code} {exc.reason}",
                          hint=f"check ${URL_VARIABLE}; the webhook may have been revoked") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NotifyError(f"cannot reach the webhook {redact(url)}: {reason}",
                          hint="check the network and the URL") from None


VARIABLE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def person_url(person: str, route: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """Where a person's alerts go: their ``notify.people`` entry (``${VARIABLE}`` read from ``env``),
    else ``$METRICSPEC_WEBHOOK_URL``; None when neither is set."""
    env = os.environ if env is None else env
    if route:
        match = VARIABLE.match(route.strip())
        if match is None:
            return route.strip()
        value = env.get(match.group(1), "").strip()
        if not value:
            raise NotifyError(f"notify.people['{person}'] is ${{{match.group(1)}}}, which is not set",
                              hint=f"set {match.group(1)} (a CI secret) to {person}'s webhook URL")
        return value
    return env.get(URL_VARIABLE, "").strip() or None


def person_payload(person: str, alerts: Sequence[PacingAlert]) -> dict[str, Any]:
    """One person's message: a heading in the spec's language, a line per goal, links to the cards."""
    from metricspec.render.i18n import Translator  # heavy (babel): only when a person is told

    tr = Translator(alerts[0].language if alerts and alerts[0].language in ("en", "es", "pl") else "en")
    head = slack_escape(tr("alert_heading", person=person, n=len(alerts)))
    lines = []
    for a in alerts[:MAX_LISTED]:
        text = slack_escape(a.text)
        lines.append(f"• {text} <{a.link}|{slack_escape(tr('alert_link'))}>" if a.link else f"• {text}")
    if len(alerts) > MAX_LISTED:
        lines.append(f"… +{len(alerts) - MAX_LISTED}")
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{head}*"}},
                                    {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}}]
    return {"text": "\n".join([head, *lines]), "blocks": blocks}


@hookimpl
def metricspec_notify(findings: Sequence[Finding], report: CheckReport, person: str | None,
                      alerts: Sequence[PacingAlert]) -> str | None:
    """The team: the regressions to ``$METRICSPEC_WEBHOOK_URL``. A person: their pacing alerts to their
    URL (the spec's ``notify.people``), else to ``$METRICSPEC_WEBHOOK_URL``. Nothing where no URL is set."""
    if person is None:
        url = os.environ.get(URL_VARIABLE, "").strip()
        if not url or not findings:
            return None
        post_json(url, payload(findings, report))
        return f"webhook {redact(url)}"
    target = person_url(person, alerts[0].route if alerts else None)
    if target is None:
        return None
    post_json(target, person_payload(person, alerts))
    return f"webhook {redact(target)} for {person}"
