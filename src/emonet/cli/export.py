"""``emonet export RUN --corpus C OUT.onnx``: a self-contained ONNX model (log-mel inside)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emonet.cli.app import app, fail


@app.command("export")
def export_command(
    checkpoint: Annotated[
        Path,
        typer.Argument(
            metavar="RUN", help="Run folder (uses checkpoints/best) or checkpoint folder."
        ),
    ],
    out: Annotated[Path, typer.Argument(metavar="OUT", help="The .onnx file to write.")],
    corpus: Annotated[
        str | None,
        typer.Option(
            "--corpus", "-c", help="Label set to export (needed if the model has several)."
        ),
    ] = None,
    verify: Annotated[
        bool, typer.Option(help="Check the graph and compare onnxruntime with PyTorch.")
    ] = True,
    tolerance: Annotated[
        float, typer.Option(help="Largest probability difference accepted by the check.")
    ] = 1e-4,
) -> None:
    """Export one corpus of a model: waveform (batch, samples) + lengths → label probabilities."""
    from emonet.infer.export import export_onnx, read_metadata

    if out.suffix.lower() != ".onnx":
        raise fail(f"{out}: the output must end in .onnx")
    try:
        path = export_onnx(checkpoint, out, corpus, verify=verify, tolerance=tolerance)
    except ImportError as exc:  # an optional dependency missing: say which
        raise fail(f"ONNX export needs onnx, onnxruntime and onnxscript installed: {exc}") from None
    meta = read_metadata(path)
    checked = " (checked in onnxruntime)" if verify else ""
    typer.echo(f"{path}: corpus {meta['corpus']}, labels {', '.join(meta['labels'])}{checked}")
