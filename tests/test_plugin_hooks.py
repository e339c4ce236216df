"""Plugin hooks for output formats and notifications, the built-in webhook notifier (against a real HTTP
server on 127.0.0.1), and the plugin manager: built once per process, built-ins registered by import,
distributions from pluggy's ``list_plugin_distinfo``."""

from __future__ import annotations

import json
import shutil
import threading
import types
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner

import metricspec
from metricspec import plugins
from metricspec.cli import main
from metricspec.errors import PluginError
from metricspec.outputs import OutputRenderer
from metricspec.sources.registry import connector_registry

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "examples"
TRADE_FAIR = EXAMPLES / "trade_fair_campaign.yaml"
AS_OF = "2026-11-01"


@pytest.fixture
def with_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Make the process's plugin manager the installed plugins plus the given ones (rebuilt after)."""

    def install(*extra: object) -> None:
        plugins.reset_plugin_manager()
        pm = plugins.make_plugin_manager(plugins=extra)
        monkeypatch.setattr(plugins, "plugin_manager", lambda: pm)

    yield install
    monkeypatch.undo()
    plugins.reset_plugin_manager()


# ---------------------------------------------------------------- output renderers


def _goal_lines(results: Sequence[metricspec.Results]) -> str:
    return "".join(f"{r.spec.name}\t{g.objective}/{g.id}\t{g.status}\n" for r in results for g in r.goals())


class TsvGoals:
    """A plugin adding ``--format goals-tsv``."""

    @metricspec.hookimpl
    def metricspec_output_renderers(self) -> list[OutputRenderer]:
        return [OutputRenderer("goals-tsv", _goal_lines, description="one line per goal", extension="tsv")]


def test_metricspec_output_renderers_adds_a_format(with_plugins: Any, tmp_path: Path) -> None:
    with_plugins(TsvGoals())
    result = CliRunner().invoke(main, ["run", str(EXAMPLES), "--as-of", AS_OF, "--format", "goals-tsv", "-q"])
    assert result.exit_code == 0, result.output
    runs = CliRunner().invoke(main, ["run", str(EXAMPLES), "--as-of", AS_OF, "--format", "json", "-q"])
    expected = "".join(f"{d['spec']['name']}\t{o['id']}/{g['id']}\t{g['status']}\n"
                       for d in json.loads(runs.stdout) for o in d["objectives"] for g in o["goals"])
    assert result.output == expected
    out = tmp_path / "goals.tsv"
    written = CliRunner().invoke(main, ["run", str(TRADE_FAIR), "--as-of", AS_OF, "--format", "goals-tsv",
                                        "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_text(encoding="utf-8").startswith("trade-fair-campaign\tleads/fifty_signups\t")
    listing = CliRunner().invoke(main, ["plugins"])
    assert "output formats: goals-tsv" in listing.output


def test_an_unknown_format_is_a_usage_error_before_reading_data(with_plugins: Any) -> None:
    with_plugins(TsvGoals())
    result = CliRunner().invoke(main, ["run", str(TRADE_FAIR), "--format", "goals-tvs"])
    assert result.exit_code == 2
    assert "--format 'goals-tvs' is not an output format" in result.output
    assert "did you mean 'goals-tsv'?" in result.output and "Traceback" not in result.output


def test_renderers_may_not_clash(with_plugins: Any) -> None:
    from metricspec.outputs import output_renderers

    class Json:
        @metricspec.hookimpl
        def metricspec_output_renderers(self) -> list[OutputRenderer]:
            return [OutputRenderer("json", _goal_lines)]

    with pytest.raises(PluginError, match="'json', which is built in"):
        output_renderers(plugins.make_plugin_manager(load_entry_points=False, plugins=(Json(),)))
    with pytest.raises(PluginError, match="provided twice"):
        output_renderers(plugins.make_plugin_manager(load_entry_points=False, plugins=(TsvGoals(), TsvGoals())))

    class NotText:
        @metricspec.hookimpl
        def metricspec_output_renderers(self) -> list[OutputRenderer]:
            return [OutputRenderer("bytes", lambda results: b"x")]  # type: ignore[arg-type,return-value]

    with_plugins(NotText())
    result = CliRunner().invoke(main, ["run", str(TRADE_FAIR), "--as-of", AS_OF, "--format", "bytes"])
    assert result.exit_code == 2 and "returned bytes, not text" in result.output


# ---------------------------------------------------------------- notifications


class Receiver:
    """An HTTP server on 127.0.0.1 that records POSTed JSON and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                receiver.headers.append(dict(self.headers))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/secret-token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def regressing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Example specs and a baseline from 2026-06-30 that the 2026-11-01 results regress against."""
    root = tmp_path_factory.mktemp("regressing")
    specs = root / "specs"
    specs.mkdir()
    for name in ("trade_fair_campaign.yaml", "x_brand_awareness.yaml"):
        shutil.copyfile(EXAMPLES / name, specs / name)
    shutil.copytree(EXAMPLES / "shared", specs / "shared")
    shutil.copytree(EXAMPLES / "data", specs / "data")  # inside the project root the specs are confined to
    baseline = root / "baseline.json"
    made = CliRunner().invoke(main, ["baseline", "update", str(specs), "--baseline", str(baseline), "--as-of",
                                     "2026-06-30", "--force"])
    assert made.exit_code == 0, made.output
    return specs, baseline


def _check(specs: Path, baseline: Path, *extra: str, as_of: str = AS_OF, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, ["check", str(specs), "--baseline", str(baseline), "--as-of", as_of, *extra],
                              env=env)


def test_check_notify_posts_slack_json_to_the_webhook(regressing: tuple[Path, Path], receiver: Receiver,
                                                      with_plugins: Any) -> None:
    with_plugins()
    specs, baseline = regressing
    result = _check(specs, baseline, "--notify", "--format", "json", env={"METRICSPEC_WEBHOOK_URL": receiver.url})
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    failures = [f for s in report["specs"] for f in s["findings"] if f["severity"] == "failure"]
    assert failures
    body = receiver.bodies[0]  # the team's message; then one per person with pacing alerts (test_pacing.py)
    assert receiver.headers[0]["Content-Type"].startswith("application/json")
    assert body["text"].startswith(f"metricspec check: {len(failures)} regression")
    for f in failures:
        assert f"{f['spec']}: {f['rule'].replace('_', ' ')} — {f['subject']}" in body["text"]
    assert body["blocks"][0]["type"] == "section" and body["blocks"][0]["text"]["type"] == "mrkdwn"
    assert "secret-token" not in result.output, "the webhook URL is a secret"
    assert f"notified webhook http://127.0.0.1:{receiver.server.server_port}/…" in result.output


def test_no_notification_when_nothing_regressed(regressing: tuple[Path, Path], receiver: Receiver,
                                                with_plugins: Any) -> None:
    with_plugins()
    specs, baseline = regressing
    result = _check(specs, baseline, "--notify", as_of="2026-06-30", env={"METRICSPEC_WEBHOOK_URL": receiver.url})
    assert result.exit_code == 0, result.output
    assert receiver.bodies == []
    without_flag = _check(specs, baseline, env={"METRICSPEC_WEBHOOK_URL": receiver.url})
    assert without_flag.exit_code == 1 and receiver.bodies == [], "only --notify sends"


def test_a_failing_webhook_is_a_warning_and_keeps_the_exit_code(regressing: tuple[Path, Path],
                                                                with_plugins: Any) -> None:
    with_plugins()
    specs, baseline = regressing
    refusing = Receiver(status=500)
    try:
        result = _check(specs, baseline, "--notify", env={"METRICSPEC_WEBHOOK_URL": refusing.url})
    finally:
        refusing.close()
    assert result.exit_code == 1, result.output
    assert "warning: --notify: the webhook http://127.0.0.1:" in result.output and "answered 500" in result.output
    assert "secret-token" not in result.output and "Traceback" not in result.output
    unset = _check(specs, baseline, "--notify", env={"METRICSPEC_WEBHOOK_URL": ""})
    assert unset.exit_code == 1 and "no notifier is configured; set METRICSPEC_WEBHOOK_URL" in unset.output
    bad = _check(specs, baseline, "--notify", env={"METRICSPEC_WEBHOOK_URL": "file:///etc/passwd"})
    assert bad.exit_code == 1 and "must be an http(s) URL" in bad.output


def test_webhook_unreachable_and_escaping() -> None:
    from metricspec.check.findings import CheckReport, Finding, GoalCase, SpecCheck
    from metricspec.notifiers import webhook

    finding = Finding("failure", "status_worse", "results", "s<1>", "o/g & <@here>", "worse", old="on_track",
                      new="at_risk")
    report = CheckReport(specs=[SpecCheck("s<1>", "s.yaml", goals=[GoalCase("o/g", "t", "at_risk", 1.0, 2.0)],
                                          findings=[finding])])
    body = webhook.payload(report.failures, report, env={})
    assert "<@here>" not in body["text"] and "&lt;@here&gt;" in body["text"] and "&amp;" in body["text"]
    assert "1 spec · 1 goal: 1 at risk" in body["text"]
    link = webhook.payload(report.failures, report, env={"GITHUB_SERVER_URL": "https://github.com",
                                                          "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "7"})
    assert "<https://github.com/o/r/actions/runs/7|CI run>" in link["text"]
    with pytest.raises(webhook.NotifyError, match=r"cannot reach the webhook http://127\.0\.0\.1:9/…"):
        webhook.post_json("http://127.0.0.1:9/hook/secret", {"text": "x"}, timeout=5)


def test_metricspec_notify_calls_every_notifier(regressing: tuple[Path, Path], with_plugins: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Each notifier runs even when another fails; implementations take the arguments they need."""
    from metricspec.check.notify import notify

    got: list[int] = []

    class Broken:
        @metricspec.hookimpl
        def metricspec_notify(self, report: Any) -> str | None:
            raise RuntimeError("boom")

    class Counting:
        @metricspec.hookimpl
        def metricspec_notify(self, findings: Any) -> str | None:
            got.append(len(findings))
            return "counted"

    with_plugins(Broken(), Counting())
    monkeypatch.delenv("METRICSPEC_WEBHOOK_URL", raising=False)
    specs, baseline = regressing
    result = _check(specs, baseline, "--notify")
    assert result.exit_code == 1, result.output
    assert got and got[0] > 0
    assert "notified counted" in result.output
    assert "notifier" in result.output and "RuntimeError: boom" in result.output
    from metricspec.check.findings import CheckReport

    assert notify(CheckReport()) == [], "nothing to notify when the check passes"


# ---------------------------------------------------------------- the plugin manager


def test_the_plugin_manager_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    plugins.reset_plugin_manager()
    built: list[int] = []
    real = plugins.make_plugin_manager

    def counting(**kwargs: Any) -> Any:
        built.append(1)
        return real(**kwargs)

    monkeypatch.setattr(plugins, "make_plugin_manager", counting)
    try:
        results = metricspec.evaluate(TRADE_FAIR, as_of=AS_OF)
        assert results.goals()
        metricspec.evaluate(EXAMPLES / "x_brand_awareness.yaml", as_of=AS_OF)
        assert plugins.plugin_manager() is plugins.plugin_manager()
        assert len(built) == 1, "loading, validating and evaluating two specs built one plugin manager"
        plugins.reset_plugin_manager()
        plugins.plugin_manager()
        assert len(built) == 2, "reset_plugin_manager() makes the next call build a new one"
    finally:
        monkeypatch.undo()
        plugins.reset_plugin_manager()


def test_builtins_are_registered_by_import_without_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda **kw: [])
    monkeypatch.setattr(plugins.pluggy.PluginManager, "load_setuptools_entrypoints", lambda self, group: 0)
    pm = plugins.make_plugin_manager()
    assert {"csv", "parquet", "sqlite", "duckdb"} <= set(connector_registry(pm))
    assert pm.get_plugin("builtin_notifiers") is not None
    infos = {i.name: i for i in plugins.plugin_infos(pm)}
    assert infos["builtin_connectors"].distribution.startswith("metricspec-cli (built in")
    assert infos["builtin_connectors"].version == metricspec.__version__
    assert infos["builtin_notifiers"].hooks == ("metricspec_notify",)
    none = plugins.make_plugin_manager(load_entry_points=False, builtins=False)
    assert connector_registry(none) == {}


def test_plugins_shows_distributions_from_pluggy() -> None:
    pm = plugins.make_plugin_manager()
    from_pluggy = {id(p): d.project_name for p, d in pm.list_plugin_distinfo()}
    infos = plugins.plugin_infos(pm)
    for info in infos:
        plugin = pm.get_plugin(info.name)
        if id(plugin) in from_pluggy:
            assert info.distribution == from_pluggy[id(plugin)]
    by_name = {i.name: i for i in infos}
    assert by_name["x_analytics"].distribution == "metricspec-x-analytics"
    assert by_name["shortlinks"].distribution == "metricspec-shortlinks"
    # the distribution declaring the built-ins' entry point (metricspec-cli; on a machine that also has an older
    # install of this repository under another name, whichever of them the import system lists first)
    declaring = {ep.dist.metadata["Name"] for ep in plugins.metadata.entry_points(group="metricspec")
                 if ep.value == "metricspec.connectors.builtin" and ep.dist is not None}
    assert "metricspec-cli" in declaring
    assert by_name["builtin_connectors"].distribution in declaring
    result = CliRunner().invoke(main, ["plugins", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = {i["name"]: i for i in json.loads(result.output)}
    assert listed["x_analytics"]["distribution"] == "metricspec-x-analytics"
    assert listed["x_analytics"]["connectors"] == ["x_analytics"]
    assert "metricspec_connectors" in listed["x_analytics"]["hooks"]


def _install_broken_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed distribution whose ``metricspec`` entry point names a module that does not exist."""
    import importlib.metadata

    class DistWithBrokenPlugin:  # what importlib.metadata.distributions() yields, as far as it is read
        _normalized_name = name = "metricspec_broken_plugin"
        metadata: ClassVar[dict[str, str]] = {"Name": "metricspec-broken-plugin"}
        version = "1.0"
        entry_points = importlib.metadata.EntryPoints([importlib.metadata.EntryPoint(
            name="broken", value="no_such_module_for_metricspec", group="metricspec")])

    real = importlib.metadata.distributions
    monkeypatch.setattr(importlib.metadata, "distributions", lambda **kw: [*real(**kw), DistWithBrokenPlugin()])


def test_a_broken_plugin_is_left_out_and_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 25: one broken plugin package made every command exit 2; now it is left out (and named),
    and the other plugins load."""
    _install_broken_plugin(monkeypatch)
    pm = plugins.make_plugin_manager()
    (broken,) = plugins.broken_plugins(pm)
    assert broken.message() == ("plugin 'broken' (no_such_module_for_metricspec) failed to load: "
                                "ModuleNotFoundError: No module named 'no_such_module_for_metricspec'")
    assert pm.is_blocked("broken") and pm.get_plugin("x_analytics") is not None
    assert {"csv", "x_analytics"} <= set(connector_registry(pm))
    # a failure the second reading of the entry points does not reproduce is still an error
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda **kw: [])
    with pytest.raises(PluginError, match=r"loading the installed plugins failed: ModuleNotFoundError"):
        plugins.make_plugin_manager()
    monkeypatch.undo()  # the broken distribution is gone: a plugin whose hooks do not fit

    bad = types.ModuleType("bad_hooks")

    @metricspec.hookimpl
    def metricspec_connectors(nonsense: int) -> list[object]:
        return []

    bad.metricspec_connectors = metricspec_connectors  # type: ignore[attr-defined]
    real_load = plugins.pluggy.PluginManager.load_setuptools_entrypoints

    def load(self: Any, group: str) -> int:
        if not self.is_blocked("bad"):
            self.register(bad, name="bad")
        return int(real_load(self, group))

    monkeypatch.setattr(plugins.pluggy.PluginManager, "load_setuptools_entrypoints", load)
    pm = plugins.make_plugin_manager()
    (unfit,) = plugins.broken_plugins(pm)
    assert unfit.name == "bad" and "does not fit metricspec's hooks" in unfit.message()
    assert pm.get_plugin("bad") is None and "csv" in connector_registry(pm)


def test_a_broken_plugin_fails_only_the_specs_that_use_its_connector(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _install_broken_plugin(monkeypatch)
    plugins.reset_plugin_manager()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text("day,n\n2026-01-05,3\n", encoding="utf-8")
    (tmp_path / "ok.yaml").write_text("name: ok\nsources:\n  d: {connector: csv, options: {path: d.csv}, "
                                      "time_column: day}\nkpis:\n  n: {source: d, agg: sum, column: n}\n")
    (tmp_path / "uses.yaml").write_text("name: uses\nsources:\n  d: {connector: broken, options: {}, "
                                        "time_column: day}\nkpis:\n  n: {source: d, agg: count}\n")
    try:
        listed = CliRunner().invoke(main, ["plugins"])
        assert listed.exit_code == 0, listed.output
        assert "x_analytics" in listed.stdout and "warning: plugin 'broken'" in listed.stderr
        assert "broken  (no_such_module_for_metricspec: not loaded, failed to load: ModuleNotFoundError" in listed.stdout
        ran = CliRunner().invoke(main, ["run", "ok.yaml", "--as-of", "2026-01-31"])
        assert ran.exit_code == 0, ran.output
        assert "warning: plugin 'broken' (no_such_module_for_metricspec) failed to load" in ran.stderr
        failed = CliRunner().invoke(main, ["validate", "uses.yaml"])
        assert failed.exit_code == 2 and "uses.yaml:3:" in failed.output, failed.output
        assert "unknown connector 'broken'" in failed.output and "failed to load: ModuleNotFoundError" in failed.output
        assert "Traceback" not in failed.output
    finally:
        plugins.reset_plugin_manager()
