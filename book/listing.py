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


# --------------------------------------------------------------------------- stored outputs
# A listing cell is a code cell tagged ``hide-input`` whose source calls show/show_docstring.
# Its output is stored in the notebook, so that JupyterLab shows the listing before any cell
# has run; tests/test_book_listings.py fails when a stored listing differs from the source
# (run ``python book/listing.py`` to refresh them). The book build re-runs every cell.

def is_listing(cell: dict) -> bool:
    """Whether a notebook cell (nbformat JSON) is a listing cell."""
    source = "".join(cell.get("source", ""))
    return (cell.get("cell_type") == "code" and "hide-input" in cell.get("metadata", {}).get("tags", [])
            and source.lstrip().startswith(("show(", "show_docstring(", "display(show")))


def listing_outputs(source: str) -> list[dict]:
    """The nbformat ``display_data`` outputs that a listing cell's source produces."""
    import vae_np as vn

    shown: list[Markdown] = []
    namespace = {"vn": vn, "show": show, "show_docstring": show_docstring, "display": shown.append}
    lines = source.strip().splitlines()
    for line in lines[:-1]:
        exec(line, namespace)
    shown.append(eval(lines[-1], namespace))
    return [{"output_type": "display_data", "metadata": {},
             "data": {"text/markdown": m.data.splitlines(True), "text/plain": ["<listing>"]}}
            for m in shown if m is not None]


def refresh(path) -> bool:
    """Store the current listings in the notebook at ``path``; True if anything changed."""
    import json
    from pathlib import Path

    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    changed = False
    for cell in nb["cells"]:
        if is_listing(cell):
            outputs = listing_outputs("".join(cell["source"]))
            if cell.get("outputs") != outputs or cell.get("execution_count") != 1:
                # nbval rejects stored outputs without an execution count
                cell["outputs"], cell["execution_count"], changed = outputs, 1, True
    if changed:
        path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    return changed


if __name__ == "__main__":
    from pathlib import Path

    for notebook in sorted(Path(__file__).parent.glob("*.ipynb")):
        if refresh(notebook):
            print(f"listings refreshed: {notebook.name}")
