"""Commands that look alike (issue 14): help without type tags, one spelling per shared option,
``--quiet`` wherever there is a progress bar, report paths printed, and ``--set a,b`` for lists."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pandas as pd
import pytest
import typer
from conftest import REPO
from typer.core import TyperArgument
from typer.testing import CliRunner

from emonet.cli import app
from emonet.config import ConfigError, set_key

GROUP = typer.main.get_command(app)
COMMANDS = sorted(GROUP.commands)
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}
TYPE_TAG = re.compile(r"<(list|bool|path|str|int|float|file|dir|tuple|datetime)\b|\{\w+\}")
"""Typer's own help tags: ``<list[str]>``, ``<bool>``, ``<path>``, ``<int range>``, ``{config}``."""
PROGRESS_BAR = re.compile(r"show_progress|Progress\(|progress_bar\(|\.status\(|_with_progress")
"""What in a command's source shows a progress bar or spinner."""


def _help(*args: str) -> str:
    res = CliRunner().invoke(app, [*args, "--help"], env=ENV)
    assert res.exit_code == 0, res.output
    return res.output


def _options(command: str) -> dict[str, typer.core.TyperOption]:
    """A command's options by long name (hidden ones included)."""
    cmd = GROUP.commands[command]
    return {
        next(o for o in p.opts if o.startswith("--")): p
        for p in cmd.params
        if not isinstance(p, TyperArgument)
    }


def _callback_source(command: str) -> str:
    info = next(c for c in app.registered_commands if (c.name or "") == command)
    return inspect.getsource(info.callback)


# ---------------------------------------------------------------------------- (a) help text


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_has_no_type_tags_or_braces(command):
    out = _help(command) if command else _help()
    assert "{" not in out, out
    assert not TYPE_TAG.search(out), TYPE_TAG.search(out)
    help_row = next(line for line in out.splitlines() if "--help" in line)
    assert "BOOLEAN" not in help_row and "<" not in help_row, help_row


def test_arguments_and_values_show_as_upper_case_names():
    out = _help("evaluate")
    assert "evaluate [OPTIONS] RUN EMOSET" in out
    assert re.search(r"--batch-size\s+INTEGER", out) and re.search(r"--out\s+PATH", out)
    assert re.search(r"--corpus\s+-c\s+TEXT", out)
    assert re.search(r"--quiet\s+-q\s+No progress bars", out), out  # a flag: no value shown
    assert "predict [OPTIONS] RUN PATHS..." in _help("predict")
    assert "model-info [OPTIONS] [NAME]" in _help("model-info")
    assert "train [OPTIONS] CONFIG" in _help("train")


# ---------------------------------------------------------------------------- (b) --quiet


def test_every_command_with_a_progress_bar_has_quiet():
    with_bars = {c for c in COMMANDS if PROGRESS_BAR.search(_callback_source(c))}
    expected = {"baseline", "check", "cross-corpus", "demo", "evaluate", "experiment",
                "predict", "prepare", "train"}  # fmt: skip
    assert with_bars == expected, with_bars ^ expected
    for command in sorted(with_bars):
        quiet = _options(command).get("--quiet")
        assert quiet is not None, f"{command} shows progress but has no --quiet"
        assert quiet.opts == ["--quiet", "-q"] and not quiet.secondary_opts, (command, quiet.opts)
        assert quiet.help == "No progress bars." and quiet.default is False, command
    no_bars = set(COMMANDS) - with_bars
    assert not {c for c in no_bars if "--quiet" in _options(c)}, "--quiet that does nothing"


@pytest.fixture
def fake_cross_corpus(monkeypatch, tmp_path):
    """cross-corpus wired to a fake matrix: records its arguments."""
    import emonet.evaluate.crosscorpus as crosscorpus
    import emonet.evaluate.runner as runner

    calls: list[dict] = []

    def matrix(checkpoint, emoset, corpora, partition, overrides, out, **kw):
        calls.append({"corpora": corpora, "partition": partition, "out": out, **kw})
        return pd.DataFrame([[0.5, 0.4], [0.3, 0.6]], index=["a", "b"], columns=["a", "b"])

    run = tmp_path / "run"
    monkeypatch.setattr(crosscorpus, "cross_corpus_matrix", matrix)
    monkeypatch.setattr(runner, "resolve", lambda p: runner.Target(run / "checkpoints/best", run))
    return calls, run


def test_cross_corpus_quiet_batch_size_device_and_report(fake_cross_corpus, tmp_path):
    calls, run = fake_cross_corpus
    args = ["cross-corpus", str(run), str(tmp_path / "emoset")]
    res = CliRunner().invoke(app, args, env=ENV)
    assert res.exit_code == 0, res.output
    assert calls[-1]["show_progress"] is True  # a progress bar without --quiet
    assert calls[-1]["batch_size"] == 32 and calls[-1]["device"] is None
    assert res.stdout.strip().splitlines()[-1] == f"report: {run / 'cross-corpus' / 'report.md'}"

    args += ["-q", "--batch-size", "4", "--device", "cpu", "-c", "a", "-c", "b", "-p", "devel"]
    res = CliRunner().invoke(app, args, env=ENV)
    assert res.exit_code == 0, res.output
    assert calls[-1]["show_progress"] is False  # none with --quiet
    assert calls[-1]["batch_size"] == 4 and calls[-1]["device"] == "cpu"
    assert calls[-1]["corpora"] == ["a", "b"] and calls[-1]["partition"] == "devel"


def test_evaluate_prints_its_report_path(monkeypatch, tmp_path):
    import emonet.evaluate.runner as runner

    run = tmp_path / "run"
    seen = {}

    def evaluate(target, emoset, corpora, parts, out, batch_size, show_progress, device):
        seen.update(out=out, show_progress=show_progress, batch_size=batch_size, device=device)
        return {"a": {"test": {"n": 3, "uar": 0.5, "accuracy": 0.6}}}

    monkeypatch.setattr(runner, "evaluate", evaluate)
    monkeypatch.setattr(runner, "resolve", lambda p: runner.Target(run / "checkpoints/best", run))
    res = CliRunner().invoke(app, ["evaluate", str(run), str(tmp_path), "-q"], env=ENV)
    assert res.exit_code == 0, res.output
    assert seen == {"out": run / "eval", "show_progress": False, "batch_size": 32, "device": None}
    assert res.stdout.strip().splitlines()[-1] == f"report: {run / 'eval' / 'report.md'}"


@pytest.mark.parametrize("command", ["evaluate", "compare", "cross-corpus", "experiment",
                                     "baseline"])  # fmt: skip
def test_commands_that_write_a_report_print_its_path(command):
    assert re.search(r"typer\.echo\(f\"report: ", _callback_source(command)), command


# ---------------------------------------------------------------------------- (c) shared options


SHARED = {
    "--quiet": {"short": "-q", "default": False},
    "--device": {"short": None, "default": None},
    "--batch-size": {"short": None, "default": 32},
    "--workers": {"short": None, "default": None},
    "--out": {"short": None},
    "--corpus": {"short": "-c", "default": None},
    "--partition": {"short": "-p"},
    "--set": {"short": "-s", "default": None},
}
SAME_HELP = ("--quiet", "--device", "--batch-size", "--workers")
KNOWN_SHORT_CLASHES: dict[str, set[str]] = {}
"""None: prepare's --option gave up -o, which is predict's --output."""


def test_shared_options_are_spelled_alike():
    seen: dict[str, list[tuple[str, typer.core.TyperOption]]] = {}
    for command in COMMANDS:
        for name, option in _options(command).items():
            if name in SHARED and not option.hidden:
                seen.setdefault(name, []).append((command, option))
    assert {c for c, _ in seen["--device"]} == {"evaluate", "cross-corpus", "predict"}
    assert {c for c, _ in seen["--batch-size"]} == {"evaluate", "cross-corpus", "predict"}
    assert {c for c, _ in seen["--out"]} >= {"evaluate", "cross-corpus", "compare", "demo"}
    for name, rule in SHARED.items():
        uses = seen[name]
        for command, option in uses:
            shorts = [o for o in option.opts if not o.startswith("--")]
            assert shorts == ([rule["short"]] if rule["short"] else []), (name, command, shorts)
            if "default" in rule:
                assert option.default == rule["default"], (name, command, option.default)
        if name in SAME_HELP:
            assert len({option.help for _, option in uses}) == 1, (name, uses)
    for command, option in seen["--out"]:
        assert option.help.startswith("Output folder"), (command, option.help)
    for command, option in seen["--set"]:
        assert option.help.endswith("(repeatable)."), (command, option.help)
    for command, option in seen["--batch-size"]:
        assert option.min == 1, command


def test_a_short_form_means_one_option():
    longs: dict[str, set[str]] = {}
    for command in COMMANDS:
        for name, option in _options(command).items():
            for short in (o for o in option.opts if not o.startswith("--")):
                longs.setdefault(short, set()).add(name)
    clashes = {s: names for s, names in longs.items() if len(names) > 1}
    assert clashes == KNOWN_SHORT_CLASHES, clashes


def test_device_defaults_to_cuda_when_available(monkeypatch, tmp_path):
    """predict's --device goes through runtime.torch_device like evaluate's (None: auto)."""
    import emonet.infer.predictor as predictor
    import emonet.runtime as runtime

    seen = []
    monkeypatch.setattr(runtime, "torch_device", lambda d: seen.append(d) or "cpu")

    class Stop(Exception):
        pass

    def fake_predictor(*args, **kwargs):
        seen.append(kwargs["device"])
        raise Stop

    monkeypatch.setattr(predictor, "Predictor", fake_predictor)
    res = CliRunner().invoke(app, ["predict", str(tmp_path), str(tmp_path)], env=ENV)
    assert isinstance(res.exception, Stop) and seen == [None, "cpu"], (seen, res.output)


# ---------------------------------------------------------------------------- (d) --set a,b


def test_set_takes_a_list_with_or_without_brackets():
    from emonet.train.config import load_config

    for value in ("emodb,urdu", "[emodb, urdu]", "emodb, urdu"):
        cfg = load_config(None, ["mode=multi", f"data.corpora={value}"])
        assert cfg.data.corpora == ["emodb", "urdu"], value
    assert load_config(None, ["data.corpora=emodb"]).data.corpora == ["emodb"]
    cfg = load_config(None, ["data.corpora=emodb", "optim.lr_stages=0.1,0.01"])
    assert cfg.optim.lr_stages == [0.1, 0.01]
    cfg = load_config(None, ["data.corpora=emodb", "out=runs/a,b", "loss.name=focal"])
    assert cfg.out == "runs/a,b" and type(cfg.out) is str  # a text key keeps its commas
    assert cfg.loss.name == "focal" and type(cfg.loss.name) is str


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("optim.lr_stages=0.1,fast", r"optim\.lr_stages\[1\]: expected float, got 'fast'"),
        ("optim.lr_stages=0.1,", r"optim\.lr_stages\[1\]: expected float, got None"),
        ("data.batch_size=1,2", r"data\.batch_size: expected int, got '1,2'"),
        ('data.corpora="emodb,urdu"', r"data\.corpora: expected a list"),  # quoted: one text
        ("mode=multi,scratch", r"mode: 'multi,scratch' is not one of"),
    ],
)
def test_set_lists_are_still_type_checked(assignment, message):
    from emonet.train.config import load_config

    with pytest.raises(ConfigError, match=message):
        load_config(None, ["mode=multi", assignment])


def test_set_lists_in_baseline_and_experiment_configs():
    import yaml

    from emonet.baselines.run import load_baseline_config
    from emonet.recipes.experiment import load_experiment

    cfg = load_baseline_config(
        REPO / "configs" / "baseline.yaml", ["corpora=emodb,urdu", "grid.svm=1e-3,0.01"]
    )
    assert cfg.corpora == ["emodb", "urdu"] and cfg.grid_of("svm") == [1e-3, 0.01]
    cfg = load_experiment(REPO / "configs" / "experiment.yaml", ["corpora=emodb,urdu"])
    assert cfg.corpora == ["emodb", "urdu"]
    data: dict = {}
    set_key(data, "train.data.corpora=a,b")  # under an untyped section it stays text until built
    assert yaml.safe_load(yaml.safe_dump(data)) == {"train": {"data": {"corpora": "a,b"}}}


def test_set_without_brackets_on_the_command_line():
    args = ["baseline", str(REPO / "configs" / "baseline.yaml"), "--set", "classifiers=svm,tree"]
    res = CliRunner().invoke(app, args, env=ENV)
    assert res.exit_code == 2 and "classifiers[1]" in res.stderr, res.output


def test_docs_example_of_set_lists_is_in_the_help():
    assert "--set corpora=emodb,urdu" in _help("baseline")
    assert Path(REPO / "docs" / "cli.md").read_text(encoding="utf-8").count("emodb,urdu") >= 1
