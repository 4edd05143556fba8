"""Training: the minibatch loop, held-out evaluation, and what a model needs for both.

One step is the whole lesson in five lines::

    optimizer.zero_grad()
    loss = model.loss(x_batch, eps=rng.standard_normal((B, m)))   # forward
    loss.backward()                                                # hand-written gradients
    optimizer.step()                                               # Adam

:func:`fit` runs that loop over epochs of shuffled minibatches, on the model's negative
ELBO (with the KL weighted by ``beta``) or on any objective passed as ``loss=fn``.
:func:`evaluate` gives held-out numbers, averaged over several draws of ε if asked, with
their Monte Carlo standard error. :class:`TrainableModel` and :class:`ELBOModel` write down
what a model must offer to be trained and evaluated, so a student's own model trains as
the package's do.

Everything random (the shuffling and ε) comes from generators seeded by ``seed``, so the
same seed gives the same loss trajectory, bit for bit.
"""
from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Iterator, Protocol, runtime_checkable

import numpy as np
from tqdm import tqdm  # the plain text bar: tqdm.auto warns in kernels without ipywidgets

from .data import batches, check_arrays, check_data
from .optim import SGD, Adam, Optimizer
from .tensor import Tensor, no_grad
from .validate import NonFiniteError, check_finite, choice, describe, integer, is_tensor, positive_int, positive_real, real

__all__ = ["fit", "evaluate", "TrainingError", "TrainableModel", "ELBOModel"]

HISTORY_KEYS = ("train_loss", "train_kl", "train_rec", "val_loss", "val_kl", "val_rec")
OPTIMIZERS = {"adam": Adam, "sgd": SGD}
EVAL_BATCH_SIZE = 512  # examples per forward pass in evaluate; the numbers do not depend on it

Objective = Callable[[Any, Any, np.random.Generator], Tensor]


class TrainingError(RuntimeError):
    """Training diverged: the loss or a gradient became NaN or infinite.

    The model keeps the parameters (and the optimizer its state) from before the last
    update, the last ones whose loss was finite. ``epoch`` and ``step`` say where it
    happened; ``history`` holds the completed epochs.
    """

    def __init__(self, message: str, epoch: int | None = None, step: int | None = None,
                 history: dict[str, list[float]] | None = None):
        super().__init__(message)
        self.epoch, self.step, self.history = epoch, step, {} if history is None else history


@runtime_checkable
class TrainableModel(Protocol):
    """What :func:`fit` needs of any model trained with ``loss=fn``: its parameters.

    ``parameters()`` lists the tensors the optimizer updates; a :class:`vae_np.Module`
    provides it. The objective ``fn(model, batch, rng) -> scalar Tensor`` does the rest:
    ``batch`` is a minibatch of ``x_train`` (a tuple of arrays when ``x_train`` is a tuple,
    e.g. images and labels) and ``rng`` the run's generator, for ε.

    Examples
    --------
    A conditional VAE: the label, one-hot, goes into the encoder and the decoder, and the
    diagonal Gaussian posterior is written with the primitive ops.

    >>> import numpy as np, vae_np as vn
    >>> class CVAE(vn.Module):
    ...     '''q(z|x, y) = N(μ, diag σ²) and p(x|z, y), y one-hot; Bernoulli pixels.'''
    ...     def __init__(self, d, classes, m=2, hidden=64, seed=0):
    ...         rng = np.random.default_rng(seed)
    ...         self.classes, self.latent_dim = classes, m
    ...         self.encoder = vn.MLP([d + classes, hidden, 2 * m], "tanh", rng)
    ...         self.decoder = vn.MLP([m + classes, hidden, d], "tanh", rng)
    ...     def onehot(self, y):                       # (B,) ints -> (B, classes)
    ...         return np.eye(self.classes)[y]
    ...     def decode(self, z, y):                    # Bernoulli logits of x, (B, d)
    ...         return self.decoder(vn.concatenate([z, self.onehot(y)], axis=1))
    ...     def neg_elbo(self, x, y, rng):             # scalar: mean over the batch
    ...         h = self.encoder(np.concatenate([x, self.onehot(y)], axis=1))
    ...         mu, log_sigma = h[:, :self.latent_dim], h[:, self.latent_dim:]
    ...         sigma = vn.exp(log_sigma)
    ...         z = mu + sigma * rng.standard_normal(mu.shape)      # z = μ + σ ⊙ ε
    ...         kl = 0.5 * vn.sum(mu * mu + sigma * sigma - 1 - 2 * log_sigma, axis=1)
    ...         return vn.mean(kl + vn.bernoulli_nll(self.decode(z, y), x))
    >>> def cvae_loss(model, batch, rng):             # batch = (x, y), as x_train
    ...     x, y = batch
    ...     return model.neg_elbo(x, y, rng)
    >>> data = vn.load_digits()
    >>> model = CVAE(d=64, classes=10)
    >>> history = vn.fit(model, (data.x_train, data.y_train), loss=cvae_loss, epochs=3,
    ...                  x_val=(data.x_test, data.y_test), progress=False)
    >>> sorted(history), history["val_loss"][-1] < history["val_loss"][0]
    (['train_loss', 'val_loss'], True)
    >>> with vn.no_grad():                            # eight images of the digit 3
    ...     z = np.random.default_rng(0).standard_normal((8, 2))
    ...     threes = vn.sigmoid(model.decode(z, np.full(8, 3))).data
    >>> threes.shape
    (8, 64)
    """

    def parameters(self) -> list[Tensor]:
        """The tensors to train."""


@runtime_checkable
class ELBOModel(TrainableModel, Protocol):
    """What :func:`fit` and :func:`evaluate` need of a model for the default objective.

    :class:`vae_np.FullCovVAE` and :class:`vae_np.DiagonalVAE` are ELBO models.

    Attributes
    ----------
    latent_dim : int
        m: ε is drawn with shape ``(B, m)``.
    likelihood : str
        Checked against the data once per call: ``"bernoulli"`` needs values in [0, 1].
    """

    latent_dim: int
    likelihood: str

    def neg_elbo(self, x: np.ndarray, eps: Any = None, rng: np.random.Generator | None = None, *,
                 beta: float = 1.0, checked: bool = False) -> Any:
        """The negative ELBO of the batch ``x: (B, d)`` with noise ``eps: (B, m)``.

        Returns an object with ``total`` (scalar Tensor, the mean of β·KL + rec),
        ``kl`` and ``rec`` (Tensors of shape (B,)). ``checked=True`` says the caller has
        already run :func:`vae_np.check_data` on ``x``.
        """


# ------------------------------------------------------------------- argument checks

def _check_model(model: Any, objective: Objective | None) -> None:
    """TypeError unless ``model`` offers what the chosen objective needs."""
    if isinstance(model, type):
        raise TypeError(f"model must be a model instance; got {describe(model)}")
    needs = ("parameters",) if objective is not None else ("parameters", "neg_elbo", "latent_dim", "likelihood")
    missing = [name for name in needs if not hasattr(model, name)]
    if missing:
        hint = "" if objective is not None else "; for another objective pass loss=fn(model, batch, rng)"
        protocol = "TrainableModel" if objective is not None else "ELBOModel"
        raise TypeError(f"model must provide {', '.join(needs)} (see vae_np.{protocol}); "
                        f"{describe(model)} lacks {', '.join(missing)}{hint}")


def _check_loss(loss: Any) -> Objective | None:
    if loss is not None and (isinstance(loss, type) or not callable(loss)):
        raise TypeError(f"loss must be a function loss(model, batch, rng) -> scalar Tensor; got {describe(loss)}")
    return loss


def _check_dataset(x: Any, name: str, model: Any, objective: Objective | None, like: Any = None) -> Any:
    """The data set as fit and evaluate use it, checked once: one (n, d) array (run
    through :func:`check_data`), or with ``loss=fn`` a tuple of equally long arrays."""
    several = isinstance(x, tuple)
    if like is not None and several != isinstance(like, tuple):
        raise TypeError(f"{name} must have the form of x_train ({'a tuple of arrays' if not several else 'one array'}); "
                        f"got {describe(x)}")
    if several:
        if objective is None:
            raise ValueError(f"{name} is a tuple of {len(x)} arrays, but the default objective (the model's "
                             f"negative ELBO) takes one array: pass loss=fn(model, batch, rng) to train on several")
        x = check_arrays(x, name)
        if like is not None and len(x) != len(like):
            raise ValueError(f"{name} must hold {len(like)} arrays, as x_train does; got {len(x)}")
        return x
    x = check_data(x, name, getattr(model, "likelihood", None))
    width = getattr(model, "input_dim", None)
    if isinstance(width, int) and x.shape[1] != width:
        raise ValueError(f"{name} must have shape (n, {width}) for this model; got shape {x.shape}")
    return x


def _check_optimizer(optimizer: Any, model: Any, lr: float) -> Optimizer:
    """The optimizer to use: a new one by name, or the given instance if it holds at
    least one of the model's parameters."""
    if isinstance(optimizer, Optimizer):
        ours = {id(p) for p in model.parameters()}
        if not any(id(p) in ours for p in optimizer.params):
            raise ValueError(
                f"optimizer holds none of the model's parameters: it is a {type(optimizer).__name__} optimizer "
                f"over {len(optimizer.params)} other tensor(s), so the model would never change; build it from "
                f"this model, e.g. vn.Adam(model.parameters(), lr=...)")
        return optimizer
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        raise TypeError(f"optimizer must be 'adam', 'sgd' or an Optimizer instance; got {describe(optimizer)}: "
                        f"write {optimizer.__name__}(model.parameters(), lr=...)")
    name = choice(optimizer, "optimizer", OPTIMIZERS)
    return OPTIMIZERS[name](model.parameters(), lr=lr)


# ------------------------------------------------------------------------ evaluation

def _mean_and_sem(values: list[np.ndarray], weights: list[np.ndarray]) -> tuple[float, float | None]:
    """The weighted mean of per-column averages over S draws, and its Monte Carlo
    standard error ``sqrt(Σ wᵢ² varᵢ / S) / Σ wᵢ`` (None for a single draw).

    ``values[j]: (S, c)`` are S draws for c columns (examples or batches), ``weights[j]:
    (c,)`` how many examples each column stands for.
    """
    v, w = np.concatenate(values, axis=1), np.concatenate(weights)
    n, draws = w.sum(), v.shape[0]
    mean = float(w @ v.mean(axis=0) / n)
    if draws == 1:
        return mean, None
    return mean, float(math.sqrt(w ** 2 @ v.var(axis=0, ddof=1) / draws) / n)


def _finite(value: np.ndarray, what: str) -> np.ndarray:
    return check_finite(value, what, NonFiniteError, hint="the model has diverged")


def evaluate(model: Any, x: Any, *, batch_size: int = EVAL_BATCH_SIZE, seed: int = 0, samples: int = 1,
             loss: Objective | None = None) -> dict[str, float]:
    """Held-out numbers per example, averaged over ``x`` and ``samples`` draws of ε.

    Parameters
    ----------
    model : ELBOModel (or, with ``loss``, any TrainableModel)
    x : (n, d) array; with ``loss``, also a tuple of arrays as in :func:`fit`
    batch_size : int ≥ 1
        Only the memory use depends on it: every example gets the same ε whatever its size.
    seed : int ≥ 0
        Seeds ε, so repeated calls on one model give the same numbers; :func:`fit` uses its
        own ``seed`` here, so its last ``val_loss`` equals ``evaluate(model, x_val, seed=seed)``.
    samples : int ≥ 1
        S, the draws of ε per example (each a full pass over ``x``).
    loss : callable, optional
        The objective ``loss(model, batch, rng)`` of :func:`fit`, evaluated without a graph,
        instead of the negative ELBO.

    Returns
    -------
    dict of float
        ``loss``, the negative ELBO (KL weight 1) and its parts ``kl`` and ``rec``, in nats
        per example (for the ``"mse"`` likelihood ``rec`` is the lecture's mean squared
        error: add ``model.reconstruction_offset`` for −log p(x|z) in nats); with ``loss``,
        only ``loss``, its mean over batches weighted by their size. With ``samples ≥ 2``
        also ``loss_sem``: the Monte Carlo standard error of ``loss`` from ε (the spread
        of the S draws within each example), not a statement about other test sets.
    """
    loss = _check_loss(loss)
    _check_model(model, loss)
    x = _check_dataset(x, "x", model, loss)
    batch_size, samples = positive_int(batch_size, "batch_size"), positive_int(samples, "samples")
    return _evaluate(model, x, batch_size, integer(seed, "seed", minimum=0), samples, loss)


def _evaluate(model: Any, x: Any, batch_size: int, seed: int, samples: int,
              loss: Objective | None) -> dict[str, float]:
    """:func:`evaluate` on arguments already checked (fit calls it every epoch)."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"loss": [], "kl": [], "rec": []}
    weights = []
    with no_grad():
        for xb in batches(x, batch_size, shuffle=False):
            if loss is None:
                kl, rec = _elbo_draws(model, xb, samples, rng)
                parts["loss"].append(kl + rec)
                parts["kl"].append(kl)
                parts["rec"].append(rec)
                weights.append(np.ones(kl.shape[1]))
            else:
                draws = [_scalar(loss(model, xb, rng)).item() for _ in range(samples)]
                parts["loss"].append(_finite(np.array(draws)[:, None], "the loss"))
                weights.append(np.array([float(_rows(xb))]))
    result, sems = {}, {}
    for key in ("loss", "kl", "rec") if loss is None else ("loss",):
        result[key], sems[key] = _mean_and_sem(parts[key], weights)
    if sems["loss"] is not None:
        result["loss_sem"] = sems["loss"]
    return result


def _elbo_draws(model: Any, xb: np.ndarray, samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """KL and reconstruction of each example of ``xb`` for S draws of ε: two (S, b) arrays.

    ε is drawn as (b, S, m), so each example's draws come from the same stretch of the
    generator whatever the batch size.
    """
    eps = rng.standard_normal((len(xb), samples, model.latent_dim))
    kl, rec = np.empty((samples, len(xb))), np.empty((samples, len(xb)))
    for s in range(samples):
        result = model.neg_elbo(xb, eps=eps[:, s], checked=True)
        kl[s], rec[s] = result.kl.data, result.rec.data
    return _finite(kl, "the KL"), _finite(rec, "the reconstruction error")


def _scalar(loss: Any) -> Tensor:
    """The objective's value, or TypeError naming what it returned instead."""
    if not is_tensor(loss) or loss.data.size != 1:
        raise TypeError(f"loss(model, batch, rng) must return a scalar Tensor; got {describe(loss)}")
    return loss


# -------------------------------------------------------------------------- training

def fit(model: Any, x_train: Any, *, epochs: int, batch_size: int = 128, lr: float = 1e-3,
        seed: int = 0, x_val: Any = None, optimizer: str | Optimizer = "adam",
        progress: bool = True, beta: float = 1.0, loss: Objective | None = None) -> dict[str, list[float]]:
    """Train ``model`` by minibatch stochastic gradient descent.

    The objective is the model's negative ELBO, β·KL + reconstruction averaged over the
    batch, or ``loss(model, batch, rng)`` if given. The data are checked once, here; the
    model is then called with ``checked=True`` on every batch.

    Parameters
    ----------
    model : ELBOModel (FullCovVAE, DiagonalVAE), or with ``loss`` any TrainableModel
    x_train : (n, d) array; with ``loss``, also a tuple of arrays of n rows each (e.g.
        images and labels), batched together and passed to ``loss`` as a tuple
    epochs, batch_size : int ≥ 1
    lr : float > 0
        Learning rate of the optimizer built from a name (ignored for an instance).
    seed : int ≥ 0
        Seeds the shuffling and ε, and the held-out ε (see :func:`evaluate`).
    x_val : array or tuple of arrays like ``x_train``, optional
        Evaluated after every epoch with ``evaluate(model, x_val, seed=seed, loss=loss)``.
    optimizer : "adam", "sgd" or an Optimizer holding (some of) ``model.parameters()``
    progress : bool
        Show a progress bar (tqdm).
    beta : float ≥ 0
        The weight of the KL in the default objective (β-VAE; 1 is the ELBO).
    loss : callable, optional
        ``loss(model, batch, rng) -> scalar Tensor``, minimised instead of the negative ELBO.

    Returns
    -------
    dict of lists, one entry per epoch. ``train_loss``: the mean of the objective over the
    epoch's minibatches, weighted by their size (with the default objective β·KL + rec,
    from ``train_kl`` and ``train_rec``). With ``x_val``, ``val_loss`` (the negative ELBO at
    β = 1, so runs with different β compare), ``val_kl``, ``val_rec``. With ``loss``, only
    ``train_loss`` and ``val_loss``, both values of ``loss``. Nats per example.

    Raises
    ------
    TrainingError
        If the loss or a gradient becomes NaN or infinite (a ``FloatingPointError`` or
        ``NonFiniteError`` in the forward or backward pass), naming the epoch and step; the
        model and optimizer keep the state of the last update whose loss was finite. Other
        errors (a wrong shape, a TypeError in ``loss``) propagate unchanged, and a
        ``KeyboardInterrupt`` stops cleanly (an optimizer step completes or rolls back).
    """
    loss = _check_loss(loss)
    _check_model(model, loss)
    epochs, batch_size = positive_int(epochs, "epochs"), positive_int(batch_size, "batch_size")
    seed, beta = integer(seed, "seed", minimum=0), _check_beta(beta, loss)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False; got {describe(progress)}")
    x_train = _check_dataset(x_train, "x_train", model, loss)
    x_val = None if x_val is None else _check_dataset(x_val, "x_val", model, loss, like=x_train)
    opt = _check_optimizer(optimizer, model, positive_real(lr, "lr"))

    rng = np.random.default_rng(seed)
    keys = HISTORY_KEYS if loss is None else ("train_loss", "val_loss")
    history: dict[str, list[float]] = {k: [] for k in keys if x_val is not None or k.startswith("train")}
    stepped = False                                      # has this run made an update to undo?
    with tqdm(range(1, epochs + 1), desc="epochs", disable=not progress, leave=False) as bar:
        for epoch in bar:
            sums, count = np.zeros(3), 0
            for step, xb in enumerate(batches(x_train, batch_size, rng), start=1):
                opt.zero_grad()
                with _stop_if_diverged(opt, stepped, epoch, step, history):
                    if loss is None:                     # forward: the negative (β-)ELBO, fresh ε
                        eps = rng.standard_normal((len(xb), model.latent_dim))
                        parts = model.neg_elbo(xb, eps=eps, beta=beta, checked=True)
                        total, kl, rec = parts.total, parts.kl.data.mean(), parts.rec.data.mean()
                    else:                                # forward: the objective given
                        total, kl, rec = _scalar(loss(model, xb, rng)), 0.0, 0.0
                    value = _finite_loss(total)
                with _stop_if_diverged(opt, False, epoch, step, history):
                    total.backward()                     # the hand-written gradients
                    _finite_gradients(opt)
                opt.step()                               # Adam (or SGD)
                stepped, size = True, _rows(xb)
                sums, count = sums + np.array([value, kl, rec]) * size, count + size
            for key, mean in zip(("train_loss", "train_kl", "train_rec"), sums / count):
                if key in history:
                    history[key].append(float(mean))
            if x_val is not None:
                for key, mean in _evaluate(model, x_val, EVAL_BATCH_SIZE, seed, 1, loss).items():
                    history[f"val_{key}"].append(mean)
            bar.set_postfix(loss=f"{history['train_loss'][-1]:.2f}")
    return history


def _check_beta(beta: Any, loss: Objective | None) -> float:
    beta = real(beta, "beta", low=0.0)
    if loss is not None and beta != 1.0:
        raise ValueError(f"beta weights the default objective's KL; with loss=fn put the weight in fn (got beta={beta:g})")
    return beta


def _rows(batch: Any) -> int:
    return len(batch[0]) if isinstance(batch, tuple) else len(batch)


def _finite_loss(total: Tensor) -> float:
    value = total.item()
    if not math.isfinite(value):
        raise NonFiniteError(f"the loss is {value}")
    return value


def _finite_gradients(opt: Optimizer) -> None:
    if not opt.grads_finite():
        raise NonFiniteError("a gradient is not finite")


@contextlib.contextmanager
def _stop_if_diverged(opt: Optimizer, undo: bool, epoch: int, step: int,
                      history: dict[str, list[float]]) -> Iterator[None]:
    """Turn a non-finite value (FloatingPointError, NonFiniteError) into a TrainingError.

    In the forward pass (``undo=True`` once the run has made an update) the last update went
    too far, so it is undone: the model and optimizer go back to the state whose loss was
    finite. In the backward pass no update has been made yet. Every other error passes.
    """
    try:
        yield
    except (FloatingPointError, NonFiniteError) as err:
        if undo:
            opt.undo()
        kept = ("the model keeps the parameters and optimizer state from before the last update, "
                "whose loss was finite" if undo else "no update was made, the model keeps its parameters")
        raise TrainingError(f"training stopped at epoch {epoch}, step {step}: {err}; {kept} (try a smaller lr)",
                            epoch, step, history) from err
