"""The command line, end to end on the bundled digits."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from vae_np.cli import main


def test_help_documents_every_flag():
    out = subprocess.run([sys.executable, "-m", "vae_np", "train", "--help"], capture_output=True, text=True, check=True).stdout
    for flag in ["--data", "--mnist-dir", "--posterior", "--latent-dim", "--hidden", "--likelihood", "--activation",
                 "--epochs", "--batch-size", "--lr", "--seed", "--dtype", "--out", "--force", "--no-progress"]:
        assert flag in out
    out = subprocess.run([sys.executable, "-m", "vae_np", "evaluate", "--help"], capture_output=True, text=True, check=True).stdout
    assert "--iwae-k" in out and "run_dir" in out


def test_train_then_evaluate(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--posterior", "full", "--latent-dim", "2", "--hidden", "32", "--epochs", "2",
                 "--out", str(out), "--no-progress"]) == 0
    for name in ["model.npz", "run.json", "history.csv", "history.json", "curves.png", "reconstructions.png",
                 "samples.png", "latent.png", "latent_grid.png"]:
        assert (out / name).stat().st_size > 0, name
    history = json.loads((out / "history.json").read_text())
    assert len(history["val_loss"]) == 2
    assert (out / "history.csv").read_text().splitlines()[0].startswith("epoch,train_loss")
    assert main(["evaluate", str(out), "--iwae-k", "20"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_iwae_nll"] <= metrics["test_loss"] + 3 * metrics["test_iwae_nll_sem"]
    assert "IWAE" in capsys.readouterr().out


def test_existing_run_is_not_overwritten(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--latent-dim", "2", "--hidden", "8", "--epochs", "1", "--out", str(out), "--no-progress"]
    assert main(args) == 0
    with pytest.raises(SystemExit, match="exists; pass --force"):
        main(args)
    assert main(args + ["--force"]) == 0


def test_clear_errors(tmp_path, capsys):
    with pytest.raises(SystemExit, match="does not hold model.npz"):
        main(["evaluate", str(tmp_path)])
    with pytest.raises(SystemExit, match="--mnist-dir"):
        main(["train", "--data", "mnist", "--out", str(tmp_path / "x")])
    assert main(["train", "--data", "mnist", "--mnist-dir", str(tmp_path), "--epochs", "1",
                 "--out", str(tmp_path / "y")]) == 2
    assert "never downloads data" in capsys.readouterr().err
