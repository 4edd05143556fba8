"""Tests for vae_np.plots: what each figure holds, the latent ellipses, and bad input."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # here only: the package itself never chooses a backend

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from vae_np.plots import (
    covariance_ellipse, plot_history, plot_images, plot_latent, plot_latent_grid, plot_reconstructions,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def rotation(degrees):
    t = np.radians(degrees)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def ellipses(ax):
    return [p for p in ax.patches if isinstance(p, Ellipse)]


def angle_gap(a, b):
    """Distance between two axis directions in degrees (an axis at 179° is 1° from 0°)."""
    d = (a - b) % 180.0
    return min(d, 180.0 - d)


# ----------------------------------------------------------------------- history

HISTORY = {
    "train_loss": [30.0, 25.0, 22.0, 21.0], "val_loss": [31.0, 27.0, 24.0, 23.5],
    "train_kl": [2.0, 3.0, 3.5, 3.7], "val_kl": [2.1, 3.1, 3.6, 3.8],
    "train_rec": [28.0, 22.0, 18.5, 17.3], "val_rec": [28.9, 23.9, 20.4, 19.7],
}


def test_history_two_panels_every_curve_per_epoch():
    fig = plot_history(HISTORY)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss, terms = fig.axes
    assert [line.get_label() for line in loss.lines] == ["train_loss", "val_loss"]
    assert sorted(line.get_label() for line in terms.lines) == ["train_kl", "train_rec", "val_kl", "val_rec"]
    for line in loss.lines + terms.lines:
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
        np.testing.assert_array_equal(line.get_ydata(), HISTORY[line.get_label()])
    assert "nats" in loss.get_ylabel() and loss.get_xlabel() == "epoch"


def test_history_subset_and_given_axes():
    fig, axes = plt.subplots(1, 2)
    assert plot_history({"train_loss": [3.0, 2.0], "epoch_seconds": [1.0]}, ax=axes) is fig
    assert len(axes[0].lines) == 1 and len(axes[1].lines) == 0
    assert axes[1].texts, "an empty panel should say that nothing was recorded"


@pytest.mark.parametrize("history, match", [
    ({"train_loss": [1.0, 2.0], "val_loss": [1.0]}, "equal length"),
    ({"train_loss": []}, "non-empty"),
    ({"loss": [1.0]}, "none of the keys"),
    ([1.0, 2.0], "dict"),
])
def test_history_bad_input(history, match):
    with pytest.raises(ValueError, match=match):
        plot_history(history)


def test_history_needs_two_axes():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="two Axes"):
        plot_history(HISTORY, ax=ax)


# ------------------------------------------------------------------------ images

def test_images_one_tiled_grayscale_picture_without_ticks():
    x = np.random.default_rng(0).random((23, 12))
    fig = plot_images(x, (3, 4), ncols=10, title="samples")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    (ax,) = fig.axes
    assert len(ax.images) == 1 and ax.get_title() == "samples"
    assert len(ax.get_xticks()) == 0 and len(ax.get_yticks()) == 0
    picture = np.asarray(ax.images[0].get_array())
    assert picture.shape == (3 * 5 - 2, 10 * 6 - 2)  # 3 rows of 10, two pixels between
    np.testing.assert_array_equal(picture[:3, :4], x[0].reshape(3, 4))  # first image top left
    np.testing.assert_array_equal(picture[5:8, 6:10], x[11].reshape(3, 4))  # row 2, column 2
    np.testing.assert_array_equal(picture[10:13, 12:16], x[22].reshape(3, 4))  # the last one
    assert np.isnan(picture[3:5, :]).all() and np.isnan(picture[:, 4:6]).all()  # the gaps


@pytest.mark.parametrize("images, image_shape, ncols, match", [
    (np.zeros((5, 10)), (3, 3), 10, "images must have h·w = 9 columns"),
    (np.zeros(9), (3, 3), 10, "images must be 2-D"),
    (np.zeros((5, 9)), (0, 9), 10, "image_shape"),
    (np.zeros((5, 9)), (3, 3), 0, "ncols"),
])
def test_images_bad_input(images, image_shape, ncols, match):
    with pytest.raises(ValueError, match=match):
        plot_images(images, image_shape, ncols=ncols)


def test_reconstructions_originals_above_reconstructions():
    rng = np.random.default_rng(1)
    x, x_hat = rng.random((4, 6)), rng.random((4, 6))
    fig = plot_reconstructions(x, x_hat, (2, 3), n=10)  # n above len(x) shows them all
    top, bottom = fig.axes
    assert (top.get_ylabel(), bottom.get_ylabel()) == ("original", "reconstruction")
    assert len(top.images) == len(bottom.images) == 1
    for ax, rows in ((top, x), (bottom, x_hat)):
        picture = np.asarray(ax.images[0].get_array())
        assert picture.shape == (2, 4 * 5 - 2)
        np.testing.assert_array_equal(picture[:, 15:18], rows[3].reshape(2, 3))


def test_reconstructions_bad_shapes():
    with pytest.raises(ValueError, match="same shape"):
        plot_reconstructions(np.zeros((4, 6)), np.zeros((3, 6)), (2, 3))
    with pytest.raises(ValueError, match="x_hat must have h·w"):
        plot_reconstructions(np.zeros((4, 6)), np.zeros((4, 5)), (2, 3))


# ------------------------------------------------------------- covariance ellipse

@pytest.mark.parametrize("cov, n_std, expected", [
    ([[4.0, 0.0], [0.0, 1.0]], 2.0, (8.0, 4.0, 0.0)),      # σ = (2, 1): along z₁
    ([[1.0, 0.0], [0.0, 9.0]], 1.0, (6.0, 2.0, 90.0)),     # σ = (1, 3): along z₂
    (rotation(45) @ np.diag([9.0, 1.0]) @ rotation(45).T, 2.0, (12.0, 4.0, 45.0)),
    (rotation(-30) @ np.diag([4.0, 0.25]) @ rotation(-30).T, 2.0, (8.0, 2.0, 150.0)),
])
def test_covariance_ellipse_known_cases(cov, n_std, expected):
    np.testing.assert_allclose(covariance_ellipse([0.5, -1.0], cov, n_std), expected, atol=1e-9)


@settings(deadline=None, max_examples=50)
@given(a=st.floats(0.1, 10.0), b=st.floats(0.1, 10.0), c=st.floats(-0.95, 0.95), n_std=st.floats(0.5, 3.0))
def test_covariance_ellipse_boundary_is_at_mahalanobis_distance_n_std(a, b, c, n_std):
    cov = np.array([[a * a, c * a * b], [c * a * b, b * b]])
    mean = np.array([1.0, -2.0])
    width, height, angle = covariance_ellipse(mean, cov, n_std)
    assert width >= height > 0 and 0.0 <= angle < 180.0
    phi = np.linspace(0.0, 2 * np.pi, 12)
    points = mean + (rotation(angle) @ np.stack([width / 2 * np.cos(phi), height / 2 * np.sin(phi)])).T
    d = points - mean
    mahalanobis = np.sqrt(np.einsum("ki,ki->k", d, np.linalg.solve(cov, d.T).T))
    np.testing.assert_allclose(mahalanobis, n_std, rtol=1e-6)


@pytest.mark.parametrize("mean, cov, n_std, match", [
    ([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]], 2.0, "symmetric"),
    ([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]], 2.0, "positive semi-definite"),
    ([0.0, 0.0], np.eye(3), 2.0, "cov must have shape"),
    ([0.0, 0.0, 0.0], np.eye(2), 2.0, "mean"),
    ([0.0, np.nan], np.eye(2), 2.0, "mean"),
    ([0.0, 0.0], np.eye(2), 0.0, "n_std"),
])
def test_covariance_ellipse_bad_input(mean, cov, n_std, match):
    with pytest.raises(ValueError, match=match):
        covariance_ellipse(mean, cov, n_std)


# ------------------------------------------------------------------------ latent

@pytest.fixture
def latent():
    rng = np.random.default_rng(2)
    n = 50
    mu = rng.standard_normal((n, 2))
    labels = np.arange(n) % 10
    return mu, labels, rng


def test_latent_diagonal_L_gives_axis_aligned_ellipses(latent):
    mu, labels, rng = latent
    sigma = rng.uniform(0.1, 1.0, (len(mu), 2))
    L = np.zeros((len(mu), 2, 2))
    L[:, 0, 0], L[:, 1, 1] = sigma[:, 0], sigma[:, 1]
    fig = plot_latent(mu, L, labels)
    assert isinstance(fig, Figure)
    drawn = ellipses(fig.axes[0])
    assert len(drawn) == 30  # the default n_ellipses
    for i, e in enumerate(drawn):
        expected_angle = 0.0 if sigma[i, 0] > sigma[i, 1] else 90.0
        assert e.angle == pytest.approx(expected_angle, abs=1e-9)
        assert e.width == pytest.approx(4 * sigma[i].max()) and e.height == pytest.approx(4 * sigma[i].min())
        np.testing.assert_allclose(e.center, mu[i])


def test_latent_full_L_gives_rotated_ellipses(latent):
    mu, labels, rng = latent
    angles = rng.uniform(5.0, 175.0, len(mu))
    angles[:4] = [30.0, 45.0, 60.0, 135.0]
    covs = [rotation(t) @ np.diag([1.0, 0.04]) @ rotation(t).T for t in angles]
    L = np.linalg.cholesky(np.stack(covs))  # lower triangular, Σ = LLᵀ
    drawn = ellipses(plot_latent(mu, L, labels, n_ellipses=12).axes[0])
    assert len(drawn) == 12
    for e, t in zip(drawn, angles):
        assert angle_gap(e.angle, t) < 1e-6
        assert e.width == pytest.approx(4.0) and e.height == pytest.approx(0.8)


def test_latent_without_L_or_labels(latent):
    mu, _, _ = latent
    fig = plot_latent(mu)
    assert len(fig.axes) == 1 and not ellipses(fig.axes[0])
    assert len(fig.axes[0].collections) == 1  # the scatter of means


def test_latent_digit_labels_get_a_legend_float_labels_a_colourbar(latent):
    mu, labels, _ = latent
    legend = plot_latent(mu, labels=labels).axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [str(k) for k in range(10)]
    fig = plot_latent(mu, labels=np.linspace(0.0, 1.0, len(mu)))
    assert len(fig.axes) == 2  # the scatter and its colourbar


def test_latent_draws_on_a_given_axes(latent):
    mu, _, _ = latent
    fig, (left, right) = plt.subplots(1, 2)
    L = np.broadcast_to(np.eye(2) * 0.1, (len(mu), 2, 2))
    assert plot_latent(mu, L, ax=right, n_ellipses=3) is fig
    assert len(ellipses(right)) == 3 and not ellipses(left)


@pytest.mark.parametrize("mu, L, labels, n_ellipses, match", [
    (np.zeros((5, 3)), None, None, 30, "2-D latent"),
    (np.zeros((5, 1)), None, None, 30, "mu must have 2 columns"),
    (np.zeros(5), None, None, 30, "mu must be 2-D"),
    (np.zeros((5, 2)), np.zeros((5, 2)), None, 30, r"L must have shape \(n, d, d\) with n = 5, d = 2"),
    (np.zeros((5, 2)), np.full((5, 2, 2), np.nan), None, 30, "L holds 20 non-finite"),
    (np.zeros((5, 2)), None, np.zeros(4, dtype=int), 30, r"labels must have shape \(5,\)"),
    (np.zeros((5, 2)), None, None, -1, "n_ellipses"),
])
def test_latent_bad_input(mu, L, labels, n_ellipses, match):
    with pytest.raises(ValueError, match=match):
        plot_latent(mu, L, labels, n_ellipses=n_ellipses)


# ------------------------------------------------------------------- latent grid

def test_latent_grid_places_each_decoded_point(latent):
    n, span, seen = 5, 2.0, []

    def decode(z):  # pixel 0 encodes z₁, pixel 1 encodes z₂, both mapped to [0, 1]
        seen.append(z)
        out = np.zeros((len(z), 6))
        out[:, :2] = (z + span) / (2 * span)
        return out

    fig = plot_latent_grid(decode, (2, 3), n=n, span=span)
    (z,) = seen
    assert z.shape == (n * n, 2) and z.min() == -span and z.max() == span
    (ax,) = fig.axes
    picture = np.asarray(ax.images[0].get_array())
    pad = 2  # white (NaN) pixels between the tiles, so that neighbours do not fuse
    assert picture.shape == (n * (2 + pad) - pad, n * (3 + pad) - pad)
    assert np.isnan(picture[2:4, :]).all() and np.isnan(picture[:, 3:5]).all()
    assert tuple(picture[0, :2]) == (0.0, 1.0)  # top left: z = (−span, +span)
    assert tuple(picture[-2, -3:-1]) == (1.0, 0.0)  # bottom right: z = (+span, −span)
    left, right, bottom, top = ax.images[0].get_extent()
    assert left < -span < span < right and bottom < -span < span < top
    # the centre of the tile in column j, row i sits at its latent point
    x_per_px, y_per_px = (right - left) / picture.shape[1], (top - bottom) / picture.shape[0]
    z_grid = np.linspace(-span, span, n)
    for j in range(n):
        np.testing.assert_allclose(left + x_per_px * (j * (3 + pad) + 1.5), z_grid[j], atol=1e-12)
        np.testing.assert_allclose(top - y_per_px * (j * (2 + pad) + 1.0), z_grid[::-1][j], atol=1e-12)


@pytest.mark.parametrize("decode, n, span, match", [
    (lambda z: np.zeros((len(z), 5)), 3, 1.0, r"decode\(z\) must have h·w = 6"),
    (lambda z: np.zeros((len(z) - 1, 6)), 3, 1.0, r"decode\(z\) must return one image per latent point"),
    (lambda z: np.zeros((len(z), 6)), 1, 1.0, "n must be"),
    (lambda z: np.zeros((len(z), 6)), 3, 0.0, "span"),
])
def test_latent_grid_bad_input(decode, n, span, match):
    with pytest.raises(ValueError, match=match):
        plot_latent_grid(decode, (2, 3), n=n, span=span)
