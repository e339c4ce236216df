"""``metricspec check --notify``: call every ``metricspec_notify`` hook when the check fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metricspec.errors import MetricSpecError, PluginError

if TYPE_CHECKING:
    import pluggy

    from metricspec.check.findings import CheckReport


@dataclass(frozen=True)
class NotifyOutcome:
    """What one notifier did: where it sent the message, or why it could not."""

    plugin: str
    sent_to: str | None = None
    error: MetricSpecError | None = None


def notify(report: CheckReport, pm: pluggy.PluginManager | None = None) -> list[NotifyOutcome]:
    """Call each notifier with the failing findings (nothing when the check passes).

    Each implementation is called on its own, so one that fails does not keep the others from
    sending; its error is returned, not raised.
    """
    failing = report.failures
    if not failing:
        return []
    if pm is None:
        from metricspec.plugins import plugin_manager

        pm = plugin_manager()
    args: dict[str, Any] = {"findings": failing, "report": report}
    outcomes = []
    for impl in pm.hook.metricspec_notify.get_hookimpls():
        try:
            sent = impl.function(*(args[name] for name in impl.argnames))
        except MetricSpecError as exc:
            outcomes.append(NotifyOutcome(impl.plugin_name, error=exc))
            continue
        except Exception as exc:  # a third-party notifier's bug must not hide the check's result
            outcomes.append(NotifyOutcome(impl.plugin_name, error=PluginError(
                f"notifier '{impl.plugin_name}' failed: {type(exc).__name__}: {exc}",
                hint="report it to the plugin's authors")))
            continue
        outcomes.append(NotifyOutcome(impl.plugin_name, sent_to=None if sent is None else str(sent)))
    return outcomes
