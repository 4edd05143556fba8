"""The chapters opened in JupyterLab, as a student opens them: nothing is left as raw MyST.

One JupyterLab server (``jupyter lab --no-browser`` on 127.0.0.1, a free port and a random
token, settings and workspaces in a temporary folder) serves a copy of ``book/``; the system
Chromium opens every ``book/*.ipynb`` in it through Playwright (with windowing off, so that
every cell renders without being scrolled to), waits until every Markdown cell has
rendered, and reads the text a reader sees in the rendered Markdown cells
and in the Markdown outputs (the stored listings of book/listing.py). The test fails on

* raw directive or role text: ```` ```{ ````, ``{literalinclude}``, ``{exercise}``,
  ``{solution}``, ``{eq}``, ``{doc}``, ``{ref}``, ``{cite}`` (jupyterlab-myst renders
  these; plain JupyterLab does not);
* raw TeX: ``$$``, ``\\(``, ``\\[``, ``\\begin``, ``\\frac`` and other TeX commands in
  visible text (math is typeset by jupyterlab-myst);
* a solution that is visible without a click: every ``{solution}`` of the notebook must be
  a closed ``<details>`` dropdown.

Skips with a message when Chromium, Playwright, JupyterLab or jupyterlab-myst is missing.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from test_book_browser import CHROMIUM_ARGS, find_chromium

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
JUPYTER = Path(sys.executable).with_name("jupyter")

RAW_MYST = re.compile(r"`{3,}\s*\{|~{3,}\s*\{|\{(literalinclude|exercise|solution|eq|doc|ref|cite|numref|math|figure)\}")
# A backslash command or a display-math delimiter in text that KaTeX should have typeset.
RAW_TEX = re.compile(r"\$\$|\\[(\[]|\\(begin|end|frac|mathbb|mathcal|operatorname|sum|log|top|sigma|mu|epsilon|partial|text|left|right|sqrt|hat|bar|cdot|le|ge)\b")

# What a reader sees; a Markdown cell not rendered yet gives null.
VISIBLE_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const markdown = [...panel.querySelectorAll('.jp-MarkdownCell')].map(c => {
    if (c.querySelector('.jp-InputPlaceholder')) return '';  // collapsed: nothing shows
    const r = c.querySelector('.jp-RenderedMySTMarkdown, .myst, .jp-RenderedMarkdown');
    return r ? r.innerText : null;
  });
  const outputs = [...panel.querySelectorAll(
      '.jp-OutputArea-output.jp-RenderedMySTMarkdown, .jp-OutputArea-output[data-mime-type="text/markdown"]')]
      .map(o => o.innerText);
  const solutions = [...panel.querySelectorAll('details')]
      .filter(d => /^\\s*Solution/.test(d.querySelector('summary')?.innerText || ''))
      .map(d => d.open);
  return {markdown, outputs, solutions};
}"""

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium not found (/usr/bin/chromium): apt-get install chromium (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    pytest.importorskip("jupyterlab_myst", reason="jupyterlab-myst not installed: pip install -r requirements.txt")
    if not JUPYTER.is_file():
        pytest.skip(f"no jupyter executable next to {sys.executable}")

    tmp = tmp_path_factory.mktemp("lab")
    settings = tmp / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell (no virtual scrolling) and keep the news pop-up away.
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    docs = tmp / "settings" / "@jupyterlab" / "docmanager-extension"
    docs.mkdir(parents=True)
    (docs / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    # JupyterLab updates a notebook's metadata when its kernel starts: serve a copy, so
    # that the repository is never written to.
    served = tmp / "served"
    shutil.copytree(ROOT / "book", served / "book", ignore=shutil.ignore_patterns("vendor", "_ext"))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
    port, token = free_port(), secrets.token_hex(16)
    log = (tmp / "lab.log").open("w")
    server = subprocess.Popen(
        [str(JUPYTER), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={served}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.extension_manager=readonly", "--LabApp.news_url=", "--allow-root"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                opener.open(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"{base}/lab?token={token}")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=120_000)
            page.evaluate("() => window.jupyterapp.started")
            try:
                yield page
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def cells_of(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def listing_outputs_in(path: Path) -> int:
    """Markdown outputs stored in the notebook (the listings of book/listing.py)."""
    return sum("text/markdown" in o.get("data", {})
               for c in cells_of(path) if c["cell_type"] == "code" for o in c.get("outputs", []))


def solutions_in(path: Path) -> int:
    """The number of ``{solution}`` dropdowns in the notebook's markdown cells.

    A gated solution (``{solution-start}`` … ``{solution-end}``, with code cells inside)
    cannot be one dropdown in JupyterLab; it is hidden instead, each of its cells collapsed
    (``jupyter.source_hidden``), which :func:`gated_solutions_hidden` checks.
    """
    cells = cells_of(path)
    return sum(len(re.findall(r"^[`~]{3,}\{solution\}", "".join(c["source"]), re.M))
               for c in cells if c["cell_type"] == "markdown")


def gated_solutions_hidden(path: Path) -> list[str]:
    """Ids of cells of gated solutions that JupyterLab would show expanded."""
    shown, inside = [], False
    for c in cells_of(path):
        text = "".join(c["source"])
        starts = c["cell_type"] == "markdown" and re.search(r"\{solution-start\}", text)
        if starts:
            inside = True
        if inside and not c.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
            shown.append(c.get("id", "?"))
        if c["cell_type"] == "markdown" and re.search(r"\{solution-end\}", text):
            inside = False
    return shown


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_renders_in_jupyterlab(lab, path):
    rel = path.relative_to(ROOT).as_posix()
    # No kernel: rendering does not need one, and each would stay running to the end.
    lab.evaluate("(p) => window.jupyterapp.commands.execute('docmanager:open', "
                 "{path: p, kernel: {shouldStart: false}}).then(() => true)", rel)
    try:
        lab.wait_for_function(
            "() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell')",
            timeout=180_000)
        # Wait until every Markdown cell has rendered.
        lab.wait_for_function(f"() => {{ const v = ({VISIBLE_JS})(); "
                              "return v && v.markdown.length && v.markdown.every(t => t !== null); }",
                              timeout=180_000)
        lab.wait_for_timeout(300)
        seen = lab.evaluate(VISIBLE_JS)
    finally:
        lab.evaluate("() => window.jupyterapp.commands.execute('application:close-all').then(() => true)")

    problems = []
    for where, texts in (("markdown cell", seen["markdown"]), ("listing output", seen["outputs"])):
        for k, text in enumerate(texts):
            for line in text.splitlines():
                if RAW_MYST.search(line) or (where == "markdown cell" and RAW_TEX.search(line)):
                    problems.append(f"{where} {k}: {line.strip()[:120]}")
    assert not problems, f"{path.name} shows raw MyST/TeX in JupyterLab:\n" + "\n".join(problems)

    expected = solutions_in(path)
    assert len(seen["solutions"]) == expected, (
        f"{path.name}: {expected} solutions in the source, {len(seen['solutions'])} dropdowns rendered")
    assert not any(seen["solutions"]), f"{path.name}: a solution is open without a click"
    shown = gated_solutions_hidden(path)
    assert not shown, f"{path.name}: cells of gated solutions shown expanded in JupyterLab: {shown}"
    listings = listing_outputs_in(path)
    assert len(seen["outputs"]) == listings, (
        f"{path.name}: {listings} stored listings, {len(seen['outputs'])} shown")
