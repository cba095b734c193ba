"""The Momentum page through AppTest: every control path reaches its figures, the boundary and optimum are
the theory's, a cell click shows that cell's run, links reproduce the page, bad input is a message."""
import json

import numpy as np
import pytest

from lossviz import analysis, surfaces
from lossviz.lessons.momentum import MOMENTUM_SCENARIOS
from lossviz.ui.catalog import ROOT
from tests.pagetest import assert_clean, decode, open_page

PAGE = str(ROOT / "pages/3_Momentum.py")
SURFACES = [n for n in surfaces.names() if len(surfaces.get(n).minima)]
RAVINE, RATES, PHASE, CELL = range(4)


def _app(query=None):
    return open_page(PAGE, query, timeout=120)


def _ok(at):
    assert_clean(at, errors=True)


def _figures(at):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _trace(spec, name_start):
    matches = [t for t in spec["data"] if str(t.get("name", "")).startswith(name_start)]
    assert matches, [t.get("name") for t in spec["data"]]
    return matches[0]


def _query(at):
    return {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}


def _caption(at, start):
    return next(c.value for c in at.caption if c.value.startswith(start))


def test_default_page_draws_the_ravine_the_slider_frames_and_the_phase_map():
    at = _app()
    _ok(at)
    figures = _figures(at)
    assert len(figures) == 4
    ravine = figures[RAVINE]
    assert ravine["data"][0]["type"] == "contour"
    assert len(ravine["frames"]) >= 50
    slider = ravine["layout"]["sliders"][0]
    assert slider["steps"][slider["active"]]["label"] == "0.90"
    # Every slider position is a frame that redraws (so the contour survives) only the two momentum paths.
    step_args = slider["steps"][0]["args"]
    assert step_args[1]["frame"]["redraw"] is True
    assert all(len(f["data"]) == 2 and len(f["traces"]) == 2 for f in ravine["frames"])
    phase = figures[PHASE]
    assert decode(phase["data"][0]["z"]).shape == (64, 64)
    lrs, momenta = decode(phase["data"][0]["x"]), decode(phase["data"][0]["y"])
    boundary = _trace(phase, "theory: stability boundary")
    np.testing.assert_allclose(decode(boundary["x"]), 2 * (1 + decode(boundary["y"])), rtol=1e-12)
    star = _trace(phase, "theoretical optimum")
    tuning = analysis.optimal_hyperparameters(0.01, 1.0, "heavy_ball")
    assert star["x"][0] == pytest.approx(tuning.lr) and star["y"][0] == pytest.approx(tuning.momentum)
    cells = _trace(phase, "cells")
    assert len(decode(cells["x"])) == lrs.size * momenta.size == 4096
    assert phase["layout"]["dragmode"] == "pan"
    assert "No cell clicked yet" in _caption(at, "No cell clicked")


@pytest.mark.parametrize("name", list(MOMENTUM_SCENARIOS))
def test_every_scenario_loads_its_settings_and_lesson(name):
    at = _app()
    at.selectbox(key="scenario_pick").select(name).run()
    at.button[0].click().run()
    _ok(at)
    scenario = MOMENTUM_SCENARIOS[name]
    assert any(scenario.title in info.value for info in at.info)
    for key, value in scenario.settings.items():
        assert at.session_state[key] == value, key
    at.slider(key="momentum").set_value(0.5).run()
    assert not at.info and any("then changed (momentum)" in c.value for c in at.caption)


def test_clicking_a_cell_shows_that_runs_path():
    at = _app()
    phase = _figures(at)[PHASE]
    lrs, momenta = decode(phase["data"][0]["x"]), decode(phase["data"][0]["y"])
    # What Streamlit stores when a lattice point is clicked (AppTest cannot click a plotly chart).
    at.session_state["phase_chart_0"] = {"selection": {"points": [{"x": float(lrs[12]), "y": float(momenta[20])}]}}
    at.run()
    _ok(at)
    assert _query(at)["cell_row"] == "20" and _query(at)["cell_col"] == "12"
    caption = _caption(at, "Clicked cell")
    assert f"lr {lrs[12]:.4g}, β {momenta[20]:.3f}" in caption
    figures = _figures(at)
    selected = _trace(figures[PHASE], "selected run")
    assert selected["x"][0] == pytest.approx(lrs[12]) and selected["y"][0] == pytest.approx(momenta[20])
    path = _trace(figures[CELL], f"lr {lrs[12]:.4g}")
    assert decode(path["x"]).size == 151
    # The chart got a fresh key, so the selection does not outlive the click.
    assert "phase_chart_0" not in at.session_state or not at.session_state["phase_chart_0"]


def test_a_link_with_a_cell_opens_on_that_cell():
    at = _app({"cell_row": "3", "cell_col": "60"})
    _ok(at)
    assert _caption(at, "Clicked cell").startswith("Clicked cell")
    assert "diverged" in _caption(at, "Clicked cell")  # column 60 is beyond the boundary at beta ~ 0.05


def test_nesterov_method_bends_the_boundary_and_starts_above_zero_momentum():
    at = _app()
    at.radio(key="method").set_value("nesterov").run()
    _ok(at)
    phase = _figures(at)[PHASE]
    assert decode(phase["data"][0]["y"])[0] == pytest.approx(0.01)
    boundary = _trace(phase, "theory: stability boundary (Nesterov)")
    beta = decode(boundary["y"])
    np.testing.assert_allclose(decode(boundary["x"]), 2 * (1 + beta) / (1 + 2 * beta), rtol=1e-12)


def test_metric_resolution_and_tolerance_controls():
    at = _app()
    at.radio(key="metric").set_value("steps").run()
    at.select_slider(key="side").set_value("80").run()
    at.select_slider(key="tol").set_value("1e-6").run()
    _ok(at)
    phase = _figures(at)[PHASE]
    values = decode(phase["data"][0]["z"])
    assert values.shape == (80, 80)
    reached = values[np.isfinite(values)]
    assert reached.size and reached.min() >= 1 and reached.max() <= 150
    assert "steps to 1e-06 × start distance" in phase["data"][0]["colorbar"]["title"]["text"]
    assert "Grey cells did not get within the tolerance" in _caption(at, "80×80")


def test_lr_and_momentum_sliders_set_the_three_runs_and_the_theory_rates():
    at = _app()
    at.slider(key="lr").set_value(0.8).run()
    at.slider(key="momentum").set_value(0.5).run()
    _ok(at)
    rates = _figures(at)[RATES]
    spectrum = [0.01, 1.0]
    for name, nesterov, beta in (("theory ρ = ", False, 0.0),):
        assert _trace(rates, name)
    expected = [analysis.momentum_rate(1.6, 0.0, spectrum), analysis.momentum_rate(1.6, 0.5, spectrum),
                analysis.momentum_rate(1.6, 0.5, spectrum, True)]
    names = [t["name"] for t in rates["data"] if t["name"].startswith("theory")]
    assert names == [f"theory ρ = {rho:.4g}" for rho in expected]
    assert "heavy ball β=0.5" in [t["name"] for t in rates["data"]]


@pytest.mark.parametrize("name", SURFACES)
def test_every_surface_with_a_minimum_renders(name):
    at = _app({"surface": name, "steps": "30"})
    _ok(at)
    assert len(_figures(at)) == 4


def test_url_round_trip_reproduces_the_same_figures():
    at = _app()
    at.radio(key="method").set_value("nesterov").run()
    at.slider(key="momentum").set_value(0.6).run()
    first = _figures(at)
    again = _app(_query(at))
    _ok(again)
    assert not again.warning
    second = _figures(again)
    np.testing.assert_array_equal(decode(first[PHASE]["data"][0]["z"]), decode(second[PHASE]["data"][0]["z"]))
    np.testing.assert_array_equal(decode(_trace(first[RAVINE], "heavy ball")["x"]),
                                  decode(_trace(second[RAVINE], "heavy ball")["x"]))


@pytest.mark.parametrize(
    "key, value",
    [("side", "70"), ("tol", "1e-5"), ("method", "adam"), ("metric", "speed"), ("lr", "5"), ("momentum", "1.0"),
     ("cell_row", "999"), ("steps", "lots"), ("surface", "saddle")],
)
def test_tampered_url_values_fall_back_with_a_notice_naming_them(key, value):
    at = _app({key: value})
    assert not at.exception
    assert any(key in w.value and "ignored" in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(_figures(at)) == 4


def test_a_start_at_the_minimum_is_an_error_message_and_the_rest_still_draws():
    at = _app({"x0": "0.0", "y0": "0.0"})
    assert not at.exception
    assert at.error and "x0 is already at the global minimum" in at.error[0].value
    assert len(_figures(at)) == 2  # the ravine and its rate curves; no phase map


def test_equivalent_pytorch_code_for_each_method_and_the_shown_cell():
    at = _app({"cell_row": "20", "cell_col": "12"})
    codes = [c.value for c in at.get("code")]
    assert len(codes) == 4
    phase = _figures(at)[PHASE]
    lr, beta = decode(phase["data"][0]["x"])[12], decode(phase["data"][0]["y"])[20]
    assert f"lr={float(lr)!r}" in codes[3] and f"momentum={float(beta)!r}" in codes[3]
    assert "momentum" not in codes[0].split("torch.optim.SGD")[1].split("\n")[0]
    assert "momentum=0.9" in codes[1] and "nesterov=True" not in codes[1]
    assert "momentum=0.9" in codes[2] and "nesterov=True" in codes[2]


def test_exports_are_offered():
    labels = [button.proto.label for button in _app().get("download_button")]
    assert labels == ["Phase map (CSV)", "Trajectories (CSV)"]


def test_a_start_where_every_cell_diverges_says_so():
    at = _app({"surface": "goldstein_price"})  # the default start (-2.5, 2) lies outside its bowl
    _ok(at)
    assert "every cell diverged from this start" in _caption(at, "64×64")


# ------------------------------------------------------------------------------------- custom formula
CUSTOM_QUADRATIC = "3*(x - 1)^2 + (x - 1)*(y + 2) + 2*(y + 2)^2"


def _custom(at, formula):
    at.selectbox(key="surface").select("custom").run()
    at.text_input(key="formula").input(formula).run()
    return at


def test_a_custom_formula_draws_its_boundary_and_rates_at_the_found_curvature():
    at = _custom(_app({"steps": "40"}), CUSTOM_QUADRATIC)
    _ok(at)
    # Hessian [[6, 1], [1, 4]] at the minimum (1, -2), whatever the start.
    spectrum = np.linalg.eigvalsh([[6.0, 1.0], [1.0, 4.0]])
    assert "local minimum found at (1, -2)" in _caption(at, "**Custom formula.**")
    figures = _figures(at)
    boundary = _trace(figures[PHASE], "theory: stability boundary")
    beta = decode(boundary["y"])
    np.testing.assert_allclose(decode(boundary["x"]), 2 * (1 + beta) / spectrum[-1], rtol=1e-9)
    lr = 0.5 * 2 / spectrum[-1]
    expected = [analysis.momentum_rate(lr, 0.0, spectrum), analysis.momentum_rate(lr, 0.9, spectrum),
                analysis.momentum_rate(lr, 0.9, spectrum, True)]
    names = [t["name"] for t in figures[RATES]["data"] if t["name"].startswith("theory")]
    assert names == [f"theory ρ = {rho:.4g}" for rho in expected]
    query = _query(at)
    assert query["surface"] == "custom" and query["formula"] == CUSTOM_QUADRATIC and query["ymax"] == "3.0"
    again = _app(query)
    _ok(again)
    assert _figures(again) == figures


@pytest.mark.parametrize("formula", ["__import__('os').system('true')", "(" * 120 + "x" + ")" * 120])
def test_a_hostile_formula_is_an_error_message_not_an_exception(formula):
    for at in (_custom(_app(), formula), _app({"surface": "custom", "formula": formula})):
        assert not at.exception, [e.value for e in at.exception]
        assert at.error
        assert not _figures(at)


def test_a_saddle_formula_says_there_is_no_local_minimum_and_keeps_it_in_the_link():
    at = _custom(_app(), "x^2 - y^2")
    assert not at.exception, [e.value for e in at.exception]
    assert any("no local minimum found from the start (-2.5, 2)" in e.value and "pick another start or formula"
               in e.value for e in at.error), [e.value for e in at.error]
    assert not _figures(at)
    assert _query(at)["formula"] == "x^2 - y^2"
