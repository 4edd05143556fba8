"""Training: it learns, it is reproducible bit for bit, it stops cleanly on divergence and
interrupts, and its numbers agree with evaluate's."""
from __future__ import annotations

import doctest

import numpy as np
import pytest

import vae_np as vn
import vae_np.train as train_module


@pytest.fixture(scope="module")
def digits():
    return vn.load_digits()


def _small(cls=vn.FullCovVAE, seed=0, **kwargs):
    return cls(input_dim=64, hidden_dims=[32], latent_dim=2, seed=seed, **kwargs)


def _flat(model):
    return np.concatenate([p.data.ravel() for p in model.parameters()])


# ------------------------------------------------------------------ it learns, reproducibly

def test_training_lowers_the_held_out_loss(digits):
    model = _small()
    before = vn.evaluate(model, digits.x_test)["loss"]
    history = vn.fit(model, digits.x_train, x_val=digits.x_test, epochs=5, seed=0, progress=False)
    assert set(history) == set(train_module.HISTORY_KEYS)
    assert all(len(v) == 5 for v in history.values())
    assert history["val_loss"][-1] < before - 5
    np.testing.assert_allclose(np.array(history["val_loss"]),
                               np.array(history["val_kl"]) + np.array(history["val_rec"]))


def test_same_seed_same_trajectory_bit_for_bit(digits):
    runs = [vn.fit(_small(), digits.x_train[:300], epochs=3, seed=7, progress=False) for _ in range(2)]
    assert runs[0]["train_loss"] == runs[1]["train_loss"]
    other = vn.fit(_small(), digits.x_train[:300], epochs=3, seed=8, progress=False)
    assert other["train_loss"] != runs[0]["train_loss"]


@pytest.mark.parametrize("seed", [0, 3])
def test_val_loss_is_what_evaluate_reports_for_the_same_seed(digits, seed):
    model = _small()
    history = vn.fit(model, digits.x_train[:400], x_val=digits.x_test, epochs=2, seed=seed, progress=False)
    again = vn.evaluate(model, digits.x_test, seed=seed)
    assert history["val_loss"][-1] == again["loss"]
    assert history["val_kl"][-1] == again["kl"] and history["val_rec"][-1] == again["rec"]


def test_the_data_are_checked_once_and_the_model_is_told(digits, monkeypatch):
    scans, calls = [], []
    real_check, real_neg_elbo = train_module.check_data, vn.VAE.neg_elbo
    monkeypatch.setattr(train_module, "check_data", lambda x, *a: scans.append(a) or real_check(x, *a))

    def spy(self, x, eps=None, rng=None, **kwargs):
        calls.append(kwargs.get("checked"))
        return real_neg_elbo(self, x, eps, rng, **kwargs)

    monkeypatch.setattr(vn.VAE, "neg_elbo", spy)
    vn.fit(_small(), digits.x_train[:256], x_val=digits.x_test, epochs=3, batch_size=64, progress=False)
    assert [name for name, _ in scans] == ["x_train", "x_val"]          # not once per epoch
    assert len(calls) == 3 * 4 + 3 and all(calls)                       # 12 steps + 3 validations


# ----------------------------------------------------------------------------- evaluate

def test_evaluate_does_not_depend_on_the_batch_size(digits):
    model = _small()
    whole, pieces = vn.evaluate(model, digits.x_test, samples=3), vn.evaluate(model, digits.x_test, batch_size=7, samples=3)
    assert whole.keys() == pieces.keys() == {"loss", "kl", "rec", "loss_sem"}
    for key in whole:
        assert pieces[key] == pytest.approx(whole[key], rel=1e-12)


def test_evaluate_standard_error_matches_the_spread_over_seeds(digits):
    model = _small()
    vn.fit(model, digits.x_train, epochs=2, progress=False)
    x = digits.x_test[:100]
    singles = np.array([vn.evaluate(model, x, seed=s)["loss"] for s in range(40)])
    assert "loss_sem" not in vn.evaluate(model, x)               # one draw: no spread to measure
    many = vn.evaluate(model, x, samples=40, seed=1000)
    # the sem of a mean of 40 draws, times √40, is the noise of one draw
    assert many["loss_sem"] * np.sqrt(40) == pytest.approx(singles.std(ddof=1), rel=0.35)
    assert abs(many["loss"] - singles.mean()) < 4 * many["loss_sem"] * np.sqrt(2)
    few = vn.evaluate(model, x, samples=4, seed=2000)
    assert 2 < few["loss_sem"] / many["loss_sem"] < 5             # ≈ √10


# ------------------------------------------------------------------------- objectives

def test_beta_weights_the_kl(digits):
    histories = {}
    for beta in (0.25, 4.0):
        histories[beta] = vn.fit(_small(), digits.x_train, x_val=digits.x_test, epochs=8, beta=beta,
                                 progress=False)
        h = histories[beta]
        np.testing.assert_allclose(h["train_loss"], beta * np.array(h["train_kl"]) + h["train_rec"], rtol=1e-12)
        np.testing.assert_allclose(h["val_loss"], np.array(h["val_kl"]) + h["val_rec"])  # β = 1 there
    assert histories[4.0]["val_kl"][-1] < histories[0.25]["val_kl"][-1] - 1      # the rate falls with β
    assert histories[4.0]["val_rec"][-1] > histories[0.25]["val_rec"][-1] + 1    # the distortion rises


def test_a_custom_objective_trains_with_history_and_validation(digits):
    def iwae(model, xb, rng):
        return model.iwae_loss(xb, 4, rng=rng, checked=True)

    model = _small()
    history = vn.fit(model, digits.x_train, x_val=digits.x_test, loss=iwae, epochs=4, seed=2, progress=False)
    assert set(history) == {"train_loss", "val_loss"}
    assert history["val_loss"][-1] < history["val_loss"][0] - 2
    assert history["val_loss"][-1] == vn.evaluate(model, digits.x_test, seed=2, loss=iwae)["loss"]


def test_a_custom_objective_must_return_a_scalar_tensor(digits):
    with pytest.raises(TypeError, match="scalar Tensor; got float"):
        vn.fit(_small(), digits.x_train[:50], loss=lambda model, xb, rng: 1.0, epochs=1, progress=False)
    with pytest.raises(ValueError, match="beta"):
        vn.fit(_small(), digits.x_train[:50], loss=lambda m, xb, rng: m.loss(xb), beta=2.0, epochs=1, progress=False)


def test_the_models_are_elbo_models():
    model = _small()
    assert isinstance(model, vn.ELBOModel) and isinstance(model, vn.TrainableModel)
    assert not isinstance(vn.MLP([2, 3], "tanh", np.random.default_rng(0)), vn.ELBOModel)


def test_a_model_without_an_elbo_needs_a_loss(digits):
    mlp = vn.MLP([64, 2], "tanh", np.random.default_rng(0))
    with pytest.raises(TypeError, match="lacks neg_elbo, latent_dim, likelihood.*loss=fn"):
        vn.fit(mlp, digits.x_train[:10], epochs=1, progress=False)
    with pytest.raises(ValueError, match="tuple of 2 arrays.*loss=fn"):
        vn.fit(_small(), (digits.x_train, digits.y_train), epochs=1, progress=False)


# ---------------------------------------------------------------- students' own models

def _protocol_example() -> dict:
    """Run the CVAE example of vn.TrainableModel's docstring (the API page shows it) and
    return its namespace, so the test exercises the very code students read."""
    examples = doctest.DocTestParser().get_examples(vn.TrainableModel.__doc__)
    namespace: dict = {}
    for example in examples:
        exec(compile(example.source, "TrainableModel example", "exec"), namespace)
    return namespace


def test_the_documented_conditional_vae_generates_the_digit_it_is_asked_for(digits):
    ns = _protocol_example()
    model = ns["CVAE"](d=64, classes=10, m=2, hidden=64, seed=1)
    source = "\n".join(e.source for e in doctest.DocTestParser().get_examples(vn.TrainableModel.__doc__)
                       if "class CVAE" in e.source)
    assert len(source.splitlines()) <= 30
    history = vn.fit(model, (digits.x_train, digits.y_train), loss=ns["cvae_loss"], epochs=10, lr=3e-3,
                     x_val=(digits.x_test, digits.y_test), progress=False, seed=0)
    assert history["val_loss"][-1] < history["val_loss"][0] - 5
    centres = np.stack([digits.x_train[digits.y_train == c].mean(axis=0) for c in range(10)])
    z = np.random.default_rng(0).standard_normal((200, 2))
    hits = 0
    with vn.no_grad():
        for c in range(10):
            mean_image = vn.sigmoid(model.decode(z, np.full(200, c))).data.mean(axis=0)
            hits += np.argmin(((centres - mean_image) ** 2).sum(axis=1)) == c
    assert hits >= 9, f"only {hits} of 10 labels generate images nearest their own digit"


def test_module_parameters_in_lists_and_dicts_are_trained(digits):
    """A model holding its layers in a list trains every one of them."""
    class TwoHeads(vn.Module):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.heads = [vn.Linear(64, 1, rng), vn.Linear(64, 1, rng)]

    model = TwoHeads()
    before = [p.data.copy() for p in model.parameters()]
    vn.fit(model, digits.x_train[:64], epochs=1, progress=False,
           loss=lambda m, xb, rng: vn.mean(vn.square(m.heads[0](xb) - m.heads[1](xb) - 1.0)))
    assert len(before) == 4 and all(not np.array_equal(b, p.data) for b, p in zip(before, model.parameters()))


# ------------------------------------------------------------------------- optimizers

def test_an_optimizer_over_another_models_parameters_is_refused(digits):
    model, other = _small(), _small(seed=1)
    with pytest.raises(ValueError, match=f"none of the model's parameters.*Adam optimizer over {len(other.parameters())}"):
        vn.fit(model, digits.x_train[:20], epochs=1, optimizer=vn.Adam(other.parameters()), progress=False)
    with pytest.raises(TypeError, match="the class Adam"):
        vn.fit(model, digits.x_train[:20], epochs=1, optimizer=vn.Adam, progress=False)


def test_an_optimizer_over_part_of_the_model_trains_that_part_only(digits):
    model = _small()
    decoder = model.decoder.parameters()
    frozen = [p.data.copy() for p in model.encoder.parameters()]
    vn.fit(model, digits.x_train[:64], epochs=1, optimizer=vn.Adam(decoder), progress=False)
    assert all(np.array_equal(f, p.data) for f, p in zip(frozen, model.encoder.parameters()))


# ------------------------------------------------------------ divergence and interrupts

class _Scripted:
    """An objective that is the model's loss until call ``at``, then does ``what``, and
    records the parameters and optimizer state it saw at every call."""

    def __init__(self, opt, at, what):
        self.opt, self.at, self.what, self.seen = opt, at, what, []

    def __call__(self, model, xb, rng):
        self.seen.append((_flat(model), self.opt.state_dict()))
        loss = model.loss(xb, rng=rng)
        if len(self.seen) < self.at:
            return loss
        if self.what == "nan-loss":
            return loss * np.nan
        if self.what == "inf-grad":                       # finite value, infinite gradient at 0
            return loss + vn.sqrt(vn.square(model.mu_head.bias).sum() * 0.0)
        if self.what == "overflow":
            raise vn.NonFiniteError("exp(log sigma) overflowed")
        raise self.what


def _assert_state(opt, state):
    now = opt.state_dict()
    assert now["step_count"] == state["step_count"] and now["steps"] == state["steps"]
    for key in ("m", "v"):
        assert len(now[key]) == len(state[key])
        for a, b in zip(now[key], state[key]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("what", ["nan-loss", "overflow"])
def test_a_non_finite_loss_rolls_back_to_the_last_finite_step(digits, what):
    model = _small()
    opt = vn.Adam(model.parameters(), lr=1e-2)
    loss = _Scripted(opt, at=5, what=what)
    with pytest.raises(vn.TrainingError, match=r"epoch 1, step 5: .*smaller lr") as info:
        vn.fit(model, digits.x_train, epochs=1, batch_size=32, optimizer=opt, loss=loss, progress=False)
    params, state = loss.seen[3]                 # what the 4th loss, the last finite one, was computed on
    np.testing.assert_array_equal(_flat(model), params)
    _assert_state(opt, state)
    assert (info.value.epoch, info.value.step) == (1, 5)
    assert isinstance(info.value.__cause__, (FloatingPointError, vn.NonFiniteError))
    assert np.isfinite(model.loss(digits.x_train[:32], rng=np.random.default_rng(0)).item())


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_a_non_finite_gradient_makes_no_step(digits):
    model = _small()
    opt = vn.Adam(model.parameters(), lr=1e-2)
    loss = _Scripted(opt, at=3, what="inf-grad")
    with pytest.raises(vn.TrainingError, match=r"step 3: a gradient is not finite; no update"):
        vn.fit(model, digits.x_train, epochs=1, batch_size=32, optimizer=opt, loss=loss, progress=False)
    params, state = loss.seen[2]
    np.testing.assert_array_equal(_flat(model), params)
    _assert_state(opt, state)


def test_divergence_in_the_first_epochs_keeps_the_history_so_far(digits):
    model = _small()
    opt = vn.Adam(model.parameters())
    loss = _Scripted(opt, at=2 * 12 + 3, what="nan-loss")            # 12 steps per epoch of 375 rows
    with pytest.raises(vn.TrainingError, match="epoch 3, step 3") as info:
        vn.fit(model, digits.x_train[:375], epochs=5, batch_size=32, optimizer=opt, loss=loss, progress=False)
    assert len(info.value.history["train_loss"]) == 2


def test_a_real_divergence_is_reported_with_epoch_and_step(digits):
    model = _small()
    with pytest.raises(vn.TrainingError, match=r"epoch \d+, step \d+") as info:
        vn.fit(model, digits.x_train, epochs=50, optimizer=vn.SGD(model.parameters(), lr=50.0), progress=False)
    assert isinstance(info.value.__cause__, (FloatingPointError, vn.NonFiniteError))
    assert np.all(np.isfinite(_flat(model)))


@pytest.mark.parametrize("error", [ValueError("x_hat and x: shapes (32, 3) and (32, 64)"),
                                   TypeError("unsupported operand")])
def test_a_programming_error_propagates_unchanged(digits, error):
    model = _small()
    opt = vn.Adam(model.parameters())
    with pytest.raises(type(error)) as info:
        vn.fit(model, digits.x_train, epochs=1, optimizer=opt, loss=_Scripted(opt, at=2, what=error), progress=False)
    assert info.value is error and "smaller lr" not in str(info.value)


class _InterruptingBackward(vn.Function):
    def forward(self, x):
        return x.copy()

    def backward(self, g):
        raise KeyboardInterrupt


@pytest.mark.parametrize("where", ["forward", "backward"])
def test_keyboard_interrupt_leaves_the_last_completed_step(digits, where):
    model = _small()
    opt = vn.Adam(model.parameters())
    calls = []

    def loss(m, xb, rng):
        calls.append(_flat(m))
        value = m.loss(xb, rng=rng)
        if len(calls) == 4:
            if where == "forward":
                raise KeyboardInterrupt
            value = _InterruptingBackward.apply(value)
        return value

    with pytest.raises(KeyboardInterrupt):
        vn.fit(model, digits.x_train, epochs=1, optimizer=opt, loss=loss, progress=False)
    np.testing.assert_array_equal(_flat(model), calls[3])     # three whole steps, nothing torn
    assert opt.state_dict()["step_count"] == 3
    vn.fit(model, digits.x_train[:64], epochs=1, optimizer=opt, progress=False)   # and it trains on
