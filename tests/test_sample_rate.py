"""The sample rate comes from the checkpoint: Predictor resamples to it, evaluate refuses others."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from emonet import audio
from emonet.audio import SampleRateError, check_sample_rate
from emonet.infer import Predictor
from emonet.model import create_model, save_checkpoint
from emonet.model.scoring import softmax

LABELS = ["angry", "happy", "neutral"]


def model_8k(name: str = "a", labels: list[str] = LABELS):
    torch.manual_seed(0)
    model = create_model("emonet-tiny", frontend={"sample_rate": 8000, "f_max": 4000.0})
    model.add_corpus(name, labels)
    return model.eval()


def test_predictor_resamples_to_the_checkpoints_rate(tmp_path):
    folder = save_checkpoint(model_8k(), tmp_path / "ckpt")
    predictor = Predictor(folder)
    assert predictor.sample_rate == 8000
    rng = np.random.default_rng(0)
    x16 = (rng.standard_normal(24_000) * 0.1).astype(np.float32)  # 1.5 s at 16 kHz
    x8 = audio.resample(x16, 16_000, 8000).astype(np.float32)
    with torch.no_grad():
        logits = predictor.model.predict_logits(torch.from_numpy(x8)[None], None, "a")
    want = softmax(logits.float().numpy())[0]
    table = predictor.predict_signal(x16, 16_000)
    got = table[[f"p_{label}" for label in LABELS]].to_numpy()[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert table["duration"].iloc[0] == pytest.approx(1.5)
    audio.write(tmp_path / "x.wav", x16, 16_000)
    from_file = predictor.predict_file(tmp_path / "x.wav")
    got = from_file[[f"p_{label}" for label in LABELS]].to_numpy()[0]
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)  # 16-bit WAV rounding
    assert from_file["duration"].iloc[0] == pytest.approx(1.5)


def test_check_sample_rate_names_both_rates():
    check_sample_rate(16_000, 16_000, "model", "data")
    with pytest.raises(SampleRateError, match=r"16000 Hz.*8000 Hz"):
        check_sample_rate(8000, 16_000, "model", "data")


@pytest.fixture(scope="module")
def toy_emoset(tmp_path_factory) -> Path:
    """One generated toy corpus prepared into a 16-kHz EmoSet."""
    from emonet.corpora.prepare import prepare
    from emonet.demo import PREPARE_OPTIONS
    from emonet.demo_data import TOY_CORPORA, write_corpus

    root = tmp_path_factory.mktemp("toy")
    spec = TOY_CORPORA[0]
    source = write_corpus(spec, root / "sources")
    prepare(spec.layout, source, root / "emoset", name=spec.name, workers=2,
            options=PREPARE_OPTIONS[spec.layout], show_progress=False)  # fmt: skip
    return root / "emoset"


def test_evaluate_refuses_a_model_of_another_rate(toy_emoset, tmp_path):
    from emonet.corpora.emoset import open_emoset

    (name, corpus), *_ = open_emoset(toy_emoset).items()
    assert corpus.info.sample_rate == 16_000
    folder = save_checkpoint(model_8k(name, list(corpus.labels)), tmp_path / "ckpt")
    proc = subprocess.run(
        [sys.executable, "-m", "emonet", "evaluate", str(folder), str(toy_emoset), "--quiet",
         "--device", "cpu", "--out", str(tmp_path / "eval")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "8000 Hz" in lines[0] and "16000 Hz" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
