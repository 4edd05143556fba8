"""The command line: ``python -m vae_np train …`` and ``python -m vae_np evaluate DIR``.

``train`` fits a model and writes, into ``--out DIR``: ``model.npz`` (configuration and
parameters), ``run.json`` (the data set and training options), ``history.csv`` and
``history.json`` (per-epoch losses) and PNG figures. ``evaluate`` reloads that folder,
computes the held-out negative ELBO (averaged over S draws of ε per image) and the IWAE
estimate of −log p(x), prints them with their units and adds them to ``metrics.json``,
keyed by S and k, so earlier results stay.

Every file goes through :func:`vae_np.files.atomic_write`: an error or Ctrl-C at any moment
leaves the files already there intact. The output folder is checked before training. Any
error prints exactly one line naming the flag or file, and the exit status is 2 (130 after
Ctrl-C).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

import numpy as np

from .files import atomic_write, write_text

__all__ = ["main"]

RUN_KEYS = ("data", "mnist_dir", "posterior", "latent_dim", "hidden", "likelihood", "activation", "dtype",
            "epochs", "batch_size", "lr", "seed", "beta", "objective", "k", "train_seconds")
METRICS_SECTIONS = ("neg_elbo", "iwae_nll")
INTERRUPTED = 130  # the shell's status for a process stopped by SIGINT


class CommandLineError(Exception):
    """A bad flag, file or run folder: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``error: argument --epochs: ...``)."""

    def error(self, message: str) -> NoReturn:
        raise CommandLineError(message)


# ----------------------------------------------------------------------- flag types

def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {minimum}; got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {minimum}; got {value}")
        return value
    return parse


def _real(minimum: float, open_: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < minimum or (open_ and value == minimum):
            raise argparse.ArgumentTypeError(
                f"expected a finite number {'>' if open_ else '≥'} {minimum:g}; got {text!r}")
        return value
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m vae_np",
        description="Train and evaluate VAEs with a full-covariance (or diagonal) Gaussian posterior.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    size, count, seed = _int_at_least(1), _int_at_least(1), _int_at_least(0)

    train = sub.add_parser("train", help="train a model and write checkpoint, history and figures",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--data", choices=["digits", "mnist"], default="digits",
                       help="data set: scikit-learn's bundled 8x8 digits, or MNIST IDX files from --mnist-dir")
    train.add_argument("--mnist-dir", type=Path, default=None,
                       help="folder holding the four MNIST IDX files (raw or .gz); needed for --data mnist")
    train.add_argument("--posterior", choices=["full", "diagonal"], default="full",
                       help="full: L = L_mask*L' + diag(sigma); diagonal: L = diag(sigma)")
    train.add_argument("--latent-dim", type=size, default=8, help="m, the dimension of z")
    train.add_argument("--hidden", type=size, nargs="+", default=[256], help="widths of the hidden layers")
    train.add_argument("--likelihood", choices=["bernoulli", "gaussian", "mse"], default="bernoulli",
                       help="decoder likelihood")
    train.add_argument("--activation", choices=["tanh", "relu"], default="tanh", help="hidden activation")
    train.add_argument("--objective", choices=["elbo", "iwae"], default="elbo",
                       help="minimise the negative ELBO (weighted by --beta) or the k-sample IWAE bound (--k)")
    train.add_argument("--beta", type=_real(0.0, open_=False), default=1.0,
                       help="weight of the KL in the ELBO objective (beta-VAE; 1 is the ELBO)")
    train.add_argument("--k", type=count, default=None, help="importance samples of --objective iwae (default 5)")
    train.add_argument("--epochs", type=count, default=200, help="passes over the training set")
    train.add_argument("--batch-size", type=size, default=128, help="examples per step")
    train.add_argument("--lr", type=_real(0.0, open_=True), default=1e-3, help="Adam learning rate")
    train.add_argument("--seed", type=seed, default=0, help="seeds the weights, the shuffling and the noise")
    train.add_argument("--dtype", choices=["float64", "float32"], default="float64", help="floating-point type")
    train.add_argument("--out", type=Path, required=True, help="output folder (created; must not hold a model)")
    train.add_argument("--force", action="store_true", help="overwrite a model already in --out")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    ev = sub.add_parser("evaluate", help="held-out negative ELBO and IWAE bound of a trained model",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ev.add_argument("run_dir", type=Path, help="a folder written by 'train'")
    ev.add_argument("--samples", type=count, default=10, help="S, draws of eps per image for the negative ELBO")
    ev.add_argument("--iwae-k", type=count, default=1000, help="importance samples per example")
    ev.add_argument("--seed", type=seed, default=0, help="seeds the evaluation noise")
    return parser


# ------------------------------------------------------------------------ run files

def _check_out(out: Path, force: bool) -> None:
    """Refuse, before any training, an --out that cannot take the run's files."""
    if out.exists() and not out.is_dir():
        raise CommandLineError(f"--out {out} is an existing file, not a folder")
    if (out / "model.npz").exists() and not force:
        raise CommandLineError(f"--out {out}: {out / 'model.npz'} exists; pass --force to overwrite it "
                               f"or choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise CommandLineError(f"--out {out} is not a writable folder ({err.strerror or err})") from None


def _write_json(path: Path, value: Any) -> None:
    write_text(path, json.dumps(value, indent=2) + "\n")


def _write_history_csv(path: Path, history: dict[str, list[float]]) -> None:
    def write(f: Any) -> None:
        writer = csv.writer(f)
        writer.writerow(["epoch", *history])
        writer.writerows([i + 1, *row] for i, row in enumerate(zip(*history.values())))
    atomic_write(path, write, mode="w")


def _save_figure(path: Path, fig: Any) -> None:
    import matplotlib.pyplot as plt

    try:
        atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100, bbox_inches="tight"))
    finally:
        plt.close(fig)


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CommandLineError(f"cannot read {path}: {err.strerror or err}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CommandLineError(f"{path} is not valid JSON ({err}); it should hold {what}") from None
    if not isinstance(value, dict):
        raise CommandLineError(f"{path} must hold a JSON object ({what}); got {type(value).__name__}")
    return value


def _read_run(path: Path) -> dict[str, Any]:
    """run.json, with the keys evaluate needs checked (each error names the file and key)."""
    run = _read_json(path, "the options of 'python -m vae_np train'")
    unknown = sorted(set(run) - set(RUN_KEYS))
    if unknown:
        raise CommandLineError(f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; expected keys of {RUN_KEYS}")
    if "data" not in run:
        raise CommandLineError(f"{path}: missing key 'data' (the data set, 'digits' or 'mnist')")
    if run["data"] not in ("digits", "mnist"):
        raise CommandLineError(f"{path}: key 'data' must be 'digits' or 'mnist'; got {run['data']!r}")
    if run["data"] == "mnist" and not isinstance(run.get("mnist_dir"), str):
        raise CommandLineError(f"{path}: key 'mnist_dir' must name the MNIST folder for data 'mnist'; "
                               f"got {run.get('mnist_dir')!r}")
    return run


def _read_metrics(path: Path) -> dict[str, Any]:
    """The results already in metrics.json (empty if there is none)."""
    if not path.exists():
        return {section: {} for section in METRICS_SECTIONS}
    metrics = _read_json(path, "results of 'python -m vae_np evaluate'")
    for section in METRICS_SECTIONS:
        if not isinstance(metrics.get(section, {}), dict):
            raise CommandLineError(f"{path}: key {section!r} must hold an object of results keyed by S or k")
        metrics.setdefault(section, {})
    return metrics


def _load_data(name: str, mnist_dir: Path | None, dtype: str, flag: str = "--mnist-dir"):
    from .data import load_digits, load_mnist

    if name == "digits":
        return load_digits(dtype=dtype)
    if mnist_dir is None:
        raise CommandLineError("--data mnist needs --mnist-dir FOLDER holding the IDX files")
    try:
        return load_mnist(mnist_dir, dtype=dtype)
    except (OSError, ValueError) as err:
        raise CommandLineError(f"{flag} {mnist_dir}: {err}") from None


# -------------------------------------------------------------------------- commands

def _objective(args: argparse.Namespace) -> tuple[Callable | None, str]:
    """fit's ``loss`` for --objective, and what its held-out values (``val_loss``) are."""
    if args.objective == "elbo":
        if args.k is not None:
            raise CommandLineError("argument --k: only used with --objective iwae")
        return None, "negative ELBO"      # at beta = 1 whatever --beta, so runs compare
    if args.beta != 1:
        raise CommandLineError("argument --beta: weights the ELBO's KL; it does not apply to --objective iwae")
    k = 5 if args.k is None else args.k

    def iwae(model: Any, xb: np.ndarray, rng: np.random.Generator) -> Any:
        return model.iwae_loss(xb, k, rng=rng, checked=True)
    args.k = k
    return iwae, f"negative IWAE bound (k = {k})"


def _train(args: argparse.Namespace) -> int:
    from . import plots
    from .train import fit
    from .vae import DiagonalVAE, FullCovVAE

    out: Path = args.out
    loss, loss_name = _objective(args)
    if args.mnist_dir is not None and args.data != "mnist":
        raise CommandLineError("argument --mnist-dir: only used with --data mnist")
    _check_out(out, args.force)
    data = _load_data(args.data, args.mnist_dir, args.dtype)
    model_cls = FullCovVAE if args.posterior == "full" else DiagonalVAE
    model = model_cls(input_dim=data.x_train.shape[1], hidden_dims=args.hidden, latent_dim=args.latent_dim,
                      likelihood=args.likelihood, activation=args.activation, seed=args.seed, dtype=args.dtype)
    print(model)
    start = time.perf_counter()
    history = fit(model, data.x_train, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                  seed=args.seed, x_val=data.x_test, progress=not args.no_progress, beta=args.beta, loss=loss)
    seconds = time.perf_counter() - start

    run = {"data": args.data, "mnist_dir": str(args.mnist_dir) if args.mnist_dir else None,
           **{key: getattr(args, key) for key in RUN_KEYS[2:-1]}, "train_seconds": round(seconds, 2)}
    model.save(out / "model.npz")
    _write_json(out / "run.json", run)
    _write_json(out / "history.json", history)
    _write_history_csv(out / "history.csv", history)
    figures = _figures(model, data, history, args.seed, plots)
    for name, fig in figures.items():
        _save_figure(out / name, fig)
    stale = [name for name in ("metrics.json", "latent.png", "latent_grid.png")
             if name not in figures and (out / name).exists()]
    for name in stale:  # results and figures of the model that --force replaced
        (out / name).unlink()
    mse_elbo = model.likelihood == "mse" and loss is None        # the IWAE bound is in nats either way
    unit = "(KL in nats + the lecture's MSE per image)" if mse_elbo else "nats per example"
    print(f"trained {args.epochs} epochs in {seconds:.1f} s; held-out {loss_name} "
          f"{history['val_loss'][-1]:.3f} {unit}")
    print(f"wrote {', '.join(['model.npz', 'run.json', 'history.json', 'history.csv', *figures])} to {out}"
          + (f"; removed the replaced model's {', '.join(stale)}" if stale else ""))
    return 0


def _figures(model: Any, data: Any, history: dict[str, list[float]], seed: int, plots: Any) -> dict[str, Any]:
    figures = {
        "curves.png": plots.plot_history(history),
        "reconstructions.png": plots.plot_reconstructions(data.x_test, model.reconstruct(data.x_test),
                                                          data.image_shape),
        "samples.png": plots.plot_images(model.sample(40, np.random.default_rng(seed)), data.image_shape,
                                         title="samples from the model"),
    }
    if model.latent_dim == 2:
        mu, _, L = (t.data for t in model.encode(data.x_test))
        figures["latent.png"] = plots.plot_latent(mu, L, data.y_test)
        figures["latent_grid.png"] = plots.plot_latent_grid(lambda z: model.decode(z).data, data.image_shape)
    return figures


def _evaluate(args: argparse.Namespace) -> int:
    from .train import evaluate
    from .vae import VAE

    run_dir: Path = args.run_dir
    for name in ("model.npz", "run.json"):
        if not (run_dir / name).is_file():
            raise CommandLineError(f"{run_dir} does not hold {name}: pass a folder written by 'python -m vae_np train'")
    run = _read_run(run_dir / "run.json")
    metrics = _read_metrics(run_dir / "metrics.json")
    try:
        model = VAE.load(run_dir / "model.npz")
    except (OSError, ValueError) as err:
        raise CommandLineError(f"{run_dir / 'model.npz'}: {err}") from None
    mnist_dir = Path(run["mnist_dir"]) if run["data"] == "mnist" else None
    x = _load_data(run["data"], mnist_dir, model.dtype.name, flag=f"{run_dir / 'run.json'}: mnist_dir").x_test

    start = time.perf_counter()
    elbo = evaluate(model, x, samples=args.samples, seed=args.seed)
    offset = float(model.reconstruction_offset)        # −log p(x|z) = rec + offset, in nats
    elbo_entry = {"nats": elbo["loss"] + offset, "mc_sem": elbo.get("loss_sem"), "kl_nats": elbo["kl"],
                  "rec_nats": elbo["rec"] + offset, "training_loss": elbo["loss"], "seed": args.seed,
                  "seconds": round(time.perf_counter() - start, 2)}
    start = time.perf_counter()
    log_px = model.iwae_bound(x, k=args.iwae_k, rng=np.random.default_rng(args.seed))
    iwae_entry = {"nats": float(-log_px.mean()), "sem_over_images": float(log_px.std(ddof=1) / np.sqrt(len(x))),
                  "seed": args.seed, "seconds": round(time.perf_counter() - start, 2)}
    metrics["neg_elbo"][f"S={args.samples}"] = elbo_entry
    metrics["iwae_nll"][f"k={args.iwae_k}"] = iwae_entry
    metrics.update(units="nats per example", test_examples=len(x))
    _write_json(run_dir / "metrics.json", metrics)
    _print_metrics(model, run["data"], len(x), elbo_entry, iwae_entry, args)
    return 0


def _print_metrics(model: Any, data: str, n: int, elbo: dict, iwae: dict, args: argparse.Namespace) -> None:
    sem = f" ± {elbo['mc_sem']:.3f} (Monte Carlo standard error)" if elbo["mc_sem"] is not None else ""
    print(f"{type(model).__name__} on the {data} test set ({n} examples), in nats per example:")
    print(f"  negative ELBO   {elbo['nats']:.3f} nats{sem}, S = {args.samples} draws of eps per image")
    print(f"    KL            {elbo['kl_nats']:.3f} nats")
    print(f"    -log p(x|z)   {elbo['rec_nats']:.3f} nats")
    if model.likelihood == "mse":
        print(f"    training loss {elbo['training_loss']:.3f} (KL in nats + the lecture's MSE per image; "
              f"add {model.reconstruction_offset:.3f} nats = (d/2) log(pi d) for the negative ELBO)")
    print(f"  IWAE -log p(x)  {iwae['nats']:.3f} nats ± {iwae['sem_over_images']:.3f} "
          f"(standard error over the test images), k = {args.iwae_k}")
    print(f"added S = {args.samples} and k = {args.iwae_k} to {args.run_dir / 'metrics.json'}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m vae_np``; returns the exit status (0, 2 on an error, 130
    after Ctrl-C), printing any error as one line on stderr."""
    from .train import TrainingError

    try:
        args = _parser().parse_args(argv)
        return _train(args) if args.command == "train" else _evaluate(args)
    except KeyboardInterrupt:
        print("interrupted: stopped before finishing; files written before are intact", file=sys.stderr)
        return INTERRUPTED
    except (CommandLineError, TrainingError, ValueError, TypeError, OSError) as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 2
