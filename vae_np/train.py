"""Training: the minibatch loop that minimises the negative ELBO, and held-out evaluation.

One step is the whole lesson in five lines::

    optimizer.zero_grad()
    loss = model.loss(x_batch, eps=rng.standard_normal((B, m)))   # forward
    loss.backward()                                                # hand-written gradients
    optimizer.step()                                               # Adam

Everything random (the shuffling and ε) comes from one generator seeded by ``seed``, so
the same seed gives the same loss trajectory, bit for bit.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from tqdm import tqdm  # the plain text bar: tqdm.auto warns in kernels without ipywidgets

from .data import batches, check_data
from .optim import SGD, Adam, Optimizer
from .tensor import no_grad
from .vae import VAE

__all__ = ["fit", "evaluate", "TrainingError"]

HISTORY_KEYS = ("train_loss", "train_kl", "train_rec", "val_loss", "val_kl", "val_rec")


class TrainingError(RuntimeError):
    """Training stopped because the loss or a gradient became non-finite.

    The model keeps the parameters it had before the failing step.
    """


def evaluate(model: VAE, x: Any, *, batch_size: int = 512, seed: int = 0) -> dict[str, float]:
    """Negative ELBO, KL and reconstruction per example, averaged over ``x``.

    One ε per example, drawn from a generator seeded by ``seed``, so repeated calls on the
    same model give the same numbers.
    """
    x = check_data(x, "x", model.likelihood)
    rng = np.random.default_rng(seed)
    sums = np.zeros(3)
    with no_grad():
        for start in range(0, len(x), batch_size):
            parts = model.neg_elbo(x[start:start + batch_size], rng=rng)
            sums += [parts.kl.data.sum() + parts.rec.data.sum(), parts.kl.data.sum(), parts.rec.data.sum()]
    loss, kl, rec = sums / len(x)
    return {"loss": float(loss), "kl": float(kl), "rec": float(rec)}


def fit(model: VAE, x_train: Any, *, epochs: int, batch_size: int = 128, lr: float = 1e-3,
        seed: int = 0, x_val: Any = None, optimizer: str | Optimizer = "adam",
        progress: bool = True) -> dict[str, list[float]]:
    """Train ``model`` by minibatch stochastic gradient descent on the negative ELBO.

    Parameters
    ----------
    model : FullCovVAE or DiagonalVAE
    x_train : (n, d) array
    epochs, batch_size : int
    lr : float
        Learning rate of the optimizer.
    seed : int
        Seeds the shuffling and the noise ε.
    x_val : (n_val, d) array, optional
        Evaluated after every epoch with :func:`evaluate`.
    optimizer : "adam", "sgd" or an Optimizer over ``model.parameters()``
    progress : bool
        Show a progress bar (tqdm).

    Returns
    -------
    dict of lists, one entry per epoch: ``train_loss``, ``train_kl``, ``train_rec`` (means
    over the epoch's minibatches, weighted by size) and, with ``x_val``, ``val_loss``,
    ``val_kl``, ``val_rec``; nats per example.

    Raises
    ------
    TrainingError
        If a loss or gradient becomes non-finite, naming the epoch and step; the model keeps
        the parameters from before that step.
    """
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    x_train = check_data(x_train, "x_train", model.likelihood)
    if x_val is not None:
        x_val = check_data(x_val, "x_val", model.likelihood)
    if isinstance(optimizer, Optimizer):
        opt = optimizer
    elif optimizer in ("adam", "sgd"):
        opt = (Adam if optimizer == "adam" else SGD)(model.parameters(), lr=lr)
    else:
        raise ValueError(f"optimizer must be 'adam', 'sgd' or an Optimizer; got {optimizer!r}")

    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {k: [] for k in HISTORY_KEYS if x_val is not None or k.startswith("train")}
    bar = tqdm(range(1, int(epochs) + 1), desc="epochs", disable=not progress, leave=False)
    for epoch in bar:
        sums, count = np.zeros(3), 0
        for step, xb in enumerate(batches(x_train, int(batch_size), rng), start=1):
            opt.zero_grad()
            try:
                parts = model.neg_elbo(xb, eps=rng.standard_normal((len(xb), model.latent_dim)))
                loss = parts.total
                if not np.isfinite(loss.item()):
                    raise FloatingPointError(f"the loss is {loss.item()}")
                loss.backward()
                if not opt.grads_finite():
                    raise FloatingPointError("a gradient is not finite")
            except (FloatingPointError, ValueError) as err:
                raise TrainingError(
                    f"training stopped at epoch {epoch}, step {step}: {err}; the model keeps the "
                    f"parameters from before this step (try a smaller lr)"
                ) from err
            opt.step()
            sums += [loss.item() * len(xb), parts.kl.data.sum(), parts.rec.data.sum()]
            count += len(xb)
        for key, value in zip(("train_loss", "train_kl", "train_rec"), sums / count):
            history[key].append(float(value))
        if x_val is not None:
            for key, value in evaluate(model, x_val, seed=seed + 1).items():
                history[f"val_{key}"].append(value)
        bar.set_postfix(loss=f"{history['train_loss'][-1]:.2f}")
    return history
