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


def test_interact_notebook_executes_in_this_environment():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import sys; print(sys.executable)"),
        nbformat.v4.new_code_cell(
            "from ipywidgets import interact\n"
            "import linnet\n"
            "@interact(depth=(1, 4))\n"
            "def show(depth=2):\n"
            "    print(linnet.preconditioner_eigenvalues([[4.0, 0.0]], depth))"
        ),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    printed = nb.cells[0].outputs[0]["text"].strip()
    assert Path(printed).resolve() == Path(sys.executable).resolve()
    outputs = nb.cells[1].outputs
    assert any(
        o.get("output_type") == "display_data"
        and "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        for o in outputs
    )
    # interact prints into an Output widget, whose outputs live in the saved widget state.
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    printed_by_callback = [
        out.get("text", "")
        for model in state.values()
        if model["model_name"] == "OutputModel"
        for out in model["state"].get("outputs", [])
    ]
    assert any("[[8. 4.]]" in text for text in printed_by_callback), printed_by_callback
