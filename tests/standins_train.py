"""Stand-ins for contracts 3 (GAUSS) and 4 (OPTIM) while those branches are not merged.

The autouse fixture :func:`contract_standins` patches only what the package still lacks:
``VAE.neg_elbo``/``VAE.loss`` with ``beta`` and ``checked``, ``VAE.reconstruction_offset``,
``VAE.iwae_loss`` and ``Optimizer.undo``. Once the real ones are merged every branch below
is skipped, and the lead can delete this file and its imports.
"""
from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import vae_np as vn


def _neg_elbo(original):
    def neg_elbo(self, x, eps=None, rng=None, *, beta=1.0, checked=False):
        parts = original(self, x, eps, rng)
        return vn.NegELBO(total=(beta * parts.kl + parts.rec).mean(), kl=parts.kl, rec=parts.rec)
    return neg_elbo


def _iwae_loss(self, x, k, rng=None, *, checked=False):
    """Mean over the batch of −IWAE_k, with log q from ε (contract 3)."""
    rng = self.rng if rng is None else rng
    mu, log_sigma, L = self.encode(x)
    m = self.latent_dim
    log_w = []
    for _ in range(k):
        eps = rng.standard_normal(mu.shape).astype(self.dtype)
        z = vn.rsample(mu, L, eps)
        log_q = -0.5 * np.sum(eps * eps, axis=1) - vn.sum(log_sigma, axis=1) - 0.5 * m * math.log(2 * math.pi)
        log_p = -0.5 * vn.sum(z * z, axis=1) - 0.5 * m * math.log(2 * math.pi)
        rec = self._reconstruction(self.decoder(z), np.asarray(x, dtype=self.dtype)) + self.reconstruction_offset
        log_w.append(log_p - rec - log_q)
    return -vn.mean(vn.logsumexp(vn.stack(log_w, axis=0), axis=0) - math.log(k))


def _undoable_step(original):
    def step(self):
        self._undo_state = (self.flat.copy(), self.state_dict())
        original(self)
    return step


def _undo(self):
    flat, state = self._undo_state
    self.flat[...] = flat
    self.load_state_dict(state)


@pytest.fixture(autouse=True, scope="module")
def contract_standins():
    with pytest.MonkeyPatch.context() as monkeypatch:
        _patch(monkeypatch)
        yield


def _patch(monkeypatch):
    if "checked" not in inspect.signature(vn.VAE.neg_elbo).parameters:
        neg_elbo = _neg_elbo(vn.VAE.neg_elbo)
        monkeypatch.setattr(vn.VAE, "neg_elbo", neg_elbo)
        monkeypatch.setattr(vn.VAE, "loss", lambda self, x, eps=None, rng=None, *, beta=1.0, checked=False:
                            neg_elbo(self, x, eps, rng, beta=beta).total)
    if not hasattr(vn.VAE, "reconstruction_offset"):
        offset = property(lambda self: 0.5 * self.input_dim * math.log(math.pi * self.input_dim)
                          if self.likelihood == "mse" else 0.0)
        monkeypatch.setattr(vn.VAE, "reconstruction_offset", offset, raising=False)
    if not hasattr(vn.VAE, "iwae_loss"):
        monkeypatch.setattr(vn.VAE, "iwae_loss", _iwae_loss, raising=False)
    if not hasattr(vn.Optimizer, "undo"):
        for cls in (vn.SGD, vn.Adam):
            monkeypatch.setattr(cls, "step", _undoable_step(cls.step))
        monkeypatch.setattr(vn.Optimizer, "undo", _undo, raising=False)
