"""The locked environment runs the notebooks with working ipywidgets (`make lab`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BIN = Path(sys.executable).parent


def labextension_lines(name: str) -> list[str]:
    """The lines of ``jupyter labextension list`` that name the extension ``name``."""
    result = subprocess.run(
        [str(BIN / "jupyter"), "labextension", "list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [line for line in (result.stdout + result.stderr).splitlines() if name in line]


def test_jupyterlab_has_the_widget_manager_enabled():
    lines = labextension_lines("@jupyter-widgets/jupyterlab-manager")
    assert lines, "widget manager extension not installed"
    assert "enabled" in lines[0] and "OK" in lines[0], lines[0]


def test_jupyterlab_renders_myst_with_jupyterlab_myst():
    # Without it, Lab shows MyST directives and roles as raw text (tests/browser/test_lab.py
    # opens every chapter in Lab and checks what the reader sees). Lab marks this version
    # "not compatible" (X) in the listing, yet loads and renders it: only "enabled" is checked.
    lines = labextension_lines("jupyterlab-myst")
    assert lines and "enabled" in lines[0], f"jupyterlab-myst is not enabled: {lines}"


def test_live_explorer_notebook_executes_in_this_environment():
    # The book's live explorer (what a reader runs in Jupyter) in a headless kernel of this
    # venv. It fills its Output widget directly, never by capturing the cell's output
    # (`with output:` / `interact`), which can make nbclient miss the cell's reply and
    # wait until its time-out (nbclient issue #312; see linnet.widgets.live_explorer).
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import sys; print(sys.executable)"),
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "import linnet\n"
            "from linnet.widgets import explorer\n"
            "print(linnet.preconditioner_eigenvalues([[4.0, 0.0]], 2))\n"
            "def render(depth=2):\n"
            "    fig, ax = plt.subplots()\n"
            "    ax.plot([0, depth])\n"
            "    return fig\n"
            "explorer(render, {'depth': [1, 2, 3, 4]}, start={'depth': 2}, static=False)"
        ),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    printed = nb.cells[0].outputs[0]["text"].strip()
    assert Path(printed).resolve() == Path(sys.executable).resolve()
    outputs = nb.cells[1].outputs
    assert any("[[8. 4.]]" in o.get("text", "") for o in outputs)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    # The figure lives in the Output widget's state, saved with the notebook.
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    figures = [
        out
        for model in state.values()
        if model["model_name"] == "OutputModel"
        for out in model["state"].get("outputs", [])
        if "image/png" in out.get("data", {})
    ]
    assert len(figures) == 1, figures
