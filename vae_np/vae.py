"""The models: the lecture's VAE with a full-covariance Gaussian posterior, and Model 1.

Encoder (the inference model q_φ(z|x))::

    h = MLP_φ(x)                         hidden layers with tanh (or relu)
    μ = h W_μ + b_μ,  log σ = h W_σ + b_σ,  L' = reshape(h W_L + b_L, (m, m))
    L = L_mask ⊙ L' + diag(σ)            vae_np.gaussian.scale_tril
    z = μ + L ε,  ε ~ N(0, I)            vae_np.gaussian.rsample

Decoder (the generative model p_θ(x|z)): an MLP from z to x̂ (Bernoulli logits, or the
mean of a Gaussian). The objectives, each averaged over the batch:

=================================  ==========================================================
:meth:`VAE.loss` / ``neg_elbo``    KL(q(z|x) ‖ N(0, I)) + reconstruction error (β·KL with
                                   ``beta``), one draw of ε per example
:meth:`VAE.iwae_loss`              −log (1/k) Σᵢ p(x, zᵢ)/q(zᵢ|x), differentiable (train on it)
:meth:`VAE.iwae_bound`             the same estimate of log p(x) per example, for evaluation
=================================  ==========================================================

Units: nats per example. The Bernoulli and Gaussian likelihoods' reconstruction error
is −log p(x|z); the lecture's ``"mse"`` is the per-example mean squared error, which is
−log p(x|z) of a Gaussian with variance d/2 minus the constant
:attr:`VAE.reconstruction_offset`. The IWAE numbers include that constant, so add it to
an mse model's negative ELBO to compare the two on one scale.

:class:`DiagonalVAE` is the factorised posterior of the previous lecture (Model 1): the
same code without the L' head, so L = diag(σ).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import gaussian, losses, ops
from .data import check_data
from .nn import ACTIVATIONS, MLP, Linear, Module, npz_path, read_npz, write_npz
from .tensor import Tensor, no_grad
from .validate import (as_array, as_rng, boolean, choice, describe, float_dtype, finite_result, integer, non_finite,
                       positive_int, positive_ints, positive_real, real)

__all__ = ["VAE", "FullCovVAE", "DiagonalVAE", "NegELBO", "LIKELIHOODS"]

LIKELIHOODS = ("bernoulli", "gaussian", "mse")
CONFIG_KEYS = ("posterior", "input_dim", "hidden_dims", "latent_dim", "likelihood", "activation", "seed", "dtype",
               "sigma")


@dataclass(frozen=True)
class NegELBO:
    """The negative ELBO of a batch and its two parts.

    Attributes
    ----------
    total : Tensor, scalar
        mean over the batch of ``β·kl + rec`` (β = 1 unless given): the training loss,
        in nats per example (for ``"mse"``, in the lecture's units: see
        :attr:`VAE.reconstruction_offset`).
    kl : Tensor, (B,)
        KL(q(z|x) ‖ N(0, I)) of each example, in nats.
    rec : Tensor, (B,)
        The reconstruction error of each example: −log p(x|z) in nats for
        ``"bernoulli"`` and ``"gaussian"``; for ``"mse"`` the lecture's mean squared
        error of the example's pixels, which is −log p(x|z) minus
        :attr:`VAE.reconstruction_offset`.
    """

    total: Tensor
    kl: Tensor
    rec: Tensor


class VAE(Module):
    """Common code of both posteriors; use :class:`FullCovVAE` or :class:`DiagonalVAE`.

    Parameters
    ----------
    input_dim : int ≥ 1
        d, the number of pixels.
    hidden_dims : list or tuple of int ≥ 1
        Widths of the encoder's hidden layers; the decoder mirrors them.
    latent_dim : int ≥ 1
        m, the dimension of z.
    likelihood : {"bernoulli", "gaussian", "mse"}
        ``"bernoulli"``: the decoder outputs logits, data in [0, 1]. ``"gaussian"``: the
        decoder outputs the mean of N(x̂, sigma² I). ``"mse"``: the lecture's
        (1/d) Σⱼ (xⱼ − x̂ⱼ)² per example.
    activation : {"tanh", "relu"}
    seed : int ≥ 0
        Seeds the initial weights (and the noise ε when neither ε nor an rng is passed).
    dtype : float64 or float32
    sigma : float > 0
        The Gaussian likelihood's standard deviation (only for ``"gaussian"``).

    Raises
    ------
    TypeError, ValueError
        Naming the argument, for anything else: ``hidden_dims="32"`` or ``(8.5,)``,
        bools, None, sizes < 1, a negative seed, another dtype, sigma ≤ 0 or not finite.

    Notes
    -----
    Parameter names, the keys of :meth:`state_dict` and of saved checkpoints (weights are
    ``(n_in, n_out)``, so a layer computes ``x @ weight + bias``):

    ==============================  ===========================================
    ``encoder.layers.{i}.weight``   hidden layer i of the encoder (and ``.bias``)
    ``mu_head.weight``              h → μ, ``(H, m)`` (and ``.bias``)
    ``log_sigma_head.weight``       h → log σ, ``(H, m)`` (and ``.bias``)
    ``l_head.weight``               h → L', ``(H, m·m)``; FullCovVAE only
    ``decoder.layers.{i}.weight``   layer i of the decoder, the last one to x̂
    ==============================  ===========================================
    """

    posterior = ""

    def __init__(self, input_dim: int, hidden_dims: Sequence[int] = (256,), latent_dim: int = 8,
                 likelihood: str = "bernoulli", activation: str = "tanh", seed: int = 0,
                 dtype: Any = np.float64, sigma: float = 1.0):
        if type(self) is VAE:
            raise TypeError("VAE is the shared base class: use FullCovVAE or DiagonalVAE")
        self.config = _checked_config(self.posterior, input_dim, hidden_dims, latent_dim, likelihood, activation,
                                      seed, dtype, sigma)
        c = self.config
        self.input_dim, self.latent_dim, self.likelihood = c["input_dim"], c["latent_dim"], c["likelihood"]
        self.dtype, self.sigma = np.dtype(c["dtype"]), c["sigma"]
        self.rng = np.random.default_rng(c["seed"])
        m, hidden = self.latent_dim, c["hidden_dims"]
        width = hidden[-1] if hidden else self.input_dim
        self.encoder = MLP([self.input_dim, *hidden], c["activation"], self.rng, self.dtype, final_activation=True)
        self.mu_head = Linear(width, m, self.rng, self.dtype)
        self.log_sigma_head = Linear(width, m, self.rng, self.dtype)
        self._build_l_head(width)
        self.decoder = MLP([m, *hidden[::-1], self.input_dim], c["activation"], self.rng, self.dtype)

    # ---- the posterior: the only part the two models do differently ------------------
    def _build_l_head(self, width: int) -> None:
        raise NotImplementedError

    def _l_prime(self, h: Tensor) -> Any:
        raise NotImplementedError

    # ---- encoder and decoder ------------------------------------------------------------
    def encode(self, x: Any) -> tuple[Tensor, Tensor, Tensor]:
        """The posterior q(z|x) = N(μ, LLᵀ) of each example.

        Parameters
        ----------
        x : (B, d) array, finite (in [0, 1] for Bernoulli)

        Returns
        -------
        mu : (B, m),  log_sigma : (B, m),  L : (B, m, m) lower triangular with diagonal σ

        Raises
        ------
        vae_np.NonFiniteError
            When exp(log σ) over- or underflows (see :func:`vae_np.scale_tril`).
        """
        return self._encode(self._input(x))

    def _encode(self, x: np.ndarray) -> tuple[Tensor, Tensor, Tensor]:
        h = self.encoder(x)
        mu, log_sigma = self.mu_head(h), self.log_sigma_head(h)
        return mu, log_sigma, gaussian.scale_tril(log_sigma, self._l_prime(h))

    def decoder_output(self, z: Any) -> Tensor:
        """The decoder's raw output for latent codes z: (B, m) → (B, d) logits or means.

        ``z`` (an array or a Tensor) must be (B, m) and finite; a ValueError names the
        first NaN or inf.
        """
        return self.decoder(self._check_z(z))

    def decode(self, z: Any) -> Tensor:
        """x̂ for latent codes z: (B, m) → (B, d) pixel probabilities (Bernoulli) or means."""
        out = self.decoder_output(z)
        return ops.sigmoid(out) if self.likelihood == "bernoulli" else out

    # ---- the objectives ----------------------------------------------------------------
    def neg_elbo(self, x: Any, eps: Any = None, rng: Any = None, *, beta: float = 1.0,
                 checked: bool = False) -> NegELBO:
        """The negative ELBO of a batch, with one reparameterised sample per example.

        Parameters
        ----------
        x : (B, d)
        eps : (B, m), optional
            The standard normal noise ε; drawn from ``rng`` (or the model's own generator)
            when omitted. Passing it makes the loss a deterministic function of x.
        rng : numpy.random.Generator or int seed, optional
        beta : float ≥ 0
            The weight of the KL in ``total`` (the β-VAE); ``kl`` and ``rec`` are
            unweighted.
        checked : bool
            True when the caller already ran ``vn.check_data(x, name, model.likelihood)``
            on x (as :func:`vae_np.fit` does once per data set): the scan of x is skipped,
            only its shape is checked.
        """
        x = self._input(x, checked)
        beta = real(beta, "beta", low=0.0)
        mu, log_sigma, L = self._encode(x)
        z = gaussian.rsample(mu, L, self._noise(eps, rng, mu.shape))
        rec = self._reconstruction(self.decoder(z), x)
        kl = self._kl(mu, log_sigma, L)
        return NegELBO(total=(beta * kl + rec).mean(), kl=kl, rec=rec)

    def loss(self, x: Any, eps: Any = None, rng: Any = None, *, beta: float = 1.0, checked: bool = False) -> Tensor:
        """Scalar negative ELBO, mean over the batch: what training minimises.

        The arguments are those of :meth:`neg_elbo`; this is its ``total``.
        """
        return self.neg_elbo(x, eps, rng, beta=beta, checked=checked).total

    def iwae_loss(self, x: Any, k: int, rng: Any = None, *, checked: bool = False) -> Tensor:
        """The k-sample IWAE objective as a differentiable loss: mean over the batch of −IWAE_k.

        IWAE_k = log (1/k) Σᵢ p(x|zᵢ) p(zᵢ) / q(zᵢ|x), zᵢ = μ + Lεᵢ (Burda et al., 2016):
        k = 1 is the ELBO, and the bound on log p(x) tightens as k grows. log q comes
        from ε, ``−½‖ε‖² − Σ log σ − (m/2) log 2π``, exact because z = μ + Lε. Train on
        it with ``vn.fit(model, x, loss=lambda m, xb, rng: m.iwae_loss(xb, k, rng))``.

        Parameters
        ----------
        x : (B, d)
        k : int ≥ 1
            Samples per example; the graph holds k·B decoder passes.
        rng : numpy.random.Generator or int seed, optional
            For ε; the model's own generator when omitted.
        checked : bool
            As in :meth:`neg_elbo`.

        Returns
        -------
        Tensor, scalar
            −IWAE_k averaged over the batch, in nats per example (−log p(x) for every
            likelihood, ``"mse"`` included: :attr:`reconstruction_offset` is added).
        """
        k = positive_int(k, "k")
        x = self._input(x, checked)
        rng = as_rng(rng, "rng", default=self.rng)
        mu, log_sigma, L = self._encode(x)
        eps = rng.standard_normal((k, *mu.shape)).astype(self.dtype, copy=False)
        iwae = ops.logsumexp(self._log_weights(x, mu, log_sigma, L, eps), axis=0) - math.log(k)
        return -iwae.mean()

    def _log_weights(self, x: np.ndarray, mu: Tensor, log_sigma: Tensor, L: Tensor, eps: np.ndarray) -> Tensor:
        """log p(x|z) + log p(z) − log q(z|x) for z = μ + Lε, ε: (k, B, m) → (k, B).

        log p(z) − log q(z|x) = −½‖z‖² + ½‖ε‖² + Σᵢ log σᵢ: the (m/2) log 2π of the two
        densities cancel, and log q is taken from ε (not by solving L u = z − μ, which
        loses log₁₀(1/σ) digits to rounding).
        """
        k, B, m = eps.shape
        z = gaussian.rsample(mu, L, eps)                                      # (k, B, m)
        x_k = np.broadcast_to(x, (k, *x.shape)).reshape(k * B, -1)
        rec = self._reconstruction(self.decoder(z.reshape(k * B, m)), x_k).reshape(k, B)
        log_px = -(rec + self.reconstruction_offset)
        log_ratio = ops.sum(log_sigma, axis=-1) - 0.5 * ops.sum(ops.square(z), axis=-1) + 0.5 * (eps * eps).sum(axis=-1)
        return log_px + log_ratio

    @property
    def reconstruction_offset(self) -> float:
        """What turns the per-example ``rec`` into −log p(x|z) in nats: −log p(x|z) = rec + offset.

        0 for ``"bernoulli"`` and ``"gaussian"``, whose ``rec`` already is −log p(x|z).
        For the lecture's ``"mse"``, ``rec = (1/d) Σⱼ (xⱼ − x̂ⱼ)²`` is not a log-density
        but equals −log N(x; x̂, s² I) with s² = d/2 up to this constant, (d/2) log(π d)
        (118.1 nats for d = 64). Add it to ``rec`` (and to the negative ELBO) to put the
        ELBO and the IWAE bound, which includes it, on one scale in nats.
        """
        if self.likelihood == "mse":
            return 0.5 * self.input_dim * math.log(math.pi * self.input_dim)
        return 0.0

    @staticmethod
    def _kl(mu: Tensor, log_sigma: Tensor, L: Tensor) -> Tensor:
        """KL(q(z|x) ‖ N(0, I)) of the model's own posterior. Its L was made from this
        log_sigma by scale_tril, so :func:`vae_np.kl_standard_normal`'s check that they
        agree (an O(B·m) pass of logs) is skipped; a NaN is still traced to its input."""
        return finite_result(gaussian.KLStandardNormal.apply(mu, log_sigma, L), "kl_standard_normal", mu=mu, L=L)

    def _reconstruction(self, out: Tensor, x: np.ndarray) -> Tensor:
        """The per-example ``rec`` of checked data x, (B,): the loss ops run without
        re-scanning x (the model checked it once), their result checked for NaN."""
        if self.likelihood == "bernoulli":
            rec = losses.BernoulliNLL.apply(out, x)
        elif self.likelihood == "gaussian":
            rec = losses.GaussianNLL.apply(out, x, self.sigma)
        else:
            rec = ops.mean(ops.square(out - x), axis=1)
        return finite_result(rec, "reconstruction", decoder_output=out)

    # ---- evaluation and sampling -------------------------------------------------------
    def iwae_bound(self, x: Any, k: int = 100, rng: Any = None, max_rows: int = 32768) -> np.ndarray:
        """Importance-weighted estimate of log p(x) per example (Burda et al., 2016).

        log p(x) ≥ E[log (1/k) Σᵢ p(x, zᵢ)/q(zᵢ|x)], zᵢ ~ q(z|x); k = 1 is the ELBO and the
        bound tightens as k grows. The average is a log-sum-exp of the log weights, so
        nothing under- or overflows, and log q is computed from ε (see
        :meth:`iwae_loss`), exact also for narrow posteriors (log σ near −30).

        Parameters
        ----------
        x : (B, d)
        k : int ≥ 1
            Samples per example.
        rng : numpy.random.Generator or int seed, optional
        max_rows : int ≥ 1
            At most this many decoder rows at a time (k is split into chunks).

        Returns
        -------
        (B,) float64 array of log p(x) estimates in nats (negate for a negative
        log-likelihood), for ``"mse"`` including :attr:`reconstruction_offset`.
        """
        k = positive_int(k, "k")
        max_rows = positive_int(max_rows, "max_rows")
        rng = as_rng(rng, "rng", default=self.rng)
        x = self._input(x)
        B, m = x.shape[0], self.latent_dim
        log_w = np.empty((k, B))  # float64: the average over k is taken in double precision
        per_chunk = max(1, max_rows // B)
        with no_grad():
            mu, log_sigma, L = self._encode(x)
            for start in range(0, k, per_chunk):
                n = min(per_chunk, k - start)
                eps = rng.standard_normal((n, B, m)).astype(self.dtype, copy=False)
                log_w[start:start + n] = self._log_weights(x, mu, log_sigma, L, eps).data
        return ops.logsumexp(log_w, axis=0).data - math.log(k)

    def sample(self, n: int, rng: Any = None) -> np.ndarray:
        """Draw n codes z ~ N(0, I) and decode them: (n, d) pixel probabilities or means."""
        n = positive_int(n, "n")
        rng = as_rng(rng, "rng", default=self.rng)
        with no_grad():
            return self.decode(rng.standard_normal((n, self.latent_dim)).astype(self.dtype)).data

    def reconstruct(self, x: Any) -> np.ndarray:
        """Decode each example's posterior mean μ: (B, d) → (B, d)."""
        with no_grad():
            return self.decode(self.encode(x)[0]).data

    # ---- checkpoints -------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the configuration and parameters to a ``.npz`` file (no pickle), atomically.

        As :meth:`vae_np.nn.Module.save`, with the configuration stored beside the parameters, so
        that :meth:`VAE.load` can rebuild the model. Returns the path written (``.npz``
        appended unless present).
        """
        arrays = self.state_dict()
        arrays["__config__"] = np.array(json.dumps(self.config))
        return write_npz(npz_path(path), arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "VAE":
        """Rebuild a model saved by :meth:`save` (a class method: ``VAE.load(path)``).

        Unlike :meth:`vae_np.nn.Module.load`, which fills an existing module in place,
        this builds a new model from the stored configuration and returns it; an
        instance it is called on is left unchanged.

        ``VAE.load`` returns whichever model the file holds; ``FullCovVAE.load`` and
        ``DiagonalVAE.load`` also check that it is theirs. ``path`` may omit ``.npz``.
        The stored configuration is checked (its keys, their types and values, the
        posterior) and every array's declared shape is compared with it before any
        array is read, so a tampered file cannot make ``load`` allocate more than the
        configuration it declares, which is itself bounded by the file's size.

        Raises
        ------
        FileNotFoundError
            Naming the path, for a missing file.
        ValueError
            Naming the file, for one that is not a checkpoint, is damaged, or holds a
            configuration or arrays that do not fit (or another class's model).
        """
        path = npz_path(path, existing=True)
        found: dict[str, Any] = {}

        def expected(extra: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
            found.update(_stored_config(extra["__config__"], path, cls))
            return _parameter_shapes(found)

        state = read_npz(path, expected, extra=("__config__",))
        del state["__config__"]
        config = dict(found)
        model = _MODELS[config.pop("posterior")](**config)
        try:
            model.load_state_dict(state)
        except (TypeError, ValueError) as err:
            raise ValueError(f"checkpoint {path}: {err}") from None
        return model

    # ---- input checks ------------------------------------------------------------------
    def _input(self, x: Any, checked: bool = False) -> np.ndarray:
        """x as a (B, d) array of the model's dtype; scanned by check_data unless ``checked``."""
        checked = boolean(checked, "checked")
        if isinstance(x, np.ndarray) and x.dtype == np.float16:
            x = x.astype(self.dtype)
        x = as_array(x, "x") if checked else check_data(x, "x", self.likelihood)
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(f"x must have shape (B, {self.input_dim}); got {x.shape}")
        return x.astype(self.dtype, copy=False)

    def _check_z(self, z: Any) -> Any:
        data = as_array(z, "z")
        if data.ndim != 2 or data.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}); got {data.shape}")
        found = non_finite(data)
        if found:
            raise ValueError(f"z holds {found[0]} non-finite value(s), the first {data[found[1]]} at index {found[1]}")
        return z if isinstance(z, Tensor) else data.astype(self.dtype, copy=False)

    def _noise(self, eps: Any, rng: Any, shape: tuple[int, ...]) -> np.ndarray:
        if eps is None:
            return as_rng(rng, "rng", default=self.rng).standard_normal(shape).astype(self.dtype, copy=False)
        eps = as_array(eps, "eps", self.dtype)
        if eps.shape != shape:
            raise ValueError(f"eps must have shape {shape} (B, m); got {eps.shape}")
        found = non_finite(eps)
        if found:
            raise ValueError(f"eps holds {found[0]} non-finite value(s), the first {eps[found[1]]} at index {found[1]}")
        return eps

    def __repr__(self) -> str:
        c = self.config
        return (f"{type(self).__name__}(input_dim={c['input_dim']}, hidden_dims={c['hidden_dims']}, "
                f"latent_dim={c['latent_dim']}, likelihood={c['likelihood']!r}, "
                f"activation={c['activation']!r}, seed={c['seed']}, dtype={c['dtype']}) "
                f"with {self.num_parameters():,} parameters")


def _checked_config(posterior: str, input_dim: Any, hidden_dims: Any, latent_dim: Any, likelihood: Any,
                    activation: Any, seed: Any, dtype: Any, sigma: Any) -> dict[str, Any]:
    """The configuration of a model after checking every argument (no allocation)."""
    return {
        "posterior": posterior, "input_dim": positive_int(input_dim, "input_dim"),
        "hidden_dims": positive_ints(hidden_dims, "hidden_dims"), "latent_dim": positive_int(latent_dim, "latent_dim"),
        "likelihood": choice(likelihood, "likelihood", LIKELIHOODS),
        "activation": choice(activation, "activation", ACTIVATIONS),
        "seed": integer(seed, "seed", minimum=0), "dtype": float_dtype(dtype).name,
        "sigma": positive_real(sigma, "sigma"),
    }


def _parameter_shapes(config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The name and shape of every parameter of the model ``config`` describes, without
    building it (what :meth:`VAE.load` compares a file's headers with)."""
    d, hidden, m = config["input_dim"], config["hidden_dims"], config["latent_dim"]
    width = hidden[-1] if hidden else d

    def affine(name: str, n_in: int, n_out: int) -> dict[str, tuple[int, ...]]:
        return {f"{name}.weight": (n_in, n_out), f"{name}.bias": (n_out,)}

    def mlp(name: str, sizes: list[int]) -> dict[str, tuple[int, ...]]:
        layers = [affine(f"{name}.layers.{i}", a, b) for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
        return {k: v for layer in layers for k, v in layer.items()}

    shapes = mlp("encoder", [d, *hidden]) | affine("mu_head", width, m) | affine("log_sigma_head", width, m)
    if config["posterior"] == "full":
        shapes |= affine("l_head", width, m * m)
    return shapes | mlp("decoder", [m, *hidden[::-1], d])


def _stored_config(raw: np.ndarray, path: Path, cls: type) -> dict[str, Any]:
    """The configuration stored in a checkpoint, checked; a ValueError naming the file otherwise."""
    try:
        if raw.dtype.kind != "U" or raw.ndim != 0:
            raise ValueError("'__config__' is not a JSON string")
        config = json.loads(str(raw))
        if not isinstance(config, dict):
            raise ValueError("its configuration is not a JSON object")
        missing = sorted(set(CONFIG_KEYS) - set(config))
        unknown = sorted(set(config) - set(CONFIG_KEYS))
        if missing or unknown:
            raise ValueError(f"its configuration has missing keys {missing} and unknown keys {unknown}")
        model_cls = _MODELS.get(config["posterior"]) if isinstance(config["posterior"], str) else None
        if model_cls is None:
            raise ValueError(f"its posterior must be one of {sorted(_MODELS)}; got {describe(config['posterior'])}")
        if cls is not VAE and model_cls is not cls:
            raise ValueError(f"it holds a {model_cls.__name__}, not a {cls.__name__}")
        return _checked_config(**config)
    except (TypeError, ValueError) as err:
        raise ValueError(f"checkpoint {path}: {err}") from None


class FullCovVAE(VAE):
    """The lecture's model: q(z|x) = N(μ, LLᵀ) with L = L_mask ⊙ L' + diag(σ).

    The encoder outputs m + m + m² numbers per example: μ, log σ and L' (whose diagonal
    and upper triangle the mask discards). See :class:`VAE` for the parameters.

    Examples
    --------
    >>> import numpy as np, vae_np as vn
    >>> model = vn.FullCovVAE(input_dim=64, hidden_dims=[32], latent_dim=2, seed=0)
    >>> x = np.random.default_rng(0).uniform(size=(5, 64))
    >>> mu, log_sigma, L = model.encode(x)
    >>> L.shape
    (5, 2, 2)
    >>> loss = model.loss(x, rng=np.random.default_rng(1))
    >>> loss.backward()
    """

    posterior = "full"

    def _build_l_head(self, width: int) -> None:
        self.l_head = Linear(width, self.latent_dim ** 2, self.rng, self.dtype)

    def _l_prime(self, h: Tensor) -> Tensor:
        return self.l_head(h).reshape(-1, self.latent_dim, self.latent_dim)


class DiagonalVAE(VAE):
    """Model 1, the factorised posterior: q(z|x) = N(μ, diag(σ²)), i.e. L = diag(σ).

    Identical to :class:`FullCovVAE` except that there is no L' head.
    """

    posterior = "diagonal"

    def _build_l_head(self, width: int) -> None:
        pass

    def _l_prime(self, h: Tensor) -> np.ndarray:
        return np.zeros((h.shape[0], self.latent_dim, self.latent_dim), dtype=self.dtype)


_MODELS: dict[str, type[VAE]] = {"full": FullCovVAE, "diagonal": DiagonalVAE}
