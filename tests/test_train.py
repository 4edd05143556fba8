"""Training: it learns, it is reproducible bit for bit, and it stops cleanly on divergence."""
from __future__ import annotations

import numpy as np
import pytest

import vae_np as vn


@pytest.fixture(scope="module")
def digits():
    return vn.load_digits()


def _small(cls=vn.FullCovVAE, seed=0):
    return cls(input_dim=64, hidden_dims=[32], latent_dim=2, seed=seed)


def test_training_lowers_the_held_out_loss(digits):
    model = _small()
    before = vn.evaluate(model, digits.x_test)["loss"]
    history = vn.fit(model, digits.x_train, x_val=digits.x_test, epochs=5, seed=0, progress=False)
    assert set(history) == {"train_loss", "train_kl", "train_rec", "val_loss", "val_kl", "val_rec"}
    assert all(len(v) == 5 for v in history.values())
    assert history["val_loss"][-1] < before - 5
    np.testing.assert_allclose(np.array(history["val_loss"]),
                               np.array(history["val_kl"]) + np.array(history["val_rec"]))


def test_same_seed_same_trajectory_bit_for_bit(digits):
    runs = [vn.fit(_small(), digits.x_train[:300], epochs=3, seed=7, progress=False) for _ in range(2)]
    assert runs[0]["train_loss"] == runs[1]["train_loss"]
    other = vn.fit(_small(), digits.x_train[:300], epochs=3, seed=8, progress=False)
    assert other["train_loss"] != runs[0]["train_loss"]


def test_divergence_stops_with_epoch_and_step_and_keeps_the_last_good_parameters(digits):
    model = _small()
    opt = vn.SGD(model.parameters(), lr=50.0)     # far too large: σ = exp(log σ) overflows
    snapshots = []
    original_step = opt.step

    def step():
        original_step()
        snapshots.append(opt.flat.copy())

    opt.step = step
    with pytest.raises(vn.TrainingError, match=r"epoch \d+, step \d+") as info:
        vn.fit(model, digits.x_train, epochs=50, optimizer=opt, progress=False)
    assert snapshots, "the test needs at least one good step before the failure"
    np.testing.assert_array_equal(opt.flat, snapshots[-1])
    assert np.all(np.isfinite(opt.flat))
    assert isinstance(info.value.__cause__, (FloatingPointError, ValueError))


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": 0}, "epochs must be a positive integer"),
    ({"epochs": 1, "batch_size": 0}, "batch_size must be a positive integer"),
    ({"epochs": 1, "optimizer": "rmsprop"}, "optimizer must be"),
])
def test_bad_arguments(digits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        vn.fit(_small(), digits.x_train[:10], progress=False, **kwargs)


def test_bad_training_data_is_named(digits):
    x = digits.x_train[:20].copy()
    x[3, 5] = np.inf
    with pytest.raises(ValueError, match="x_train"):
        vn.fit(_small(), x, epochs=1, progress=False)
    with pytest.raises(ValueError, match="x_val"):
        vn.fit(_small(), digits.x_train[:20], x_val=x, epochs=1, progress=False)
