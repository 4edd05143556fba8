"""Full against diagonal posterior on the bundled digits: held-out negative ELBO and IWAE.

The issue's default model (one hidden layer of 256 tanh units, m = 8, Bernoulli, Adam
1e-3, batch 128, 200 epochs, 1500/297 split), trained once per posterior and seed:

    .venv/bin/python benchmarks/compare_posteriors.py --seeds 0 1 2

prints a markdown table of held-out negative ELBO (nats per image, one ε per example,
``vae_np.evaluate``) and the IWAE estimate of −log p(x) with its standard error over the
test images (``iwae_bound``, k = 1000), and the paired full − diagonal differences.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import vae_np as vn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--iwae-k", type=int, default=1000)
    args = parser.parse_args()

    data = vn.load_digits()
    rows = {}
    print("| posterior | seed | held-out −ELBO | KL | IWAE −log p(x) (k = %d) | train s |" % args.iwae_k)
    print("|---|---|---|---|---|---|")
    for cls in (vn.FullCovVAE, vn.DiagonalVAE):
        for seed in args.seeds:
            model = cls(64, [256], args.latent_dim, seed=seed)
            start = time.perf_counter()
            vn.fit(model, data.x_train, epochs=args.epochs, batch_size=128, lr=1e-3, seed=seed, progress=False)
            seconds = time.perf_counter() - start
            held_out = vn.evaluate(model, data.x_test)
            log_px = model.iwae_bound(data.x_test, k=args.iwae_k, rng=np.random.default_rng(0))
            rows[cls.posterior, seed] = (held_out["loss"], -log_px.mean())
            print(f"| {cls.posterior} | {seed} | {held_out['loss']:.3f} | {held_out['kl']:.2f} | "
                  f"{-log_px.mean():.3f} ± {log_px.std(ddof=1) / np.sqrt(len(log_px)):.3f} | {seconds:.1f} |",
                  flush=True)
    diff = np.array([np.subtract(rows["full", s], rows["diagonal", s]) for s in args.seeds])
    print(f"\nfull − diagonal, mean over seeds {args.seeds}: −ELBO {diff[:, 0].mean():+.3f} "
          f"(per seed {np.round(diff[:, 0], 3).tolist()}), IWAE {diff[:, 1].mean():+.3f} "
          f"(per seed {np.round(diff[:, 1], 3).tolist()}) nats; negative favours the full covariance")


if __name__ == "__main__":
    main()
