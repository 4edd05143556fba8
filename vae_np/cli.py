"""The command line: ``python -m vae_np train …`` and ``python -m vae_np evaluate DIR``.

``train`` fits a model and writes, into ``--out DIR``: ``model.npz`` (configuration and
parameters), ``run.json`` (the data set and training options), ``history.csv`` and
``history.json`` (per-epoch negative ELBO, KL and reconstruction) and PNG figures.
``evaluate`` reloads that folder, computes the held-out negative ELBO and the IWAE
estimate of −log p(x), prints them and writes ``metrics.json``.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vae_np",
        description="Train and evaluate VAEs with a full-covariance (or diagonal) Gaussian posterior.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model and write checkpoint, history and figures",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--data", choices=["digits", "mnist"], default="digits",
                       help="data set: scikit-learn's bundled 8x8 digits, or MNIST IDX files from --mnist-dir")
    train.add_argument("--mnist-dir", type=Path, default=None,
                       help="folder holding the four MNIST IDX files (raw or .gz); needed for --data mnist")
    train.add_argument("--posterior", choices=["full", "diagonal"], default="full",
                       help="full: L = L_mask*L' + diag(sigma); diagonal: L = diag(sigma)")
    train.add_argument("--latent-dim", type=int, default=8, help="m, the dimension of z")
    train.add_argument("--hidden", type=int, nargs="+", default=[256], help="widths of the hidden layers")
    train.add_argument("--likelihood", choices=["bernoulli", "gaussian", "mse"], default="bernoulli",
                       help="decoder likelihood")
    train.add_argument("--activation", choices=["tanh", "relu"], default="tanh", help="hidden activation")
    train.add_argument("--epochs", type=int, default=200, help="passes over the training set")
    train.add_argument("--batch-size", type=int, default=128, help="examples per step")
    train.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    train.add_argument("--seed", type=int, default=0, help="seeds the weights, the shuffling and the noise")
    train.add_argument("--dtype", choices=["float64", "float32"], default="float64", help="floating-point type")
    train.add_argument("--out", type=Path, required=True, help="output folder (created; must not hold a model)")
    train.add_argument("--force", action="store_true", help="overwrite a model already in --out")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    ev = sub.add_parser("evaluate", help="held-out negative ELBO and IWAE bound of a trained model",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ev.add_argument("run_dir", type=Path, help="a folder written by 'train'")
    ev.add_argument("--iwae-k", type=int, default=1000, help="importance samples per example")
    ev.add_argument("--seed", type=int, default=0, help="seeds the evaluation noise")
    return parser


def _load_data(name: str, mnist_dir: Path | None, dtype: str):
    from .data import load_digits, load_mnist

    if name == "digits":
        return load_digits(dtype=dtype)
    if mnist_dir is None:
        raise SystemExit("error: --data mnist needs --mnist-dir FOLDER holding the IDX files")
    return load_mnist(mnist_dir, dtype=dtype)


def _train(args: argparse.Namespace) -> int:
    from . import plots
    from .train import fit
    from .vae import DiagonalVAE, FullCovVAE

    out: Path = args.out
    if (out / "model.npz").exists() and not args.force:
        raise SystemExit(f"error: {out / 'model.npz'} exists; pass --force to overwrite it or choose another --out")
    data = _load_data(args.data, args.mnist_dir, args.dtype)
    model_cls = FullCovVAE if args.posterior == "full" else DiagonalVAE
    model = model_cls(input_dim=data.x_train.shape[1], hidden_dims=args.hidden, latent_dim=args.latent_dim,
                      likelihood=args.likelihood, activation=args.activation, seed=args.seed, dtype=args.dtype)
    print(model)
    start = time.perf_counter()
    history = fit(model, data.x_train, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                  seed=args.seed, x_val=data.x_test, progress=not args.no_progress)
    seconds = time.perf_counter() - start

    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.npz")
    run = {"data": args.data, "mnist_dir": str(args.mnist_dir) if args.mnist_dir else None,
           "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
           "train_seconds": round(seconds, 2)}
    (out / "run.json").write_text(json.dumps(run, indent=2))
    (out / "history.json").write_text(json.dumps(history, indent=2))
    with open(out / "history.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", *history])
        writer.writerows([i + 1, *row] for i, row in enumerate(zip(*history.values())))

    figures = {
        "curves.png": plots.plot_history(history),
        "reconstructions.png": plots.plot_reconstructions(data.x_test, model.reconstruct(data.x_test),
                                                          data.image_shape),
        "samples.png": plots.plot_images(model.sample(40, np.random.default_rng(args.seed)), data.image_shape,
                                         title="samples from the model"),
    }
    if model.latent_dim == 2:
        mu, _, L = (t.data for t in model.encode(data.x_test))
        figures["latent.png"] = plots.plot_latent(mu, L, data.y_test)
        figures["latent_grid.png"] = plots.plot_latent_grid(lambda z: model.decode(z).data, data.image_shape)
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=100, bbox_inches="tight")
    print(f"trained {args.epochs} epochs in {seconds:.1f} s; held-out negative ELBO "
          f"{history['val_loss'][-1]:.3f} nats per example")
    print(f"wrote {', '.join(['model.npz', 'run.json', 'history.csv', 'history.json', *figures])} to {out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .train import evaluate
    from .vae import VAE

    run_dir: Path = args.run_dir
    if not (run_dir / "model.npz").exists() or not (run_dir / "run.json").exists():
        raise SystemExit(f"error: {run_dir} does not hold model.npz and run.json written by 'python -m vae_np train'")
    model = VAE.load(run_dir / "model.npz")
    run = json.loads((run_dir / "run.json").read_text())
    data = _load_data(run["data"], Path(run["mnist_dir"]) if run.get("mnist_dir") else None, model.dtype.name)
    start = time.perf_counter()
    metrics = {f"test_{k}": v for k, v in evaluate(model, data.x_test, seed=args.seed).items()}
    log_px = model.iwae_bound(data.x_test, k=args.iwae_k, rng=np.random.default_rng(args.seed))
    metrics.update({"iwae_k": args.iwae_k, "test_iwae_nll": float(-log_px.mean()),
                    "test_iwae_nll_sem": float(log_px.std(ddof=1) / np.sqrt(len(log_px))),
                    "seconds": round(time.perf_counter() - start, 2)})
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"{type(model).__name__} on {run['data']} test set ({len(data.x_test)} examples):")
    print(f"  negative ELBO  {metrics['test_loss']:.3f} nats (KL {metrics['test_kl']:.3f}, "
          f"reconstruction {metrics['test_rec']:.3f})")
    print(f"  IWAE -log p(x) {metrics['test_iwae_nll']:.3f} ± {metrics['test_iwae_nll_sem']:.3f} nats (k = {args.iwae_k})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m vae_np``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return _train(args) if args.command == "train" else _evaluate(args)
    except (ValueError, FileNotFoundError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
