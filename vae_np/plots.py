"""The pictures: training curves, images, reconstructions and the 2-D latent space.

Every function takes plain NumPy arrays (or Tensors), draws with matplotlib and returns
the :class:`~matplotlib.figure.Figure`; none calls ``plt.show()`` or picks a backend,
so the same calls work in a notebook, a script or a test.

The figure that shows what a full-covariance posterior buys is :func:`plot_latent`:
each posterior q(z | x) = N(μ, LLᵀ) is drawn as its 2-σ ellipse. A factorised
(diagonal) posterior can only give axis-aligned ellipses; a full lower-triangular L
rotates them to follow the correlation between z₁ and z₂. :func:`covariance_ellipse`
turns a 2×2 covariance into the ellipse's width, height and angle.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse
from matplotlib.ticker import MaxNLocator

from .data import check_data
from .validate import as_array, check_finite, check_shape, describe, integer, positive_real

__all__ = [
    "plot_history", "plot_images", "plot_reconstructions",
    "plot_latent", "plot_latent_grid", "covariance_ellipse",
]

_HISTORY_KEYS = ("train_loss", "val_loss", "train_kl", "val_kl", "train_rec", "val_rec")
_GRAY = matplotlib.colormaps["gray"].with_extremes(bad="white")  # NaN = the gap between tiles
_PAD = 2  # white pixels between tiled images: 8×8 digits drawn edge to edge fuse into stripes


# ------------------------------------------------------------------------- helpers

def _figure_of(ax: Axes) -> Figure:
    """The top-level Figure an Axes belongs to (also through subfigures)."""
    fig = ax.figure
    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


def _axes(ax: Any, name: str = "ax") -> Axes:
    """``ax`` if it is a matplotlib Axes, else TypeError."""
    if not isinstance(ax, Axes):
        raise TypeError(f"{name} must be a matplotlib Axes; got {describe(ax)}")
    return ax


def _image_shape(image_shape: Any) -> tuple[int, int]:
    """``image_shape`` as (h, w) of ints ≥ 1, or a clear error."""
    if isinstance(image_shape, (str, bytes)) or not isinstance(image_shape, (tuple, list, np.ndarray)) \
            or len(image_shape) != 2:
        raise TypeError(f"image_shape must be a pair of ints (h, w); got {describe(image_shape)}")
    h, w = (integer(s, "image_shape", minimum=1) for s in image_shape)
    return h, w


def _images(x: Any, name: str, image_shape: tuple[int, int]) -> np.ndarray:
    """``x`` checked as (n, h·w) finite float rows (n ≥ 1), or an error naming ``name``."""
    x = check_data(as_array(x, name), name)
    h, w = image_shape
    if x.shape[1] != h * w:
        raise ValueError(f"{name} must have h·w = {h * w} columns for image_shape {image_shape}; got shape {x.shape}")
    return x


def _tile(x: np.ndarray, image_shape: tuple[int, int], ncols: int, pad: int = _PAD) -> np.ndarray:
    """Rows of ``x: (n, h·w)`` laid out as one (rows·h, ncols·w) picture, row-major,
    with ``pad`` NaN pixels between the images and in the unused cells."""
    h, w = image_shape
    n = len(x)
    nrows = math.ceil(n / ncols)
    cells = np.full((nrows * ncols, h + pad, w + pad), np.nan)
    cells[:n, :h, :w] = x.reshape(n, h, w)
    picture = cells.reshape(nrows, ncols, h + pad, w + pad).swapaxes(1, 2)
    picture = picture.reshape(nrows * (h + pad), ncols * (w + pad))
    return picture[: picture.shape[0] - pad, : picture.shape[1] - pad]


def _show(ax: Axes, picture: np.ndarray, **kwargs: Any) -> None:
    """Draw a tiled picture in grayscale with pixel values 0 (black) to 1 (white)."""
    ax.imshow(picture, cmap=_GRAY, vmin=0.0, vmax=1.0, interpolation="nearest", **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[:].set_visible(False)


# ------------------------------------------------------------------------ training

def plot_history(history: Mapping[str, Sequence[float]], ax: Sequence[Axes] | None = None) -> Figure:
    """Training curves: the negative ELBO, and its KL and reconstruction terms, per epoch.

    Parameters
    ----------
    history : dict of equal-length lists
        Any of ``train_loss``, ``val_loss`` (negative ELBO), ``train_kl``, ``val_kl``,
        ``train_rec``, ``val_rec``, in nats per example, one value per epoch. Other keys
        are ignored.
    ax : two Axes, optional
        Where to draw the loss panel and the KL-vs-reconstruction panel; by default a
        new figure with both side by side.

    Returns
    -------
    Figure
    """
    if not isinstance(history, Mapping):
        raise ValueError(f"history must be a dict of lists; got {describe(history)}")
    curves = {k: check_finite(as_array(history[k], f"history[{k!r}]"), f"history[{k!r}]")
              for k in _HISTORY_KEYS if k in history}
    if not curves:
        raise ValueError(f"history has none of the keys {', '.join(_HISTORY_KEYS)}; got {sorted(map(str, history))}")
    shape = next(iter(curves.values())).shape
    if len(shape) != 1 or shape[0] == 0 or any(v.shape != shape for v in curves.values()):
        shapes = {k: v.shape for k, v in curves.items()}
        raise ValueError(f"history must hold non-empty lists of equal length; got shapes {shapes}")
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    elif isinstance(ax, Axes) or not isinstance(ax, (Sequence, np.ndarray)) or len(ax) != 2:
        raise ValueError(f"ax must be two Axes (loss panel, terms panel); got {describe(ax)}")
    else:
        fig = _figure_of(_axes(ax[0], "ax[0]"))
        _axes(ax[1], "ax[1]")
    epochs = np.arange(1, shape[0] + 1)

    panels = (
        (ax[0], ("loss",), "negative ELBO"),
        (ax[1], ("kl", "rec"), "KL and reconstruction terms"),
    )
    for panel, terms, title in panels:
        for colour, term in enumerate(terms):
            for split, style in (("train", "-"), ("val", "--")):
                key = f"{split}_{term}"
                if key in curves:
                    panel.plot(epochs, curves[key], style, color=f"C{colour}", label=key)
        if panel.lines:
            panel.legend()
        else:
            panel.text(0.5, 0.5, f"no {' / '.join(terms)} recorded", ha="center", va="center",
                       transform=panel.transAxes)
        panel.set(title=title, xlabel="epoch", ylabel="nats per example")
        panel.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


# -------------------------------------------------------------------------- images

def plot_images(images: np.ndarray, image_shape: tuple[int, int], ncols: int = 10,
                title: str | None = None) -> Figure:
    """A grid of grayscale images, ``ncols`` per row, without ticks.

    Parameters
    ----------
    images : (n, h·w) array of pixel values in [0, 1]
    image_shape : (h, w)
    ncols : int ≥ 1
    title : str, optional

    Returns
    -------
    Figure with one Axes holding the tiled images.
    """
    image_shape = _image_shape(image_shape)
    images = _images(images, "images", image_shape)
    ncols = min(integer(ncols, "ncols", minimum=1), len(images))
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None; got {describe(title)}")
    nrows = math.ceil(len(images) / ncols)
    fig, ax = plt.subplots(figsize=(0.8 * ncols + 0.4, 0.8 * nrows + (0.7 if title else 0.4)), layout="constrained")
    _show(ax, _tile(images, image_shape, ncols))
    if title:
        ax.set_title(title)
    return fig


def plot_reconstructions(x: np.ndarray, x_hat: np.ndarray, image_shape: tuple[int, int], n: int = 10) -> Figure:
    """The first ``n`` images (top row) above their reconstructions (bottom row).

    Parameters
    ----------
    x : (N, h·w) array, the originals
    x_hat : (N, h·w) array, the reconstructions, e.g. the decoder's pixel means
    image_shape : (h, w)
    n : int ≥ 1, how many to show (at most N)

    Returns
    -------
    Figure with two Axes, labelled "original" and "reconstruction".
    """
    image_shape = _image_shape(image_shape)
    x = _images(x, "x", image_shape)
    x_hat = _images(x_hat, "x_hat", image_shape)
    if x.shape != x_hat.shape:
        raise ValueError(f"x and x_hat must have the same shape; got {x.shape} and {x_hat.shape}")
    n = min(integer(n, "n", minimum=1), len(x))
    fig, axes = plt.subplots(2, 1, figsize=(0.8 * n + 1.0, 2.0), layout="constrained")
    for ax, rows, label in ((axes[0], x, "original"), (axes[1], x_hat, "reconstruction")):
        _show(ax, _tile(rows[:n], image_shape, n))
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    return fig


# -------------------------------------------------------------------------- latent

def covariance_ellipse(mean: np.ndarray, cov: np.ndarray, n_std: float = 2.0) -> tuple[float, float, float]:
    """Width, height and angle of the ``n_std``-σ ellipse of N(mean, cov) in 2-D.

    With the eigen-decomposition cov = V diag(λ₁, λ₂) Vᵀ, λ₁ ≥ λ₂, the ellipse
    {z : (z − mean)ᵀ cov⁻¹ (z − mean) = n_std²} has full axes 2·n_std·√λ₁ along v₁ and
    2·n_std·√λ₂ along v₂. The numbers are what :class:`matplotlib.patches.Ellipse`
    takes: ``Ellipse(mean, width, height, angle=angle)``.

    Parameters
    ----------
    mean : (2,) array, the centre (checked only; the shape does not depend on it)
    cov : (2, 2) symmetric positive semi-definite array
    n_std : float > 0

    Returns
    -------
    width : float, 2·n_std·√λ₁, the major axis
    height : float, 2·n_std·√λ₂, the minor axis
    angle : float, degrees in [0, 180), anticlockwise from the z₁ axis to v₁

    Examples
    --------
    >>> covariance_ellipse([0, 0], [[4.0, 0.0], [0.0, 1.0]])
    (8.0, 4.0, 0.0)
    """
    sizes = {"d": 2}
    mean = check_finite(check_shape(mean, "mean", "d", sizes), "mean")
    cov = check_finite(check_shape(cov, "cov", "d d", sizes), "cov").astype(float)
    if not np.allclose(cov, cov.T, rtol=1e-8, atol=1e-12 * np.abs(cov).max()):
        raise ValueError(f"cov must be symmetric; got {cov.tolist()}")
    n_std = positive_real(n_std, "n_std")
    eigenvalues, eigenvectors = np.linalg.eigh((cov + cov.T) / 2)  # ascending
    if eigenvalues[0] < -1e-12 * max(1.0, eigenvalues[1]):
        raise ValueError(f"cov must be positive semi-definite; its eigenvalues are {eigenvalues.tolist()}")
    small, large = np.sqrt(np.clip(eigenvalues, 0.0, None))
    v1 = eigenvectors[:, 1]
    angle = math.degrees(math.atan2(v1[1], v1[0])) % 180.0  # v₁ and −v₁ are the same axis
    return float(2 * n_std * large), float(2 * n_std * small), float(angle)


def _label_colours(ax: Axes, mu: np.ndarray, labels: Any) -> np.ndarray:
    """Scatter ``mu`` coloured by ``labels`` with a legend (≤ 10 integer classes, e.g.
    digits) or a colourbar (anything else); return the (n, 4) RGBA colour of each point."""
    if labels is None:
        ax.scatter(mu[:, 0], mu[:, 1], s=6, color="C0", alpha=0.5)
        return np.tile(to_rgba("C0"), (len(mu), 1))
    if isinstance(labels, (str, bytes)):
        raise TypeError(f"labels must be an array of one label per point; got {describe(labels)}")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"labels must be numbers (e.g. digit classes); got dtype {labels.dtype}")
    if labels.shape != (len(mu),):
        raise ValueError(f"labels must have shape ({len(mu)},), one per row of mu; got {labels.shape}")
    check_finite(labels.astype(float), "labels")
    classes, codes = np.unique(labels, return_inverse=True)
    if labels.dtype.kind in "biu" and len(classes) <= 10:
        points = ax.scatter(mu[:, 0], mu[:, 1], c=codes, s=6, alpha=0.5, cmap="tab10", vmin=-0.5, vmax=9.5)
        handles = [Line2D([], [], ls="", marker="o", color=points.cmap(k), label=str(c)) for k, c in enumerate(classes)]
        ax.legend(handles=handles, title="label", loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
        return points.to_rgba(codes)
    points = ax.scatter(mu[:, 0], mu[:, 1], c=labels, s=6, alpha=0.5, cmap="viridis")
    _figure_of(ax).colorbar(points, ax=ax, label="label")
    return points.to_rgba(labels)


def plot_latent(
    mu: np.ndarray, L: np.ndarray | None = None, labels: np.ndarray | None = None,
    n_ellipses: int = 30, ax: Axes | None = None,
) -> Figure:
    """The 2-D latent space: posterior means, and 2-σ ellipses of N(μ, LLᵀ).

    Parameters
    ----------
    mu : (n, 2) array of posterior means (a model with a 2-D latent)
    L : (n, 2, 2) array, optional
        Cholesky factors of the posterior covariances, Σᵢ = Lᵢ Lᵢᵀ. A diagonal L gives
        axis-aligned ellipses; a full lower-triangular L gives rotated ones.
    labels : (n,) array, optional
        Colour of each point: ≤ 10 integer classes (digits 0–9) get a legend, other
        labels a colourbar.
    n_ellipses : int ≥ 0
        Ellipses are drawn for the first ``n_ellipses`` points only, to stay readable.
    ax : Axes, optional
        Where to draw; by default a new figure.

    Returns
    -------
    Figure
    """
    mu = check_data(as_array(mu, "mu"), "mu")
    if mu.shape[1] != 2:
        raise ValueError(
            f"mu must have 2 columns to be drawn in the plane; got shape {mu.shape}. "
            "Use a model with a 2-D latent (latent_dim=2) for this picture."
        )
    if L is not None:
        L = check_finite(check_shape(L, "L", "n d d", {"n": len(mu), "d": 2}), "L")
    n_ellipses = integer(n_ellipses, "n_ellipses", minimum=0)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.0, 5.0), layout="constrained")
    else:
        fig = _figure_of(_axes(ax))

    colours = _label_colours(ax, mu, labels)
    if L is not None:
        for i in range(min(n_ellipses, len(mu))):
            width, height, angle = covariance_ellipse(mu[i], L[i] @ L[i].T)
            ax.add_patch(Ellipse(mu[i], width, height, angle=angle, fill=False, lw=1.0, edgecolor=colours[i]))
        ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")  # so a 45° ellipse looks 45°
    ax.set(xlabel="$z_1$", ylabel="$z_2$",
           title="posterior means" + (" and 2σ ellipses" if L is not None and n_ellipses else ""))
    return fig


def plot_latent_grid(
    decode: Callable[[np.ndarray], np.ndarray], image_shape: tuple[int, int], n: int = 15, span: float = 2.5
) -> Figure:
    """Decode an n×n grid of latent points in [−span, span]² and tile the images.

    The image at column j, row i (counted from the bottom) is ``decode`` of the point
    (z₁, z₂) = (−span + j·s, −span + i·s), s = 2·span/(n − 1); the axes are labelled
    with these latent coordinates.

    Parameters
    ----------
    decode : callable, (k, 2) array → (k, h·w) array of pixel means in [0, 1]
    image_shape : (h, w)
    n : int ≥ 2, points per side
    span : float > 0

    Returns
    -------
    Figure with one Axes holding the tiled n×n images.
    """
    if not callable(decode):
        raise TypeError(f"decode must be a function from (k, 2) latent points to (k, h·w) images; "
                        f"got {describe(decode)}")
    image_shape = _image_shape(image_shape)
    n = integer(n, "n", minimum=2)
    span = positive_real(span, "span")
    z1 = np.linspace(-span, span, n)
    z2 = z1[::-1]  # the top row of the picture is the largest z₂
    grid = np.stack(np.meshgrid(z1, z2), axis=-1).reshape(n * n, 2)
    out = decode(grid)
    images = _images(out, "decode(z)", image_shape)
    if len(images) != n * n:
        raise ValueError(f"decode(z) must return one image per latent point, {n * n} rows; got shape {images.shape}")
    # Tile j's centre sits at z = -span + j·step: one tile plus its gap spans one step.
    h, w = image_shape
    step = 2 * span / (n - 1)
    px, py = step / (w + _PAD), step / (h + _PAD)       # latent units per pixel
    left, top = -span - px * w / 2, span + py * h / 2
    width, height = px * (n * (w + _PAD) - _PAD), py * (n * (h + _PAD) - _PAD)
    size = max(6.0, 0.55 * n)                          # about 0.55 in per tile
    fig, ax = plt.subplots(figsize=(size, size), layout="constrained")
    _show(ax, _tile(images, image_shape, n), extent=(left, left + width, top - height, top))
    ticks = np.linspace(-span, span, 5)
    ax.set(xticks=ticks, yticks=ticks, xlabel="$z_1$", ylabel="$z_2$", title="decoded latent grid")
    return fig
