"""vae_np: a Variational Autoencoder with a full-covariance Gaussian posterior, in NumPy.

The package is built on a small reverse-mode autograd whose gradients are written by
hand. Its modules read like the book's table of contents:

=========================  ==============================================================
:mod:`vae_np.tensor`       the Tensor, the graph and the backward pass
:mod:`vae_np.ops`          the primitive operations, each forward with its backward
:mod:`vae_np.gradcheck`    finite-difference checking of any op or model
:mod:`vae_np.nn`           parameters, the affine layer and the multilayer perceptron
:mod:`vae_np.optim`        SGD and Adam over one flat parameter buffer
=========================  ==============================================================
"""
from .tensor import Function, Tensor, is_grad_enabled, no_grad, unbroadcast
from .ops import (
    add, sub, mul, div, neg, power, matmul, linear,
    sum, mean, reshape, transpose, swapaxes, getitem, concatenate, stack,
    exp, log, sqrt, square, tanh, relu, sigmoid, softplus,
    logsumexp, log_softmax, maximum, where,
)
from .gradcheck import GradcheckError, GradcheckResult, gradcheck
from .nn import MLP, Linear, Module, Parameter
from .optim import SGD, Adam, Optimizer

__version__ = "0.1.0"
