"""The models: the lecture's VAE with a full-covariance Gaussian posterior, and Model 1.

Encoder (the inference model q_φ(z|x))::

    h = MLP_φ(x)                         hidden layers with tanh (or relu)
    μ = h W_μ + b_μ,  log σ = h W_σ + b_σ,  L' = reshape(h W_L + b_L, (m, m))
    L = L_mask ⊙ L' + diag(σ)            vae_np.gaussian.scale_tril
    z = μ + L ε,  ε ~ N(0, I)            vae_np.gaussian.rsample

Decoder (the generative model p_θ(x|z)): an MLP from z to x̂ (Bernoulli logits, or the
mean of a Gaussian). The loss is the negative ELBO, KL(q(z|x) ‖ N(0, I)) plus the
reconstruction error, averaged over the batch, in nats per example.

:class:`DiagonalVAE` is the factorised posterior of the previous lecture (Model 1): the
same code without the L' head, so L = diag(σ).
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy.special import logsumexp

from . import gaussian, losses, ops
from .data import check_data
from .nn import ACTIVATIONS, MLP, Linear, Module
from .tensor import Tensor, no_grad
from .validate import LOG_2PI, as_array

__all__ = ["VAE", "FullCovVAE", "DiagonalVAE", "NegELBO", "LIKELIHOODS"]

LIKELIHOODS = ("bernoulli", "gaussian", "mse")


@dataclass(frozen=True)
class NegELBO:
    """The negative ELBO of a batch and its two parts.

    Attributes
    ----------
    total : Tensor, scalar
        mean over the batch of ``kl + rec``: the training loss, in nats per example.
    kl : Tensor, (B,)
        KL(q(z|x) ‖ N(0, I)) of each example.
    rec : Tensor, (B,)
        The reconstruction error −log p(x|z) of each example (for ``"mse"``, the lecture's
        mean squared error of the example's pixels).
    """

    total: Tensor
    kl: Tensor
    rec: Tensor


class VAE(Module):
    """Common code of both posteriors; use :class:`FullCovVAE` or :class:`DiagonalVAE`.

    Parameters
    ----------
    input_dim : int
        d, the number of pixels.
    hidden_dims : sequence of int
        Widths of the encoder's hidden layers; the decoder mirrors them.
    latent_dim : int
        m, the dimension of z.
    likelihood : {"bernoulli", "gaussian", "mse"}
        ``"bernoulli"``: the decoder outputs logits, data in [0, 1]. ``"gaussian"``: the
        decoder outputs the mean of N(x̂, sigma² I). ``"mse"``: the lecture's
        (1/d) Σⱼ (xⱼ − x̂ⱼ)² per example.
    activation : {"tanh", "relu"}
    seed : int
        Seeds the initial weights (and the noise ε when none is passed).
    dtype : float64 or float32
    sigma : float
        The Gaussian likelihood's standard deviation (only for ``"gaussian"``).

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
        hidden_dims = [int(h) for h in hidden_dims]
        for name, value in [("input_dim", input_dim), ("latent_dim", latent_dim)] + [
                ("hidden_dims", h) for h in hidden_dims]:
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be positive integers; got {value!r}")
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}; got {likelihood!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}")
        if not (np.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a positive number; got {sigma!r}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64; got {dtype}")
        self.config = {
            "posterior": self.posterior, "input_dim": int(input_dim), "hidden_dims": hidden_dims,
            "latent_dim": int(latent_dim), "likelihood": likelihood, "activation": activation,
            "seed": int(seed), "dtype": dtype.name, "sigma": float(sigma),
        }
        self.input_dim, self.latent_dim, self.likelihood, self.dtype = int(input_dim), int(latent_dim), likelihood, dtype
        self.sigma = float(sigma)
        self.rng = np.random.default_rng(seed)
        m, width = self.latent_dim, hidden_dims[-1] if hidden_dims else self.input_dim
        self.encoder = MLP([self.input_dim, *hidden_dims], activation, self.rng, dtype, final_activation=True)
        self.mu_head = Linear(width, m, self.rng, dtype)
        self.log_sigma_head = Linear(width, m, self.rng, dtype)
        self._build_l_head(width)
        self.decoder = MLP([m, *hidden_dims[::-1], self.input_dim], activation, self.rng, dtype)

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
        x : (B, d) array in [0, 1] (for Bernoulli), finite

        Returns
        -------
        mu : (B, m),  log_sigma : (B, m),  L : (B, m, m) lower triangular with diagonal σ
        """
        return self._encode(self._check_x(x))

    def _encode(self, x: np.ndarray) -> tuple[Tensor, Tensor, Tensor]:
        h = self.encoder(x)
        mu, log_sigma = self.mu_head(h), self.log_sigma_head(h)
        return mu, log_sigma, gaussian.scale_tril(log_sigma, self._l_prime(h))

    def decoder_output(self, z: Any) -> Tensor:
        """The decoder's raw output for latent codes z: (B, m) → (B, d) logits or means."""
        return self.decoder(self._check_z(z))

    def decode(self, z: Any) -> Tensor:
        """x̂ for latent codes z: (B, m) → (B, d) pixel probabilities (Bernoulli) or means."""
        out = self.decoder_output(z)
        return ops.sigmoid(out) if self.likelihood == "bernoulli" else out

    # ---- the loss ----------------------------------------------------------------------
    def neg_elbo(self, x: Any, eps: Any = None, rng: np.random.Generator | None = None) -> NegELBO:
        """The negative ELBO of a batch, with one reparameterised sample per example.

        Parameters
        ----------
        x : (B, d)
        eps : (B, m), optional
            The standard normal noise ε; drawn from ``rng`` (or the model's own generator)
            when omitted. Passing it makes the loss a deterministic function of x.
        """
        x = self._check_x(x)
        mu, log_sigma, L = self._encode(x)
        z = gaussian.rsample(mu, L, self._noise(eps, rng, mu.shape))
        rec = self._reconstruction(self.decoder(z), x)
        kl = gaussian.kl_standard_normal(mu, log_sigma, L)
        return NegELBO(total=(kl + rec).mean(), kl=kl, rec=rec)

    def loss(self, x: Any, eps: Any = None, rng: np.random.Generator | None = None) -> Tensor:
        """Scalar negative ELBO, mean over the batch (nats per example): what training minimises."""
        return self.neg_elbo(x, eps, rng).total

    def _reconstruction(self, out: Tensor, x: np.ndarray) -> Tensor:
        """−log p(x|z) per example, (B,); for "mse" the lecture's per-example mean squared error."""
        if self.likelihood == "bernoulli":
            return losses.bernoulli_nll(out, x)
        if self.likelihood == "gaussian":
            return losses.gaussian_nll(out, x, self.sigma)
        return ops.mean(ops.square(out - x), axis=1)

    def _log_likelihood(self, out: Tensor, x: np.ndarray) -> np.ndarray:
        """log p(x|z) per example as a normalised density, for the IWAE bound.

        The lecture's MSE is not a log density; it equals −log N(x; x̂, s² I) with s² = d/2
        up to the constant (d/2) log(π d), which is added back here.
        """
        rec = self._reconstruction(out, x).data
        if self.likelihood == "mse":
            rec = rec + 0.5 * self.input_dim * np.log(np.pi * self.input_dim)
        return -rec

    # ---- evaluation and sampling -------------------------------------------------------
    def iwae_bound(self, x: Any, k: int = 100, rng: np.random.Generator | None = None,
                   max_rows: int = 32768) -> np.ndarray:
        """Importance-weighted estimate of log p(x) per example (Burda et al., 2016).

        log p(x) ≥ E[log (1/k) Σᵢ p(x, zᵢ)/q(zᵢ|x)], zᵢ ~ q(z|x); k = 1 is the ELBO and the
        bound tightens as k grows. The average is a log-sum-exp of the log weights, so
        nothing under- or overflows.

        Returns
        -------
        (B,) array of log p(x) estimates in nats (negate for a negative log-likelihood).
        """
        if int(k) != k or k < 1:
            raise ValueError(f"k must be a positive integer; got {k!r}")
        rng = self.rng if rng is None else rng
        x = self._check_x(x)
        B, m = x.shape[0], self.latent_dim
        log_w = np.empty((int(k), B))
        with no_grad():
            mu, _, L = (t.data for t in self._encode(x))
            per_chunk = max(1, max_rows // B)
            for start in range(0, int(k), per_chunk):
                n = min(per_chunk, int(k) - start)
                eps = rng.standard_normal((n, B, m)).astype(self.dtype)
                mu_n = np.broadcast_to(mu, (n, B, m)).reshape(n * B, m)
                L_n = np.broadcast_to(L, (n, B, m, m)).reshape(n * B, m, m)
                z = gaussian.rsample(mu_n, L_n, eps.reshape(n * B, m)).data
                log_q = gaussian.log_prob(z, mu_n, L_n).data
                log_prior = -0.5 * np.sum(z * z, axis=1) - 0.5 * m * LOG_2PI
                x_n = np.broadcast_to(x, (n, B, x.shape[1])).reshape(n * B, -1)
                log_px = self._log_likelihood(self.decoder(z), x_n)
                log_w[start:start + n] = (log_px + log_prior - log_q).reshape(n, B)
        return logsumexp(log_w, axis=0) - np.log(k)

    def sample(self, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """Draw z ~ N(0, I) and decode: (n, d) pixel probabilities or means."""
        rng = self.rng if rng is None else rng
        with no_grad():
            return self.decode(rng.standard_normal((int(n), self.latent_dim)).astype(self.dtype)).data

    def reconstruct(self, x: Any) -> np.ndarray:
        """Decode each example's posterior mean μ: (B, d) → (B, d)."""
        with no_grad():
            return self.decode(self.encode(x)[0]).data

    # ---- checkpoints -------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the configuration and parameters to a ``.npz`` file (no pickle)."""
        path = Path(path)
        arrays = self.state_dict()
        arrays["__config__"] = np.array(json.dumps(self.config))
        np.savez(path, **arrays)
        return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")

    @classmethod
    def load(cls, path: str | Path) -> "VAE":
        """Rebuild a model saved by :meth:`save`.

        ``VAE.load`` returns whichever model the file holds; ``FullCovVAE.load`` and
        ``DiagonalVAE.load`` also check that it is theirs. A file that is missing raises
        FileNotFoundError; one that is corrupted or from another configuration raises
        ValueError.
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as f:
                config = json.loads(str(f["__config__"]))
                state = {k: f[k] for k in f.files if k != "__config__"}
        except FileNotFoundError:
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(f"could not read checkpoint {path}: {err}") from None
        model_cls = _MODELS.get(config.pop("posterior", None))
        if model_cls is None:
            raise ValueError(f"checkpoint {path} does not name a known posterior")
        if cls is not VAE and model_cls is not cls:
            raise ValueError(f"checkpoint {path} holds a {model_cls.__name__}, not a {cls.__name__}")
        model = model_cls(**config)
        model.load_state_dict(state)
        return model

    # ---- input checks ------------------------------------------------------------------
    def _check_x(self, x: Any) -> np.ndarray:
        x = check_data(x, "x", self.likelihood)
        if x.shape[1] != self.input_dim:
            raise ValueError(f"x must have shape (B, {self.input_dim}); got {x.shape}")
        return x.astype(self.dtype, copy=False)

    def _check_z(self, z: Any) -> Any:
        shape = z.shape if isinstance(z, Tensor) else np.shape(z)
        if len(shape) != 2 or shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}); got {shape}")
        return z if isinstance(z, Tensor) else as_array(z, "z", self.dtype)

    def _noise(self, eps: Any, rng: np.random.Generator | None, shape: tuple[int, ...]) -> np.ndarray:
        if eps is None:
            return (self.rng if rng is None else rng).standard_normal(shape).astype(self.dtype, copy=False)
        eps = as_array(eps, "eps", self.dtype)
        if eps.shape != shape:
            raise ValueError(f"eps must have shape {shape} (B, m); got {eps.shape}")
        if not np.all(np.isfinite(eps)):
            raise ValueError("eps holds non-finite values")
        return eps

    def __repr__(self) -> str:
        c = self.config
        return (f"{type(self).__name__}(input_dim={c['input_dim']}, hidden_dims={c['hidden_dims']}, "
                f"latent_dim={c['latent_dim']}, likelihood={c['likelihood']!r}, "
                f"activation={c['activation']!r}, seed={c['seed']}, dtype={c['dtype']}) "
                f"with {self.num_parameters():,} parameters")


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
