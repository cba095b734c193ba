"""The Learning rate & decay page through AppTest: every control path reaches its figures, the theory lines
sit where the core puts them, links reproduce the page, and bad input is a message, not a traceback."""

import numpy as np
import pytest

from lossviz import surfaces
from lossviz.lessons.learning_rate import LR_SCENARIOS, SCHEDULE_ORDER
from lossviz.ui.catalog import ROOT
from tests.pagetest import assert_clean, decode, figures, open_page

PAGE = str(ROOT / "pages/2_Learning_Rate.py")
SURFACES = [n for n in surfaces.names() if len(surfaces.get(n).minima)]


def _app(query=None):
    return open_page(PAGE, query, timeout=120)


def _ok(at):
    assert_clean(at, errors=True)


def _figures(at):
    return figures(at)  # every chart of this page is a live chart, in page order


def _trace(spec, name_start):
    matches = [t for t in spec["data"] if str(t.get("name", "")).startswith(name_start)]
    assert matches, [t.get("name") for t in spec["data"]]
    return matches[0]


def _sweep(at):
    return next(s for s in _figures(at) if any(t.get("name") == "measured final loss − minimum" for t in s["data"]))


def _query(at):
    return {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}


def test_default_page_draws_every_figure_with_the_theory_lines():
    at = _app()
    _ok(at)
    figures = _figures(at)
    assert len(figures) == 5
    sweep = _sweep(at)
    lrs = decode(_trace(sweep, "measured")["x"])
    assert lrs.size == 300
    # kappa 10: lambda_max = 1, lambda_min = 0.1, so the lines sit at 2 and 2/1.1.
    assert decode(_trace(sweep, "2/λ_max")["x"])[0] == pytest.approx(2.0)
    assert decode(_trace(sweep, "optimal")["x"])[0] == pytest.approx(2 / 1.1)
    theory, measured = decode(_trace(sweep, "theory")["y"]), decode(_trace(sweep, "measured")["y"])
    both = np.isfinite(theory) & np.isfinite(measured)
    assert both.sum() > 200
    np.testing.assert_allclose(theory[both], measured[both], rtol=1e-6)
    race_paths = [t for t in figures[0]["data"] if t.get("mode") == "lines"]
    assert len(race_paths) == 4
    assert _query(at)["lrs"] == "0.25,0.75,optimal,1.05"


@pytest.mark.parametrize("name", list(LR_SCENARIOS))
def test_every_scenario_loads_its_settings_and_lesson(name):
    at = _app()
    at.selectbox(key="scenario_pick").select(name).run()
    at.button[0].click().run()
    _ok(at)
    scenario = LR_SCENARIOS[name]
    assert any(scenario.title in info.value for info in at.info)
    for key, value in scenario.settings.items():
        assert at.session_state[key] == (list(value) if isinstance(value, tuple) else value), key
    # Moving a knob afterwards replaces the lesson with a note that it no longer applies.
    at.slider(key="steps").set_value(scenario.settings["steps"] + 10).run()
    assert not at.info and any("then changed (steps)" in c.value for c in at.caption)


@pytest.mark.parametrize("name", SURFACES)
def test_every_surface_with_a_minimum_renders(name):
    at = _app({"surface": name, "steps": "30", "n_lrs": "200"})
    _ok(at)
    assert len(_figures(at)) == 5


def test_the_condition_number_moves_the_optimal_line_and_not_the_limit():
    at = _app()
    at.slider(key="kappa").set_value(100.0).run()
    _ok(at)
    sweep = _sweep(at)
    assert decode(_trace(sweep, "2/λ_max")["x"])[0] == pytest.approx(2.0)
    assert decode(_trace(sweep, "optimal")["x"])[0] == pytest.approx(2 / 1.01)
    assert "κ = 100" in at.caption[0].value


def test_sweep_size_and_spacing_controls():
    at = _app()
    at.slider(key="n_lrs").set_value(500).run()
    at.radio(key="axis").set_value("log").run()
    _ok(at)
    sweep = _sweep(at)
    lrs = decode(_trace(sweep, "measured")["x"])
    assert lrs.size == 500 and sweep["layout"]["xaxis"]["type"] == "log"
    np.testing.assert_allclose(np.diff(np.log(lrs)), np.log(lrs[1] / lrs[0]))


def test_rates_and_schedules_controls_change_the_runs():
    at = _app()
    at.multiselect(key="lrs").set_value(["0.5", "1.01"]).run()
    at.multiselect(key="schedules").set_value(list(SCHEDULE_ORDER)).run()
    at.number_input(key="warmup").set_value(10).run()
    _ok(at)
    figures = _figures(at)
    assert len([t for t in figures[0]["data"] if t.get("mode") == "lines"]) == 2
    schedule_figure = figures[3]
    titles = [a["text"] for a in schedule_figure["layout"]["annotations"]]
    assert sum("warm-up" in t for t in titles) == len(SCHEDULE_ORDER)
    # Each lr-per-step panel starts at a third of its schedule's first rate: the warm-up is drawn.
    first_lr_panel = schedule_figure["data"][0]
    assert decode(first_lr_panel["y"])[0] == pytest.approx(0.95 * 2.0 / 3)


def test_empty_selections_ask_for_a_choice_instead_of_failing():
    at = _app()
    at.multiselect(key="lrs").set_value([]).run()
    at.multiselect(key="schedules").set_value([]).run()
    _ok(at)
    texts = [i.value for i in at.info]
    assert any("at least one rate" in t for t in texts) and any("at least one schedule" in t for t in texts)
    assert len(_figures(at)) == 2  # the sweep and the range test do not depend on the selections


def test_url_round_trip_reproduces_the_same_figures():
    at = _app()
    at.selectbox(key="surface").select("himmelblau").run()
    at.multiselect(key="lrs").set_value(["0.1", "0.9"]).run()
    at.radio(key="axis").set_value("log").run()
    first = _figures(at)
    again = _app(_query(at))
    _ok(again)
    assert not again.warning
    second = _figures(again)
    for a, b in zip(first, second, strict=True):
        assert [t.get("name") for t in a["data"]] == [t.get("name") for t in b["data"]]
    np.testing.assert_array_equal(decode(_trace(first[2], "measured")["y"]), decode(_trace(second[2], "measured")["y"]))


@pytest.mark.parametrize(
    "key, value",
    [("lrs", "0.5,2.0"), ("lrs", ""), ("schedules", "warp"), ("n_lrs", "10"), ("axis", "cubic"),
     ("surface", "<script>"), ("steps", "-5"), ("kappa", "nan"), ("base", "9")],
)
def test_tampered_url_values_fall_back_with_a_notice_naming_them(key, value):
    at = _app({key: value})
    assert not at.exception
    assert any(key in w.value and "ignored" in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(_figures(at)) == 5


def test_a_warmup_longer_than_the_run_is_an_error_message_and_the_rest_still_draws():
    at = _app({"steps": "40", "warmup": "100"})
    assert not at.exception
    assert at.error and "warmup_steps must be an integer in [0, 32]" in at.error[0].value
    assert len(_figures(at)) == 4


def test_equivalent_pytorch_code_for_a_rate_and_for_a_schedule():
    at = _app()
    code = at.get("code")[0].value
    assert "torch.optim.SGD" in code and "lr=0.5" in code
    at.selectbox(key="code_run").select("schedule: Cosine annealing").run()
    code = at.get("code")[0].value
    assert "CosineAnnealingLR(optimizer, T_max=80" in code and "scheduler.step()" in code


def test_exports_are_offered():
    at = _app()
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["Sweep (CSV)", "Trajectories (CSV)"]


def test_a_start_where_every_rate_diverges_says_so():
    at = _app({"surface": "goldstein_price"})  # the default start (-2.5, 2) lies outside its bowl
    _ok(at)
    assert any("every swept rate diverged from this start" in c.value for c in at.caption)


# ------------------------------------------------------------------------------------- custom formula
CUSTOM_QUADRATIC = "3*(x - 1)^2 + (x - 1)*(y + 2) + 2*(y + 2)^2"


def _custom(at, formula):
    at.selectbox(key="surface").select("custom").run()
    at.text_input(key="formula").input(formula).run()
    return at


def test_a_custom_formula_draws_its_theory_lines_at_the_found_curvature():
    at = _custom(_app(), CUSTOM_QUADRATIC)
    _ok(at)
    # Hessian [[6, 1], [1, 4]] at the minimum (1, -2): the lines sit at 2/λ_max and 2/(λ_max + λ_min) = 2/10.
    lambda_max = np.linalg.eigvalsh([[6.0, 1.0], [1.0, 4.0]])[-1]
    sweep = _sweep(at)
    assert decode(_trace(sweep, "2/λ_max")["x"])[0] == pytest.approx(2.0 / lambda_max)
    assert decode(_trace(sweep, "optimal")["x"])[0] == pytest.approx(0.2)
    assert any("local minimum found at (1, -2)" in c.value for c in at.caption)
    theory, measured = decode(_trace(sweep, "theory")["y"]), decode(_trace(sweep, "measured")["y"])
    both = np.isfinite(theory) & np.isfinite(measured)
    np.testing.assert_allclose(theory[both], measured[both], rtol=1e-6, atol=1e-12)
    query = _query(at)
    assert query["surface"] == "custom" and query["formula"] == CUSTOM_QUADRATIC and query["xmin"] == "-3.0"
    again = _app(query)
    _ok(again)
    assert _figures(again) == _figures(at)


def test_formula_and_domain_leave_the_url_for_a_catalogued_surface():
    at = _custom(_app(), CUSTOM_QUADRATIC)
    at.selectbox(key="surface").select("quadratic").run()
    assert not {"formula", "xmin", "xmax", "ymin", "ymax"} & set(_query(at))


@pytest.mark.parametrize("formula", ["__import__('os').system('true')", "open('/etc/passwd').read()",
                                     "(" * 120 + "x" + ")" * 120])
def test_a_hostile_formula_is_an_error_message_not_an_exception(formula):
    for at in (_custom(_app(), formula), _app({"surface": "custom", "formula": formula})):
        assert not at.exception, [e.value for e in at.exception]
        assert at.error
        assert not _figures(at)


def test_a_bad_domain_read_from_the_url_is_refused_again():
    at = _app({"surface": "custom", "formula": CUSTOM_QUADRATIC, "xmin": "5", "xmax": "-5"})
    assert not at.exception and at.error and "x" in at.error[0].value


def test_a_saddle_formula_says_there_is_no_local_minimum():
    at = _custom(_app(), "x^2 - y^2")
    assert not at.exception, [e.value for e in at.exception]
    assert any("no local minimum found from the start (-2.5, 2)" in e.value and "pick another start or formula"
               in e.value for e in at.error), [e.value for e in at.error]
    assert not _figures(at)
