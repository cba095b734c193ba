"""docs/examples/tour.ipynb runs top to bottom in a real Jupyter kernel; git keeps it without outputs."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "docs" / "examples" / "tour.ipynb"


def test_the_committed_tour_has_no_outputs():
    notebook = nbformat.read(TOUR, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def test_the_tour_runs_in_a_kernel_and_shows_what_it_says(monkeypatch):
    # The kernel is a fresh process: it imports this checkout's lossviz.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(TOUR, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}},
                   allow_errors=False).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for cell in code:
        assert not any(output.output_type == "error" for output in cell.outputs), cell.source[:60]
    shown = [output.get("data", {}) for cell in code for output in cell.outputs]
    figures = [data for data in shown if "application/vnd.plotly.v1+json" in data]
    assert len(figures) == 7  # the race's map, curves and animation, the sweep's curves, three landscapes
    race_cell = next(c for c in code if c.source.startswith("banana = "))
    table = race_cell.outputs[0]["data"]["text/html"]
    assert "<table" in table and all(label in table for label in ("GD", "GD + momentum", "Adam"))
    plots = [f["application/vnd.plotly.v1+json"] for f in figures]
    animation = next(p for p in plots if "step 0 / 1000" in str(p["layout"].get("annotations")))
    assert len(animation["frames"]) == 40 and animation["frames"][-1]["name"] == "1000"
