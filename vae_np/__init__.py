"""vae_np: a Variational Autoencoder with a full-covariance Gaussian posterior, in NumPy.

The package is built on a small reverse-mode autograd whose gradients are written by
hand. Its modules read like the book's table of contents:

=========================  ==============================================================
:mod:`vae_np.validate`     argument checks and shared constants (the bottom layer)
:mod:`vae_np.tensor`       the Tensor, the graph and the backward pass
:mod:`vae_np.ops`          the primitive operations, each forward with its backward
:mod:`vae_np.gradcheck`    finite-difference checking of any op or model
:mod:`vae_np.gaussian`     the lecture's Gaussian pieces: L, z = μ + Lε, KL, log q, entropy
:mod:`vae_np.losses`       MSE, SSE, Bernoulli and Gaussian likelihoods, cross-entropy
:mod:`vae_np.nn`           parameters, the affine layer and the multilayer perceptron
:mod:`vae_np.vae`          FullCovVAE (the lecture's model) and DiagonalVAE (Model 1)
:mod:`vae_np.optim`        SGD and Adam over one flat parameter buffer
:mod:`vae_np.train`        the training loop and held-out evaluation
:mod:`vae_np.data`         the bundled digits, local MNIST files, minibatches
:mod:`vae_np.plots`        training curves, images, the latent space with its ellipses
:mod:`vae_np.files`        writing files atomically: the old file survives any failure
:mod:`vae_np.cli`          ``python -m vae_np train`` and ``evaluate``
=========================  ==============================================================
"""
from . import validate
from .validate import NonFiniteError
from .tensor import Function, Tensor, is_grad_enabled, no_grad, unbroadcast
from .ops import (
    add, sub, mul, div, neg, power, matmul, linear,
    sum, mean, reshape, transpose, swapaxes, getitem, concatenate, stack,
    exp, log, sqrt, square, tanh, relu, sigmoid, softplus,
    logsumexp, log_softmax, maximum, where,
)
from .gradcheck import GradcheckError, GradcheckResult, gradcheck
from .gaussian import entropy, kl_standard_normal, log_prob, rsample, scale_tril
from .losses import bernoulli_nll, cross_entropy, gaussian_nll, mse, sse
from .nn import MLP, Linear, Module, Parameter
from .vae import VAE, DiagonalVAE, FullCovVAE, NegELBO
from .optim import SGD, Adam, Optimizer
from .train import TrainingError, evaluate, fit
from .data import Dataset, batches, check_data, load_digits, load_mnist

__version__ = "0.1.0"


def __getattr__(name: str):
    """Import :mod:`vae_np.plots` on first use (``vn.plots.plot_latent``): it loads matplotlib."""
    if name == "plots":
        import importlib

        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'vae_np' has no attribute {name!r}")
