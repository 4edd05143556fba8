"""Listings of the package's own source, for the book's chapters.

A chapter shows the code it explains with a code cell (tagged ``hide-input``)::

    from listing import show
    show(vn.ScaleTril)

The cell's output is a Markdown code fence built from :func:`inspect.getsource`, so the
listing is always the code that runs, and it renders the same way in the built book and
in JupyterLab (where MyST's ``literalinclude`` directive is not available).
"""
from __future__ import annotations

import importlib
import inspect
import textwrap
import types

from IPython.display import Markdown


def fence(code: str) -> Markdown:
    """``code`` as a Markdown ```` ```python ```` fence (one more backtick than it holds)."""
    longest = 0
    run = 0
    for ch in code:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    ticks = "`" * max(3, longest + 1)
    return Markdown(f"{ticks}python\n{code.rstrip()}\n{ticks}")


def show(obj: object) -> Markdown:
    """The source of a class, function or method of vae_np, as a listing.

    Parameters
    ----------
    obj : class, function or method
        Anything :func:`inspect.getsource` accepts; a method is dedented.
    """
    if isinstance(obj, types.ModuleType):
        raise TypeError(f"show: obj must be a class or function, got the module {obj.__name__}; "
                        "use show_docstring(name) for a module's docstring")
    return fence(textwrap.dedent(inspect.getsource(obj)))


def show_docstring(name: str) -> Markdown:
    """The docstring of the module called ``name`` (e.g. ``"vae_np.gradcheck"``), as it
    stands at the top of its file."""
    if not isinstance(name, str):
        raise TypeError(f"show_docstring: name must be a module name (str), got {type(name).__name__}")
    module = importlib.import_module(name)
    return fence(f'"""{module.__doc__}"""')
