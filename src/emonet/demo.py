"""``emonet demo``: the whole of EmoNet on generated toy corpora, offline, in a few minutes.

It writes three toy corpora (different 'languages', classes, speakers and recording channels) as
source folders, then runs the real pipeline on them: ``prepare`` through the generic importers,
``train`` in ``scratch`` and ``multi`` mode, ``evaluate``, ``compare``, ``predict`` and ``export``,
and ends with one report linking every result.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from emonet.demo_data import TOY_CORPORA, write_toy_corpora
from emonet.results.explain import Scored, bullets, describe, devel_test_note, partition_note
from emonet.results.report import md_table, write_report

# Small enough for 2 CPU cores in a few minutes, large enough to learn the toy emotions.
TRAIN = {
    "seed": 0,
    "model": {"name": "emonet-tiny"},
    "data": {"window": 1.5, "batch_size": 16, "eval_batch_size": 32},
    "optim": {"schedule": "cosine", "lr": 0.004, "max_epochs": 12, "warmup_epochs": 1,
              "weight_decay": 0.01},
    "loss": {"class_weights": True},
    "multi": {"steps_per_epoch": 5},
}  # fmt: skip

PREPARE_OPTIONS = {
    "folders": {"speaker": r"/(?P<speaker>[mf]\d\d)_"},
    "csv": {},
}


def run_demo(out: Path = Path("emonet-demo"), show_progress: bool = True) -> Path:
    """Run the pipeline into ``out``; returns the path of the final report."""
    from emonet.corpora.prepare import prepare
    from emonet.evaluate.compare import compare_runs
    from emonet.evaluate.runner import evaluate
    from emonet.files import write_table
    from emonet.infer import Predictor, export_onnx
    from emonet.train.config import config_from_dict
    from emonet.train.loop import train

    console = Console()
    out = Path(out)
    t0 = time.time()

    def step(text: str) -> None:
        console.print(f"[bold cyan]▶ {text}[/]  [dim]({time.time() - t0:.0f} s)[/]")

    step("1/7 writing three toy corpora (synthesised voices, different channels)")
    sources = write_toy_corpora(out / "sources")
    emoset = out / "emoset"
    step("2/7 prepare: generic importers → EmoSet (16 kHz FLAC, speaker-independent splits)")
    for spec in TOY_CORPORA:
        importer = spec.layout
        prepare(importer, sources[spec.name], emoset, name=spec.name, workers=2,
                options=PREPARE_OPTIONS[importer], show_progress=show_progress)  # fmt: skip
    runs = out / "runs"
    first = TOY_CORPORA[0].name
    names = [c.name for c in TOY_CORPORA]

    def config(mode: str, corpora: list[str], run: str):
        data = {**TRAIN, "mode": mode, "out": str(runs / run)}
        data["data"] = {**TRAIN["data"], "emoset": str(emoset), "corpora": corpora}
        return config_from_dict(data)

    step(f"3/7 train scratch on {first}")
    scratch = _train_once(train, config("scratch", [first], f"scratch-{first}"), show_progress)
    step(f"4/7 train one multi-corpus adapter model on {', '.join(names)}")
    multi = _train_once(train, config("multi", names, "multi"), show_progress)
    step("5/7 evaluate both runs (devel and test) and compare them on the shared corpus")
    evaluate(scratch, emoset, show_progress=False)
    evaluate(multi, emoset, show_progress=False)
    cmp = compare_runs(scratch, multi, "test", [first], out=out / "compare",
                       names=(f"scratch-{first}", "multi"), n_boot=1000)  # fmt: skip
    step("6/7 predict emotions of a few files with the multi model")
    files = sorted((sources[first]).rglob("*.wav"))[::25][:6]
    predictor = Predictor(multi, corpus=first)
    table = predictor.predict_files(files)
    write_table(out / "predictions.csv", table)
    step("7/7 export the multi model's head for one corpus to ONNX (log-mel inside)")
    onnx_path = export_onnx(multi, out / f"emonet-{first}.onnx", corpus=first)
    report = _report(out, scratch, multi, cmp, table, onnx_path, names, first)
    step(f"done: {report}")
    return report


def _train_once(train, cfg, show_progress: bool) -> Path:
    """Train unless the run already finished (the demo can be re-run to look at results)."""
    run = Path(cfg.out)
    if (run / "DONE.json").is_file():
        return run
    resume = (run / "checkpoints" / "last" / "trainer_state.json").is_file()
    return train(cfg, resume=resume, show_progress=show_progress)


def _scored(run: Path, corpus: str, part: str) -> Scored | None:
    import json

    path = run / "eval" / corpus / part / "metrics.json"
    return Scored.from_metrics(json.loads(path.read_text())) if path.is_file() else None


def scores_section(runs: dict[str, Path], corpora: list[str]) -> str:
    """The demo's UAR table (devel and test per run, n and chance per corpus) and what it means.

    ``runs``: column name → run folder; a run that did not score a corpus shows "–".
    """
    headers = ["corpus", "test n", "chance UAR"]
    for name in runs:
        headers += [f"{name} devel", f"{name} test"]
    rows, lines, gaps = [], [], []
    for c in corpora:
        scored = {(name, part): _scored(run, c, part) for name, run in runs.items()
                  for part in ("devel", "test")}  # fmt: skip
        test = next((v for (_, part), v in scored.items() if part == "test" and v), None)
        row: list[object] = [c, test.n if test else "–", test.chance if test else "–"]
        row += [v.uar if v else "–" for v in scored.values()]
        rows.append(row)
        if test is not None:
            lines.append(describe(f"{c}, test", test))
        for name in runs:
            devel, tested = scored[(name, "devel")], scored[(name, "test")]
            if devel is not None and tested is not None:
                gaps.append(devel_test_note(f"{c} ({name})", devel, tested))
    text = md_table(headers, rows) + "\n" + bullets([partition_note(["devel", "test"]), *lines])
    if any(gaps):
        text += "\n" + bullets(gaps)
    text += (
        "\nThe toy corpora are tiny on purpose (the demo runs in minutes on a laptop), so every "
        "number here moves a lot with one item; they show that the pipeline works, not how "
        "well EmoNet recognises emotions.\n"
    )
    return text


def _report(out, scratch, multi, cmp, table, onnx_path, names, first) -> Path:
    shown = table[[c for c in table.columns if c in ("file", "prediction") or c.startswith("p_")]]
    shown = shown.assign(file=[Path(f).name for f in shown["file"]])
    sections = [
        ("What happened", (
            "Three toy corpora were synthesised, prepared into an EmoSet with the generic "
            "`folders` and `csv` importers, a single-corpus model and one multi-corpus adapter "
            "model were trained, evaluated and compared, a few files were predicted and the "
            "multi model was exported to ONNX."
        )),
        ("Test UAR (devel beside it)",
         scores_section({f"scratch-{first}": scratch, "multi": multi}, names)),
        ("Scratch vs multi", cmp["summary"] + (
            ". Why the ΔUAR interval and McNemar's test can disagree, per corpus: "
            "[compare/report.md](compare/report.md)"
        )),
        ("Evaluation reports", (
            f"- [scratch]({(scratch / 'eval' / 'report.md').relative_to(out).as_posix()})\n"
            f"- [multi]({(multi / 'eval' / 'report.md').relative_to(out).as_posix()})"
        )),
        ("Predictions", md_table(list(shown.columns), shown.round(3).values.tolist())),
        ("Export", f"`{Path(onnx_path).name}`: raw 16-kHz audio in, probabilities out."),
    ]  # fmt: skip
    return write_report(out / "report.md", "EmoNet demo", sections)
