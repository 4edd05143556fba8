"""The listings stored in the chapters are the package's source as it is now.

A listing cell (see book/listing.py) keeps its output in the notebook so that JupyterLab
shows it before anything runs. This test fails when the package changed and the stored
listing did not: run ``python book/listing.py`` to refresh.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
sys.path.insert(0, str(BOOK))
import listing  # noqa: E402  (book/listing.py is a helper of the book, not of vae_np)

NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))


def listing_cells(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if listing.is_listing(c)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_listings_match_source(path):
    for cell in listing_cells(path):
        assert cell["outputs"] == listing.listing_outputs("".join(cell["source"])), (
            f"{path.name}, cell {cell['id']}: stored listing differs from the package's source; "
            "run `python book/listing.py`")


def test_no_literalinclude_left():
    """JupyterLab cannot render literalinclude: every listing is a listing cell."""
    assert sum(len(listing_cells(p)) for p in NOTEBOOKS) >= 25
    for path in NOTEBOOKS:
        assert "literalinclude" not in path.read_text(encoding="utf-8"), path.name


def test_listing_is_the_source_and_fences_safely():
    import inspect
    import vae_np as vn

    text = listing.show(vn.scale_tril).data
    assert text.startswith("```python\n") and text.endswith("\n```")
    assert inspect.getsource(vn.scale_tril).strip() in text
    assert listing.fence("a = '````'").data.startswith("`````python")
    with pytest.raises(TypeError, match="show_docstring"):
        listing.show(vn.gaussian)
    with pytest.raises(TypeError, match="module name"):
        listing.show_docstring(vn.gaussian)
