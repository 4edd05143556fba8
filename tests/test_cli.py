"""The command line, end to end on the bundled digits: its files, its numbers and units,
one-line errors for every bad flag or file, and no work lost on a failure or Ctrl-C."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

import vae_np.cli as cli
import vae_np.train as train_module
from vae_np.cli import main

TINY = ["--latent-dim", "2", "--hidden", "8", "--epochs", "1", "--no-progress"]


def _run(tmp_path, name="run", extra=()):
    out = tmp_path / name
    assert main(["train", *TINY, "--out", str(out), *extra]) == 0
    return out


def _one_error_line(capsys, *words):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small run shared by the read-only tests."""
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--posterior", "full", "--latent-dim", "2", "--hidden", "32", "--epochs", "2",
                 "--out", str(out), "--no-progress"]) == 0
    return out


def test_help_documents_every_flag():
    out = subprocess.run([sys.executable, "-m", "vae_np", "train", "--help"], capture_output=True, text=True, check=True).stdout
    for flag in ["--data", "--mnist-dir", "--posterior", "--latent-dim", "--hidden", "--likelihood", "--activation",
                 "--objective", "--beta", "--k", "--epochs", "--batch-size", "--lr", "--seed", "--dtype", "--out",
                 "--force", "--no-progress"]:
        assert flag in out
    out = subprocess.run([sys.executable, "-m", "vae_np", "evaluate", "--help"], capture_output=True, text=True, check=True).stdout
    assert "--iwae-k" in out and "--samples" in out and "run_dir" in out


def test_train_writes_every_file(trained):
    for name in ["model.npz", "run.json", "history.csv", "history.json", "curves.png", "reconstructions.png",
                 "samples.png", "latent.png", "latent_grid.png"]:
        assert (trained / name).stat().st_size > 0, name
    assert not [p for p in trained.iterdir() if p.name.startswith(".")]          # no temporary files left
    history = json.loads((trained / "history.json").read_text())
    assert len(history["val_loss"]) == 2
    assert (trained / "history.csv").read_text().splitlines()[0].startswith("epoch,train_loss")
    run = json.loads((trained / "run.json").read_text())
    assert set(run) == set(cli.RUN_KEYS) and run["objective"] == "elbo" and run["beta"] == 1.0


def test_evaluate_keeps_earlier_metrics_keyed_by_k_and_samples(trained, capsys):
    assert main(["evaluate", str(trained), "--iwae-k", "20", "--samples", "4"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert all("nats" in line for line in lines[:-1]), lines             # every number names its unit
    assert main(["evaluate", str(trained), "--iwae-k", "5", "--samples", "2", "--seed", "1"]) == 0
    metrics = json.loads((trained / "metrics.json").read_text())
    assert set(metrics["neg_elbo"]) == {"S=4", "S=2"} and set(metrics["iwae_nll"]) == {"k=20", "k=5"}
    elbo, iwae = metrics["neg_elbo"]["S=4"], metrics["iwae_nll"]["k=20"]
    assert elbo["nats"] == pytest.approx(elbo["kl_nats"] + elbo["rec_nats"])
    assert iwae["nats"] <= elbo["nats"] + 3 * iwae["sem_over_images"]
    assert metrics["neg_elbo"]["S=2"]["seed"] == 1 and metrics["neg_elbo"]["S=4"]["seed"] == 0


def test_mse_elbo_and_iwae_are_on_one_scale_in_nats(tmp_path, capsys):
    out = _run(tmp_path, extra=["--likelihood", "mse", "--epochs", "3"])
    assert main(["evaluate", str(out), "--iwae-k", "50", "--samples", "3"]) == 0
    printed = capsys.readouterr().out
    elbo = json.loads((out / "metrics.json").read_text())["neg_elbo"]["S=3"]
    iwae = json.loads((out / "metrics.json").read_text())["iwae_nll"]["k=50"]
    d = 64
    assert elbo["nats"] - elbo["training_loss"] == pytest.approx(0.5 * d * math.log(math.pi * d))
    # the IWAE bound is a tighter bound on the same −log p(x): below the ELBO, and close to it
    assert elbo["nats"] - 5 < iwae["nats"] <= elbo["nats"] + 3 * iwae["sem_over_images"]
    assert "lecture's MSE" in printed


def test_beta_and_the_iwae_objective_are_recorded(tmp_path):
    run = json.loads((_run(tmp_path, "beta", ["--beta", "4"]) / "run.json").read_text())
    assert run["beta"] == 4.0 and run["objective"] == "elbo" and run["k"] is None
    out = _run(tmp_path, "iwae", ["--objective", "iwae", "--k", "3"])
    run, history = (json.loads((out / name).read_text()) for name in ("run.json", "history.json"))
    assert run["objective"] == "iwae" and run["k"] == 3 and set(history) == {"train_loss", "val_loss"}


# ------------------------------------------------------------------ one-line errors

BAD_FLAGS = [
    (["--epochs", "0"], "--epochs"), (["--epochs", "2.5"], "--epochs"), (["--epochs", "ten"], "--epochs"),
    (["--batch-size", "-5"], "--batch-size"), (["--latent-dim", "0"], "--latent-dim"),
    (["--hidden", "32", "0"], "--hidden"), (["--lr", "0"], "--lr"), (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"), (["--beta", "-1"], "--beta"), (["--seed", "-1"], "--seed"),
    (["--k", "0", "--objective", "iwae"], "--k"), (["--k", "4"], "--k"),
    (["--objective", "iwae", "--beta", "2"], "--beta"), (["--objective", "vi"], "--objective"),
    (["--posterior", "wide"], "--posterior"), (["--dtype", "float16"], "--dtype"),
    (["--data", "mnist"], "--mnist-dir"), (["--mnist-dir", "/tmp"], "--mnist-dir"),
    (["--frobnicate"], "--frobnicate"),
]


@pytest.mark.parametrize("flags, word", BAD_FLAGS, ids=[" ".join(f) for f, _ in BAD_FLAGS])
def test_a_bad_train_flag_is_one_line_naming_it_before_training(tmp_path, capsys, monkeypatch, flags, word):
    monkeypatch.setattr(train_module, "fit", lambda *a, **k: pytest.fail("trained despite a bad flag"))
    assert main(["train", "--out", str(tmp_path / "run"), *flags]) == 2
    _one_error_line(capsys, word)


@pytest.mark.parametrize("flags, word", [(["--iwae-k", "0"], "--iwae-k"), (["--samples", "0"], "--samples"),
                                         (["--seed", "x"], "--seed")])
def test_a_bad_evaluate_flag_is_one_line_naming_it(trained, capsys, flags, word):
    assert main(["evaluate", str(trained), *flags]) == 2
    _one_error_line(capsys, word)


def test_errors_from_the_shell_are_one_line_without_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "vae_np", "train", "--epochs", "0", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--epochs" in done.stderr


def test_the_output_path_is_checked_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(train_module, "fit", lambda *a, **k: pytest.fail("trained before checking --out"))
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a folder")
    assert main(["train", *TINY, "--out", str(a_file)]) == 2
    _one_error_line(capsys, "--out", "existing file")
    assert main(["train", *TINY, "--out", str(a_file / "run")]) == 2          # its folder cannot be made
    _one_error_line(capsys, "--out", "not a writable folder")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "model.npz").write_bytes(b"an earlier model")
    assert main(["train", *TINY, "--out", str(tmp_path / "old")]) == 2
    _one_error_line(capsys, "model.npz exists; pass --force")
    assert (tmp_path / "old" / "model.npz").read_bytes() == b"an earlier model"


def test_missing_mnist_files_name_the_folder(tmp_path, capsys):
    assert main(["train", "--data", "mnist", "--mnist-dir", str(tmp_path), *TINY, "--out", str(tmp_path / "y")]) == 2
    _one_error_line(capsys, "--mnist-dir", str(tmp_path), "never downloads data")


@pytest.mark.parametrize("content, words", [
    ("{not json", ["run.json", "not valid JSON"]),
    ("[1, 2]", ["run.json", "JSON object"]),
    ('{"epochs": 3}', ["run.json", "missing key 'data'"]),
    ('{"data": "cifar"}', ["run.json", "'data'", "cifar"]),
    ('{"data": "mnist"}', ["run.json", "'mnist_dir'"]),
    ('{"data": "digits", "colour": 1}', ["run.json", "'colour'"]),
])
def test_a_malformed_run_json_is_one_line_naming_file_and_key(trained, tmp_path, capsys, content, words):
    run = tmp_path / "copy"
    run.mkdir()
    (run / "model.npz").write_bytes((trained / "model.npz").read_bytes())
    (run / "run.json").write_text(content)
    assert main(["evaluate", str(run), "--iwae-k", "2"]) == 2
    _one_error_line(capsys, *words)
    assert not (run / "metrics.json").exists()


def test_evaluate_of_a_folder_without_a_run(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 2
    _one_error_line(capsys, "does not hold model.npz")


def test_a_malformed_metrics_json_is_refused_not_overwritten(trained, tmp_path, capsys):
    run = tmp_path / "copy"
    run.mkdir()
    for name in ("model.npz", "run.json"):
        (run / name).write_bytes((trained / name).read_bytes())
    (run / "metrics.json").write_text('{"neg_elbo": [1]}')
    assert main(["evaluate", str(run), "--iwae-k", "2"]) == 2
    _one_error_line(capsys, "metrics.json", "neg_elbo")
    assert (run / "metrics.json").read_text() == '{"neg_elbo": [1]}'


# ------------------------------------------------------------------ nothing lost

def test_force_replaces_a_run_and_its_stale_results(tmp_path, capsys):
    out = _run(tmp_path)
    assert main(["evaluate", str(out), "--iwae-k", "2", "--samples", "2"]) == 0
    assert main(["train", *TINY, "--out", str(out)]) == 2
    assert main(["train", *TINY[:-1], "--latent-dim", "3", "--out", str(out), "--force", "--no-progress"]) == 0
    assert not (out / "metrics.json").exists() and not (out / "latent.png").exists()
    assert "removed the replaced model's metrics.json" in capsys.readouterr().out


def test_ctrl_c_during_training_exits_130_and_keeps_the_earlier_run(tmp_path, capsys, monkeypatch):
    out = _run(tmp_path)
    before = _snapshot(out)
    capsys.readouterr()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "fit", interrupted)
    assert main(["train", *TINY, "--out", str(out), "--force"]) == cli.INTERRUPTED
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "interrupted" in err[0]
    assert _snapshot(out) == before


def test_a_figure_writer_failing_half_way_leaves_the_earlier_figure(tmp_path, capsys, monkeypatch):
    from matplotlib.figure import Figure

    out = _run(tmp_path)
    before = _snapshot(out)

    def broken_savefig(self, f, **kwargs):
        f.write(b"\x89PNG half a picture")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    assert main(["train", *TINY, "--out", str(out), "--force", "--seed", "1"]) == 2
    _one_error_line(capsys, "curves.png", "No space left")
    after = _snapshot(out)
    assert after["curves.png"] == before["curves.png"]
    assert set(after) == set(before)                                  # no half-written temporary file


def test_a_metrics_writer_failing_half_way_leaves_the_earlier_metrics(trained, tmp_path, capsys, monkeypatch):
    run = tmp_path / "copy"
    run.mkdir()
    for name in ("model.npz", "run.json"):
        (run / name).write_bytes((trained / name).read_bytes())
    assert main(["evaluate", str(run), "--iwae-k", "2", "--samples", "2"]) == 0
    before = _snapshot(run)

    def half_write(path, text):
        def write(f):
            f.write(text[: len(text) // 2])
            raise OSError(5, "Input/output error")
        return cli.atomic_write(path, write, mode="w")

    monkeypatch.setattr(cli, "write_text", half_write)
    assert main(["evaluate", str(run), "--iwae-k", "3", "--samples", "2"]) == 2
    _one_error_line(capsys, "metrics.json")
    assert _snapshot(run) == before
    json.loads((run / "metrics.json").read_text())                   # still whole
