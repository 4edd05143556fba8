"""The examples in the README and in docstrings run and print what they claim."""
from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import vae_np

README = Path(__file__).resolve().parent.parent / "README.md"
MODULES = sorted(m.name for m in pkgutil.iter_modules(vae_np.__path__) if m.name != "__main__")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"vae_np.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name in {"tensor", "gradcheck", "vae"}:       # the modules whose examples teach the API
        assert result.attempted > 0


def test_readme_python_examples():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    exec(compile(blocks[0], "README block 1", "exec"), namespace)     # the Tensor + gradcheck example
    for i, block in enumerate(blocks[1:], start=2):                   # training: too slow to run here,
        compile(block, f"README block {i}", "exec")                   # but it must stay valid Python
        for name in re.findall(r"\bvn\.(\w+)", block):
            assert hasattr(vae_np, name), f"README block {i} uses vn.{name}, which vae_np does not export"


def test_plots_are_reachable_from_the_package_without_importing_matplotlib_early():
    import subprocess
    import sys

    code = ("import sys, vae_np as vn; assert 'matplotlib' not in sys.modules; "
            "assert callable(vn.plots.plot_latent); assert 'matplotlib' in sys.modules")
    subprocess.run([sys.executable, "-W", "error::Warning", "-c", code], check=True)
