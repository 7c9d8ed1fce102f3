"""The second way people read the book: the notebooks in JupyterLab (``make lab``).

With the ``jupyterlab-myst`` extension from the locked environment, Lab renders MyST
directives (definitions, theorems, proofs, exercises), labelled maths and references instead
of showing their source. A real JupyterLab server is started on localhost and every chapter is
opened in headless Chromium; no markdown cell may show raw directive text, nor a reference as
its bare label (``fig-ch4-spectrum``) because Lab cannot find its target. Then each chapter is
run (*Run All*, as a reader would): every number the prose quotes ({eval}`name`, evaluated by
jupyterlab-myst when a Markdown cell runs) must show its value, not its name or an error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, SCREENSHOTS

CHAPTERS = sorted(p.name for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
BIN = Path(sys.executable).parent
# Source text that must not survive rendering (directive fences and role markers).
RAW = re.compile(r":::\{?|```\{|\{prf:|\{eq\}`|\{numref\}`|\{cite:[tp]\}`|\{doc\}`|\{py:func\}`")
# A reference whose target Lab cannot find is shown as its bare label ("fig-ch4-spectrum draws
# ..."). Every label of the book has one of these prefixes, and no ordinary word of the chapters
# matches (checked against their markdown).
BARE_LABEL = re.compile(r"\b(?:fig|thm|ex|eq|lem|prop|def)-[a-z0-9]+(?:-[a-z0-9]+)*\b")
# What jupyterlab-myst logs in the console for each reference whose target it cannot find.
NOT_FOUND = re.compile(r"Cross reference target was not found: (\S+)")
# A reference written with words, {ref}`the spectrum figure <fig-ch4-spectrum>`: Lab shows the
# words even without a target. Figures are defined by code-cell metadata (``mystnb.figure``)
# and the stored notebooks have no outputs, so Lab never finds a figure and still logs
# NOT_FOUND for these references; that message is allowed for them, and only for them.
# The same holds for {prf:ref}`words <label>` to a result of another chapter: Lab renders one
# notebook at a time, so every reference across chapters carries words.
WORDED_REF = re.compile(r"\{(?:prf:)?ref\}`[^`<]+<([^<>`]+)>`")


def worded_labels(chapter: str) -> set[str]:
    """Labels that the chapter's markdown cites with words ({ref}`words <label>`)."""
    notebook = json.loads((ROOT / "book" / chapter).read_text(encoding="utf-8"))
    markdown = "".join(
        "".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown"
    )
    return set(WORDED_REF.findall(markdown))


# The notebook panel on show (other panels are hidden tabs whose cells may not be rendered).
VISIBLE = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory) -> Iterator[str]:
    settings = tmp_path_factory.mktemp("lab-settings")
    # Render every cell at once (no virtual scrolling), so that all of them can be read.
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    notices = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notices.parent.mkdir(parents=True)
    notices.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Lab may save what it opens (autosave, trust metadata): serve a copy of the book.
    book = tmp_path_factory.mktemp("lab-root") / "book"
    shutil.copytree(ROOT / "book", book)
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path_factory.mktemp("jupyter-config"))}
    server = subprocess.Popen(
        [
            str(BIN / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={book}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={tmp_path_factory.mktemp('workspaces')}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(url + "api/status", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("JupyterLab did not start")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_notebook_in_lab_shows_no_raw_myst(browser, lab, chapter):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    try:
        # A fresh workspace per chapter, so that no tab is restored from an earlier test.
        workspace = Path(chapter).stem.replace("_", "-")
        page.goto(f"{lab}lab/workspaces/{workspace}/tree/{chapter}", wait_until="load")
        page.wait_for_selector(VISIBLE + " .jp-MarkdownCell", state="attached", timeout=90_000)
        # every markdown cell of the notebook on show has been rendered
        page.wait_for_function(
            """(visible) => [...document.querySelectorAll(visible + ' .jp-MarkdownCell')]
                           .every(c => c.classList.contains('jp-mod-rendered'))""",
            arg=VISIBLE,
            timeout=60_000,
        )
        page.wait_for_timeout(1_000)
        cells = page.evaluate(
            """(visible) => [...document.querySelectorAll(visible + ' .jp-MarkdownCell')]
                     .map(c => (c.querySelector('.jp-RenderedMarkdown, .jp-RenderedMySTMarkdown,'
                                + ' .myst') || c).innerText)""",
            VISIBLE,
        )
        assert len(cells) >= 3, f"{chapter}: only {len(cells)} markdown cells rendered"
        raw = [m.group(0) + " in: " + text[:60] for text in cells if (m := RAW.search(text))]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"lab-{Path(chapter).stem}.png"))
        assert raw == [], f"{chapter}: raw MyST source shown in JupyterLab: {raw[:5]}"
        bare = [
            m.group(0) + " in: " + text[max(m.start() - 40, 0) : m.end() + 20]
            for text in cells
            for m in BARE_LABEL.finditer(text)
        ]
        assert bare == [], f"{chapter}: references shown as bare labels in JupyterLab: {bare[:5]}"
        unresolved = {label for text in console for label in NOT_FOUND.findall(text)}
        unworded = sorted(unresolved - worded_labels(chapter))
        assert unworded == [], f"{chapter}: JupyterLab cannot resolve (no words): {unworded}"
    finally:
        context.close()


# After Run All: a quoted number shown as its name (an unevaluated {eval}`ch4_x`), or a glue
# key (``ch4_spectrum_error:.0e``), or a role.
KEY = re.compile(r"\bch\d+_[a-z0-9_]+")
ROLE = re.compile(r"\{(?:eval|glue[:a-z]*)\}")
# Run All takes 5-60 s a chapter here (about 5 minutes for the nine, with the waits).
RUN_TIMEOUT_MS = 300_000


def run_all(page) -> None:
    """Run every cell of the notebook on show, as a reader does (Run > Run All Cells)."""
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached", timeout=90_000
    )
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    # every code cell has run: no prompt is empty or busy, and the kernel is idle again
    page.wait_for_function(
        r"""(visible) => {
               const prompts = [
                   ...document.querySelectorAll(visible + ' .jp-CodeCell .jp-InputPrompt')];
               return prompts.length > 0 && prompts.every(p => /\[\d+\]/.test(p.innerText));
           }""",
        arg=VISIBLE,
        timeout=RUN_TIMEOUT_MS,
        polling=1_000,
    )
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached", timeout=60_000
    )


def saved_expression_values(lab: str, chapter: str, expected: int) -> list[tuple[str, str, str]]:
    """(expression, status, text/plain) of every evaluated expression in the saved notebook.

    Waits (up to 30 s) until the save holds ``expected`` results.
    """
    deadline = time.monotonic() + 30
    while True:
        with urllib.request.urlopen(f"{lab}api/contents/{chapter}?content=1", timeout=10) as r:
            cells = json.loads(r.read())["content"]["cells"]
        values = [
            (
                e.get("expression", ""),
                e.get("result", {}).get("status", ""),
                str(e.get("result", {}).get("data", {}).get("text/plain", "")),
            )
            for c in cells
            if c["cell_type"] == "markdown"
            for e in c.get("metadata", {}).get("user_expressions", [])
        ]
        if len(values) >= expected or time.monotonic() > deadline:
            return values
        time.sleep(1)


# every notebook of the book, the appendices' too
NOTEBOOKS = sorted(p.name for p in (ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_numbers_shown_after_run_all(browser, lab, chapter):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    notebook = json.loads((ROOT / "book" / chapter).read_text(encoding="utf-8"))
    names = {
        name
        for c in notebook["cells"]
        if c["cell_type"] == "markdown"
        for name in re.findall(r"\{eval\}`([^`]*)`", "".join(c["source"]))
    }
    quoted = len(names)
    occurrences = sum(
        "".join(c["source"]).count("{eval}`")
        for c in notebook["cells"]
        if c["cell_type"] == "markdown"
    )
    # a quoted name shown as itself: generic chapter keys, and this notebook's own names
    key = re.compile(KEY.pattern + "".join(f"|\\b{re.escape(n)}\\b" for n in sorted(names)))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        workspace = "run-" + Path(chapter).stem.replace("_", "-")
        page.goto(f"{lab}lab/workspaces/{workspace}/tree/{chapter}", wait_until="load")
        page.wait_for_selector(VISIBLE + " .jp-MarkdownCell", state="attached", timeout=90_000)
        started = time.monotonic()
        run_all(page)
        # jupyterlab-myst asks the kernel for a Markdown cell's expressions when the cell runs,
        # and shows each value's text/plain in place of the expression (<code>name</code>
        # until then); the assertions below say what is left if this wait times out
        try:
            page.wait_for_function(
                """([visible, key]) =>
                       [...document.querySelectorAll(visible + ' .jp-MarkdownCell')].every(
                           (c) => !new RegExp(key).test(
                               (c.querySelector('.myst') || c).innerText))""",
                arg=[VISIBLE, key.pattern],
                timeout=60_000,
                polling=500,
            )
        except PlaywrightTimeout:
            pass
        page.wait_for_timeout(1_000)
        elapsed = time.monotonic() - started
        cells = page.evaluate(
            """(visible) => [...document.querySelectorAll(visible + ' .jp-MarkdownCell')]
                     .map(c => (c.querySelector('.myst') || c).innerText)""",
            VISIBLE,
        )
        errors = page.locator(VISIBLE + " .jp-MarkdownCell .myst-RenderedExpressionError").count()
        # every expression has a value: saved, each Markdown cell holds its expressions'
        # results (jupyterlab-myst keeps them in the cell's metadata, user_expressions)
        page.keyboard.press("Control+s")
        values = saved_expression_values(lab, chapter, occurrences)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"lab-run-{Path(chapter).stem}.png"))
        shown = [
            m.group(0) + " in: " + text[max(m.start() - 40, 0) : m.end() + 20]
            for text in cells
            for m in [*key.finditer(text), *ROLE.finditer(text)]
        ]
        assert shown == [], f"{chapter}: names or roles shown after Run All: {shown[:5]}"
        failed = [t for t in cells if re.search(r"\b(?:Name|Key|Attribute)Error\b", t)]
        assert errors == 0 and failed == [], f"{chapter}: expressions failed: {failed[:3]}"
        assert len(values) == occurrences, f"{chapter}: {len(values)} of {occurrences} evaluated"
        bad = [v for v in values if v[1] != "ok" or not v[2].strip()]
        assert bad == [], f"{chapter}: expressions without a value: {bad[:5]}"
        print(
            f"{chapter}: {occurrences} expressions ({quoted} names) shown, e.g. "
            f"{[v[2] for v in values[:3]]}; "
            f"Run All took {elapsed:.0f} s"
        )
    finally:
        context.close()
