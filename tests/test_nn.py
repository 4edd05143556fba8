"""vae_np.nn: parameter discovery in nested containers, state dicts, save/load of any
Module (atomic, header-checked), and the layers' arguments."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

import vae_np as vn
from vae_np import nn


class Net(vn.Module):
    """A student's model: parameters in a list, a dict of modules, a tuple nested in a list."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.blocks = [vn.Linear(4, 5, rng), vn.Linear(5, 5, rng)]
        self.heads = {"mu": vn.Linear(5, 2, rng), "log_sigma": vn.Linear(5, 2, rng)}
        self.scales = [vn.Parameter(rng.standard_normal(2)), (vn.Parameter(rng.standard_normal(3)),)]
        self.not_a_parameter = [1, "two", vn.Tensor(np.ones(2)), {"x": np.ones(3)}]
        self.shared = self.blocks[0]                     # the same layer again: counted once

    def __call__(self, x):
        h = vn.tanh(self.blocks[1](vn.tanh(self.blocks[0](x))))
        return (self.heads["mu"](h) * self.scales[0]).sum() + (self.heads["log_sigma"](h)).sum() + self.scales[1][0].sum()


def test_parameters_in_lists_tuples_and_dicts_are_found_with_dotted_names():
    names = [n for n, _ in Net().named_parameters()]
    assert names == [
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
        "heads.mu.weight", "heads.mu.bias", "heads.log_sigma.weight", "heads.log_sigma.bias",
        "scales.0", "scales.1.0",
    ]


def test_every_discovered_parameter_gets_a_gradient_and_adam_moves_it():
    net = Net()
    before = {n: p.data.copy() for n, p in net.named_parameters()}
    opt = vn.Adam(net.parameters(), lr=0.1)
    net(np.ones((3, 4))).backward()
    assert all(p.grad is not None for p in net.parameters())
    opt.step()
    moved = [n for n, p in net.named_parameters() if not np.array_equal(p.data, before[n])]
    assert moved == list(before)


def test_save_then_load_by_the_same_name_round_trips(tmp_path):
    net, other = Net(0), Net(1)
    written = net.save(tmp_path / "net")
    assert written == tmp_path / "net.npz" and written.is_file()
    assert other.load(tmp_path / "net") is other                 # the name without .npz works
    for (n, p), (_, q) in zip(net.named_parameters(), other.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=n)
    with zipfile.ZipFile(written) as zf:                          # plain .npy members, no pickle
        assert sorted(zf.namelist()) == sorted(f"{n}.npy" for n, _ in net.named_parameters())


def test_a_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    net = Net(0)
    path = net.save(tmp_path / "net.npz")
    good = path.read_bytes()

    def savez_half_way(f, **arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", savez_half_way)
    with pytest.raises(OSError, match="net.npz"):
        Net(1).save(path)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["net.npz"]   # no temporary file left


def test_load_refuses_a_mismatched_file_and_leaves_the_module_unchanged(tmp_path):
    vn.Linear(4, 5, 0).save(tmp_path / "lin")
    net = Net()
    before = [p.data.copy() for p in net.parameters()]
    with pytest.raises(ValueError, match=r"lin.npz.*missing \['blocks.0.bias'"):
        net.load(tmp_path / "lin")
    assert all(np.array_equal(a, p.data) for a, p in zip(before, net.parameters()))
    with pytest.raises(FileNotFoundError, match="absent"):
        net.load(tmp_path / "absent")


def _npz_with(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _npy(arr=None, header_shape=None) -> bytes:
    """A .npy member; with ``header_shape``, a header that declares that shape over arr's bytes."""
    buf = io.BytesIO()
    if header_shape is None:
        np.lib.format.write_array(buf, arr)
    else:
        np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": header_shape})
        buf.write(arr.tobytes())
    return buf.getvalue()


def test_a_tampered_header_is_refused_before_any_array_is_read(tmp_path, monkeypatch):
    lin = vn.Linear(2, 3, 0)
    petabytes = (10**8, 10**8)                                    # 80 PB if it were allocated
    path = tmp_path / "bad.npz"
    path.write_bytes(_npz_with({"weight.npy": _npy(np.zeros((2, 3)), petabytes), "bias.npy": _npy(np.zeros(3))}))
    reads = []
    monkeypatch.setattr(np.lib.format, "read_array", lambda *a, **k: reads.append(a))
    with pytest.raises(ValueError, match=r"bad.npz.*shape \(100000000, 100000000\)"):
        lin.load(path)
    assert reads == []


def test_a_consistent_header_over_missing_data_is_refused(tmp_path):
    """Header and expected shape agree, but the member holds fewer bytes than declared."""
    path = tmp_path / "short.npz"
    path.write_bytes(_npz_with({"weight.npy": _npy(np.zeros(2), (2, 3)), "bias.npy": _npy(np.zeros(3))}))
    with pytest.raises(ValueError, match=r"short.npz.*does not match its 16 bytes"):
        vn.Linear(2, 3, 0).load(path)


def test_pickled_members_and_foreign_files_are_refused(tmp_path):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "obj.npz").write_bytes(_npz_with({"weight.npy": buf.getvalue(), "bias.npy": _npy(np.zeros(3))}))
    with pytest.raises(ValueError, match="pickle"):
        vn.Linear(2, 3, 0).load(tmp_path / "obj.npz")
    (tmp_path / "extra.npz").write_bytes(_npz_with({"weight.npy": _npy(np.zeros((2, 3))), "bias.npy": _npy(np.zeros(3)),
                                                    "run.sh": b"rm -rf /"}))
    with pytest.raises(ValueError, match="other than .npy"):
        vn.Linear(2, 3, 0).load(tmp_path / "extra.npz")


def test_load_state_dict_converts_lists_and_float32_and_checks_everything_first():
    lin = vn.Linear(2, 3, 0)
    lin.load_state_dict({"weight": [[1, 2, 3], [4, 5, 6]], "bias": np.ones(3, np.float32)})
    np.testing.assert_array_equal(lin.weight.data, [[1, 2, 3], [4, 5, 6]])
    assert lin.weight.dtype == np.float64
    before = lin.weight.data.copy()
    with pytest.raises(ValueError, match="bias"):
        lin.load_state_dict({"weight": np.zeros((2, 3)), "bias": [0.0, np.inf, 0.0]})
    np.testing.assert_array_equal(lin.weight.data, before)       # nothing half-loaded


def test_layers_accept_an_int_seed_and_a_generator_alike():
    a, b = vn.Linear(3, 2, 7), vn.Linear(3, 2, np.random.default_rng(7))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    mlp = vn.MLP((3, 4, 2), "relu", 0, np.float32)
    assert [p.dtype for p in mlp.parameters()] == [np.float32] * 4
    assert vn.MLP([3], "tanh", 0)(np.ones((2, 3))).shape == (2, 3)  # one width: the identity


def test_zero_grad_clears_every_gradient():
    net = Net()
    net(np.ones((2, 4))).backward()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_npz_path_names():
    assert nn.npz_path("run/model") .name == "model.npz"
    assert nn.npz_path("model.npz").name == "model.npz"
