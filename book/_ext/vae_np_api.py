"""Local Sphinx extension for the book's API page (book/api.md).

1. Directive ``vae-np-submodules PACKAGE``: one ``automodule`` section per public
   submodule of the *installed* package, found at build time (``pkgutil``), so the API
   reference grows with the package without editing the page. Names starting with
   ``_`` (and ``__main__``) are skipped.

2. Re-exported names resolve: ``:func:`vae_np.add``` points at the documented
   ``vae_np.ops.add`` when the package re-exports it (``from .ops import add``).
   A reference to a ``vae_np`` object that exists (it imports) but is not on the API
   page (e.g. left out of its module's ``__all__``) is shown as code, without a link
   and without a warning. A name that does not exist (a typo) still fails ``-n``.

3. Docstrings of the package are written for ``help()`` as much as for Sphinx, and use
   ``|x|`` for an absolute value. reStructuredText would read ``|x|`` as an (undefined)
   substitution, an error. In docstrings of ``vae_np`` objects only, bars outside
   backtick spans and outside table/line-block lines are escaped so they show as
   written. (Substitutions are never used in the package's docstrings.)

4. Numpydoc type fields are prose as much as names ("ndarray of shape (n, d)",
   "float64 arrays or Tensors", "callable, optional"). Sphinx turns every word group
   of a type field into a cross-reference, and under ``-n`` each one it cannot resolve
   is a warning. An unresolved reference *from a type field* (Sphinx marks those
   ``refspecific``) is shown as plain text, without a warning. Explicit roles
   (``:class:`vae_np.Tensr```, ``:func:`...```) and signatures stay strict.
"""
from __future__ import annotations

import importlib
import pkgutil
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode, nested_parse_with_titles

PACKAGE = "vae_np"


def public_submodules(package_name: str) -> list[str]:
    package = importlib.import_module(package_name)
    paths = getattr(package, "__path__", None)
    if not paths:
        return []
    names = []
    for info in pkgutil.walk_packages(paths, prefix=package_name + "."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        names.append(info.name)
    return sorted(names)


class SubmodulesDirective(SphinxDirective):
    required_arguments = 1  # the package name

    def run(self) -> list[nodes.Node]:
        lines = []
        for name in public_submodules(self.arguments[0]):
            lines += [
                f"``{name}``",
                "-" * (len(name) + 4),
                "",
                f".. automodule:: {name}",
                "   :members:",
                "   :show-inheritance:",
                "",
            ]
        if not lines:
            return []
        container = nodes.section()
        container.document = self.state.document
        source = self.get_source_info()[0]
        nested_parse_with_titles(self.state, StringList(lines, source=source), container)
        return container.children


def _exists(dotted: str) -> bool:
    """Whether ``a.b.c`` names an importable module or an attribute chain below one."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def resolve_reference(app, env, node, contnode):
    """Re-exports link to their documented home; existing undocumented names are text."""
    if node.get("refdomain") != "py":
        return None
    found = resolve_reexport(app, env, node, contnode)
    if found is not None:
        return found
    target = node.get("reftarget", "")
    module, cls = node.get("py:module") or "", node.get("py:class") or ""
    candidates = [target]
    if module:
        candidates.append(f"{module}.{target}")
        if cls:
            candidates.append(f"{module}.{cls}.{target}")
    for name in candidates:
        if name.split(".")[0] == PACKAGE and _exists(name):
            return contnode
    return None


def resolve_reexport(app, env, node, contnode):
    """``vae_np.NAME`` -> the documented ``vae_np.<module>.NAME`` it was imported from."""
    target = node.get("reftarget", "")
    head, _, name = target.rpartition(".")
    if head != PACKAGE or not name:
        return None
    try:
        obj = getattr(importlib.import_module(PACKAGE), name)
    except (ImportError, AttributeError):
        return None
    module = getattr(obj, "__module__", None)
    if not module or module == PACKAGE or not module.startswith(PACKAGE + "."):
        return None
    real = f"{module}.{name}"
    domain = env.get_domain("py")
    entry = domain.objects.get(real)
    if entry is None:
        return None
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id,
                        contnode, real)


_BACKTICK_SPAN = re.compile(r"(``.*?``|`[^`]*`)")
_BAR = re.compile(r"(?<!\\)\|")
_TABLE_OR_LINE_BLOCK = re.compile(r"\s*(\|(\s|$)|\+[-=])")


def escape_bars(app, what, name, obj, options, lines):
    """Show ``|x|`` literally in the package's docstrings (see module docstring, 3.)."""
    if not name.startswith(PACKAGE):
        return
    for i, line in enumerate(lines):
        if "|" not in line or _TABLE_OR_LINE_BLOCK.match(line):
            continue  # tables and line blocks use bars on purpose
        parts = _BACKTICK_SPAN.split(line)
        parts[::2] = [_BAR.sub(r"\\|", p) for p in parts[::2]]
        lines[i] = "".join(parts)


def type_field_words_are_prose(app, domain, node):
    """Suppress the -n warning for an unresolved type-field word (see 4. above)."""
    if (domain is not None and domain.name == "py" and node.get("refspecific")
            and node.get("reftype") in ("class", "obj", "data")):
        return True
    return None


def setup(app):
    app.add_directive("vae-np-submodules", SubmodulesDirective)
    app.connect("missing-reference", resolve_reference)
    app.connect("autodoc-process-docstring", escape_bars)
    app.connect("warn-missing-reference", type_field_words_are_prose)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
