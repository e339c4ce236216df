"""``metricspec check --notify``: call every ``metricspec_notify`` hook — for the team when the check
fails, and for each responsible person with pacing alerts (:mod:`metricspec.check.pacing`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metricspec.check.pacing import by_person
from metricspec.errors import MetricSpecError, PluginError
from metricspec.hooktypes import CheckSummary
from metricspec.plugins import current_plugin_manager

if TYPE_CHECKING:
    import pluggy

    from metricspec.check.findings import CheckReport


@dataclass(frozen=True)
class NotifyOutcome:
    """What one notifier did: where it sent the message, or why it could not."""

    plugin: str
    sent_to: str | None = None
    error: MetricSpecError | None = None
    person: str | None = None  # None: the team's message about regressions


def notify(report: CheckReport, pm: pluggy.PluginManager | None = None) -> list[NotifyOutcome]:
    """Call each notifier with the failing findings (when the check fails), then once per person
    with the report's pacing alerts (notifiers that take ``person``).

    Each implementation is called on its own, so one that fails does not keep the others from
    sending; its error is returned, not raised.
    """
    failing, alerts = report.failures, report.alerts
    summary: CheckSummary = report  # what the hook promises plugins (mypy checks that the report is one)
    if not failing and not alerts:
        return []
    if pm is None:
        pm = current_plugin_manager()
    impls = pm.hook.metricspec_notify.get_hookimpls()
    outcomes = []
    if failing:
        team: dict[str, Any] = {"findings": failing, "report": summary, "person": None, "alerts": list(alerts)}
        outcomes += [_call(impl, team, None) for impl in impls]
    for (person, _route), mine in by_person(alerts).items():
        args: dict[str, Any] = {"findings": [], "report": summary, "person": person, "alerts": mine}
        outcomes += [_call(impl, args, person) for impl in impls if "person" in impl.argnames]
    return outcomes


def _call(impl: Any, args: dict[str, Any], person: str | None) -> NotifyOutcome:
    try:
        sent = impl.function(*(args[name] for name in impl.argnames))
    except MetricSpecError as exc:
        return NotifyOutcome(impl.plugin_name, error=exc, person=person)
    except Exception as exc:  # a third-party notifier's bug must not hide the check's result
        return NotifyOutcome(impl.plugin_name, error=PluginError(
            f"notifier '{impl.plugin_name}' failed: {type(exc).__name__}: {exc}",
            hint="report it to the plugin's authors"), person=person)
    return NotifyOutcome(impl.plugin_name, sent_to=None if sent is None else str(sent), person=person)
