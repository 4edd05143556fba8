"""vae_np: a Variational Autoencoder with a full-covariance Gaussian posterior, in NumPy.

The package is built on a small reverse-mode autograd whose gradients are written by
hand (:mod:`vae_np.tensor`, :mod:`vae_np.ops`) and checked by finite differences
(:mod:`vae_np.gradcheck`).
"""
__version__ = "0.1.0"
