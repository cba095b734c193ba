"""Surface Explorer through AppTest: every control path reaches a figure, nothing reaches a traceback."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lossviz import optimizers, surfaces
from lossviz.lessons import explorer
from lossviz.ui.catalog import ROOT
from tests.pagetest import assert_clean, decode, errors, figure_of_type, open_page, warnings

PAGE = str(ROOT / "pages/1_Surface_Explorer.py")


def _app(query=None):
    return open_page(PAGE, query, timeout=60)


def _contour(at):
    return figure_of_type(at, "contour")


def _paths(at):
    """Trajectory traces on the contour: name -> (T+1, 2) points."""
    spec = _contour(at)
    return {t["name"]: np.column_stack([decode(t["x"]), decode(t["y"])])
            for t in spec["data"] if t.get("mode") == "lines"}


def _ok(at):
    assert_clean(at)


def test_default_page_shows_the_ravine_scenario():
    at = _app()
    _ok(at)
    assert any("Ravine" in i.value for i in at.info)
    paths = _paths(at)
    assert len(paths) == 2 and all(p.shape == (61, 2) for p in paths.values())
    assert at.query_params["surface"] in ("quadratic", ["quadratic"])


@pytest.mark.parametrize("name", explorer.names())
def test_every_scenario_loads_its_surface_start_and_optimizers(name):
    at = _app()
    at.selectbox(key="explorer_scenario_pick").select(name).run()
    at.button[0].click().run()
    _ok(at)
    sc = explorer.get(name)
    assert at.session_state["surface"] == sc.surface
    assert any(sc.title in i.value for i in at.info)
    paths = _paths(at)
    assert len(paths) == len(sc.optimizers)
    for path in paths.values():
        assert np.allclose(path[0], sc.start)
        assert path.shape[0] == sc.steps + 1
    # The page races what the lesson races (and its tests check): a racer's settings the scenario leaves
    # unset are the reference's, not the Explorer's own defaults (plain Newton was damped and saddle-free).
    surface = surfaces.get(sc.surface, **sc.surface_params)
    racers = [p[0] for p in explorer.tune(surface, sc.optimizers, sc.start, sc.steps)] if sc.tune \
        else sc.optimizers
    lines = [t for t in _contour(at)["data"] if t.get("mode") == "lines"]
    for line, entry in zip(lines, explorer.race(surface, racers, sc.start, sc.steps)):
        drawn = np.column_stack([decode(line["x"]), decode(line["y"])])
        shown = np.all(np.isfinite(drawn), axis=1)  # the map cuts a path where it leaves the view
        assert shown[:2].all(), (name, line["name"])
        np.testing.assert_allclose(drawn[shown], entry.trajectory.params[shown], rtol=1e-9, atol=1e-9,
                                   err_msg=f"{name}: {line['name']}")


@pytest.mark.parametrize("name", optimizers.names())
def test_every_optimizer_runs_in_a_slot(name):
    at = _app()
    at.selectbox(key="o1_opt").select(name).run()
    _ok(at)
    assert not errors(at)
    first = [k for k in _paths(at) if k.startswith("1. ")]
    assert first and optimizers.get(name).title in first[0]


def test_every_surface_renders():
    at = _app()
    for name in surfaces.names():
        at.selectbox(key="surface").select(name).run()
        _ok(at)
        assert not errors(at), (name, errors(at))


def test_url_round_trip_reproduces_the_same_paths():
    at = _app()
    at.selectbox(key="explorer_scenario_pick").select("adam_banana").run()
    at.button[0].click().run()
    query = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    first = _paths(at)
    again = _app(query)
    _ok(again)
    assert not again.warning
    second = _paths(again)
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


LABELS = {"steps": "steps", "surface": "surface", "o1_sgd_lr": "optimizer 1: learning rate (lr)",
          "x0": "start x", "racers": "optimizers racing", "o1_opt": "optimizer 1", "formula": "f(x, y)"}


@pytest.mark.parametrize(
    "key, value",
    [("steps", "-5"), ("steps", "lots"), ("surface", "<script>"), ("o1_sgd_lr", "nan"), ("x0", "1e400"),
     ("racers", "99"), ("o1_opt", "sgdd"), ("formula", "x" * 600)],
)
def test_tampered_url_values_fall_back_with_a_notice_naming_them(key, value):
    """The notice names the setting as the sidebar labels it, never the link's internal key."""
    label = LABELS[key]
    at = _app({key: value})
    _ok(at)
    shown = warnings(at)
    assert any(f"“{label}”" in w and "ignored" in w for w in shown), shown
    assert not any(key in w.replace(label, "") for w in shown if key not in label), shown
    assert _paths(at)


def test_a_bad_custom_formula_is_an_error_message_not_a_crash():
    at = _app({"surface": "custom", "formula": "__import__('os').system('echo hi')"})
    _ok(at)
    assert errors(at)
    message = errors(at)[0]
    assert "not allowed" in message or "unknown" in message or "only these" in message, message
    # Named by the box it came from, the formula quoted (the columns an error names are counted in it).
    assert "f(x, y) = “__import__('os').system('echo hi')”: " in message, message


def test_a_custom_formula_renders_and_its_path_descends():
    at = _app({"surface": "custom", "formula": "(x-1)^2 + 2*(y+0.5)^2", "x0": "2.0", "y0": "2.0",
               "racers": "1", "o1_opt": "sgd", "o1_sgd_lr": "0.1", "steps": "100"})
    _ok(at)
    assert not errors(at)
    (path,) = _paths(at).values()
    assert np.allclose(path[-1], [1.0, -0.5], atol=1e-3)


def test_a_bad_hyperparameter_combination_shows_the_library_message():
    at = _app({"racers": "1", "o1_opt": "sgd", "o1_sgd_nesterov": "1", "o1_sgd_momentum": "0.0"})
    _ok(at)
    assert errors(at) and "nesterov" in errors(at)[0].lower()


def test_extremes_diverge_visibly_without_crashing():
    at = _app({"racers": "1", "o1_opt": "sgd", "o1_sgd_lr": "100.0", "o1_sgd_momentum": "0.999",
               "steps": "2000"})
    _ok(at)
    assert not errors(at)
    assert any("diverged" in w or "Left the view" in w for w in warnings(at))


def test_step_inspector_fills_in_the_update_for_the_chosen_step():
    at = _app()
    at.slider(key="inspect_step").set_value(3).run()
    _ok(at)
    formulas = ([m.value for m in at.get("latex") if hasattr(m, "value")]
                or [e.proto.body for e in at.markdown])
    assert any(r"\theta_{4} = \theta_{3}" in f for f in formulas)


def test_clicking_the_contour_moves_the_start():
    at = _app()
    at.session_state["contour_chart"] = {"x": 1.5004, "y": -1.4996, "id": "click-1"}
    at.run()
    _ok(at)
    assert at.session_state["x0"] == 1.5 and at.session_state["y0"] == -1.5
    assert all(np.allclose(p[0], [1.5, -1.5]) for p in _paths(at).values())


def test_a_click_is_applied_once_and_a_new_click_again():
    """The chart keeps its last click as its value: a later rerun must not drag the start back to it."""
    at = _app()
    at.session_state["contour_chart"] = {"x": 1.0, "y": 1.0, "id": "a"}
    at.run()
    at.number_input(key="x0").set_value(-2.0).run()
    _ok(at)
    assert at.session_state["x0"] == -2.0  # the typed start holds; click "a" was already applied
    at.session_state["contour_chart"] = {"x": 1.0, "y": 1.0, "id": "b"}  # the same spot clicked again
    at.run()
    _ok(at)
    assert at.session_state["x0"] == 1.0


@pytest.mark.parametrize("bad", [{"x": "nan", "y": 0.0, "id": "c"}, {"x": None, "y": 1.0, "id": "d"},
                                 {"id": "e"}])
def test_a_malformed_click_is_refused_with_a_message(bad):
    at = _app()
    at.session_state["contour_chart"] = bad
    at.run()
    _ok(at)
    assert at.session_state["x0"] == -2.8
    assert any("clicked x" in e for e in errors(at))


def test_the_pytorch_code_names_every_racer_and_its_torch_optimizer():
    at = _app()
    at.selectbox(key="o2_opt").select("adam").run()
    _ok(at)
    (code,) = [c.value for c in at.code]
    assert "# 1. SGD" in code and "# 2. Adam" in code
    assert "torch.optim.SGD(" in code and "torch.optim.Adam(" in code


CUSTOM = {"surface": "custom", "formula": "(x - 1)^2 + 5*(y + 0.5)^2", "racers": "3", "steps": "40"}


DIVERGING = {**CUSTOM, "o1_sgd_lr": "1.8", "o2_sgd_lr": "1.8"}


@pytest.mark.parametrize("query", [None, {**CUSTOM, "tune": "1"}, DIVERGING])
def test_the_pytorch_code_prints_where_each_racer_ends_on_the_map(query):
    """The page's one script, run in its own process as the user would, prints each racer's label and final
    point: the end of that racer's path on the map (a tuned race too: each at its tuned rate). The last
    case races both SGD slots at lr 1.8 on a surface whose limit is 0.2: the map ends their paths where
    they diverged (a gap), and torch's run ends as far away."""
    at = _app(query)
    _ok(at)
    (code,) = [c.value for c in at.code]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": ""})
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    printed = {label: json.loads(values) for label, values in zip(lines[::2], lines[1::2], strict=True)}
    paths = _paths(at)
    assert list(printed) == list(paths) and len(paths) == (3 if query else 2)
    diverged = [label for label, path in paths.items() if not np.isfinite(path[-1]).all()]
    assert diverged == (["1. SGD (lr 1.8)", "2. SGD (lr 1.8, momentum 0.5)"] if query is DIVERGING else [])
    for label, final in printed.items():
        if label in diverged:
            assert not np.isfinite(final).all() or np.linalg.norm(final) > 1e12, (label, final)
        else:
            np.testing.assert_allclose(final, paths[label][-1], rtol=1e-9, atol=1e-12)


def test_a_link_to_a_typed_formula_races_at_the_rates_switching_to_it_gives():
    """A shared link to a formula, with no rates in it, races at the rates the sidebar's switch to a typed
    formula gives, not at the default scenario's (SGD at 1.8 on the ravine: on x² + 3y² both racers
    diverged at once)."""
    linked = _app({"surface": "custom", "formula": "x^2 + 3*y^2"})
    switched = _app()
    switched.selectbox(key="surface").select("custom").run()
    _ok(linked)
    _ok(switched)
    for key in ("o1_sgd_lr", "o2_sgd_lr"):
        assert linked.session_state[key] == switched.session_state[key] < 1.0, key
    assert all(np.isfinite(path).all() for path in _paths(linked).values())
    assert (linked.session_state["x0"], linked.session_state["y0"]) == \
        (switched.session_state["x0"], switched.session_state["y0"])


@pytest.mark.parametrize("view, start", [
    ({"xmin": "0", "xmax": "1", "ymin": "0", "ymax": "1"}, (0.2, 0.8)),
    ({"xmin": "10", "xmax": "20", "ymin": "-7", "ymax": "-2"}, (12.0, -3.0)),
    # A bound the link gets wrong is replaced by its default, here as on the page.
    ({"xmin": "nan", "xmax": "1", "ymin": "-1", "ymax": "oops"}, (-3.0 + 0.2 * 4.0, 3.0 - 0.2 * 4.0)),
])
def test_a_link_to_a_typed_formula_starts_inside_the_links_own_view(view, start):
    """A link that narrows or moves the view and gives no start raced from the scenario's (-2.8, 2),
    outside the map; switching to a formula in the sidebar starts a fifth in from the view's corner."""
    at = _app({"surface": "custom", "formula": "(x-15)^2 + (y+4)^2 + x*y/100", **view})
    assert not at.exception
    assert (at.session_state["x0"], at.session_state["y0"]) == pytest.approx(start)
    given = _app({"surface": "custom", "formula": "x^2 + y^2", **view, "x0": "0.5", "y0": "0.25"})
    assert (given.session_state["x0"], given.session_state["y0"]) == (0.5, 0.25)


def test_a_slot_hidden_and_shown_again_keeps_its_settings():
    """Streamlit drops a hidden widget's state; without the URL memory the slot came back with lr 0."""
    at = _app()
    lr = at.session_state["o2_sgd_lr"]
    assert lr > 0
    at.slider(key="racers").set_value(1).run()
    at.slider(key="racers").set_value(3).run()
    _ok(at)
    assert at.session_state["o2_sgd_lr"] == lr
    # A third racer is a distinct optimizer (Adam), at a rate suited to this surface, not a copy of the first.
    assert at.session_state["o3_opt"] == "adam" and at.session_state["o3_adam_lr"] > 0
    assert len(_paths(at)) == 3


def test_a_one_step_race_and_a_shrinking_race_keep_the_inspector_valid():
    at = _app()
    at.slider(key="inspect_step").set_value(50).run()
    at.slider(key="steps").set_value(10).run()
    _ok(at)
    assert at.session_state["inspect_step"] == 9
    at.slider(key="steps").set_value(1).run()
    _ok(at)
    assert at.session_state["inspect_step"] == 0
    assert all(p.shape == (2, 2) for p in _paths(at).values())


def test_the_learning_rate_scrubber_moves_each_racers_head_and_hides_the_exact_rates_marks():
    """Away from the exact rates the map shows other paths: Play's heads (layout shapes, in every animation
    frame) follow them, and what belongs to the exact rates (the inspected step's arrows, the heads of
    second sequences such as ASGD's averaged iterate) hides. The browser moves a head with the rule checked
    here against the server's own heads: the scrubbed path's point at the frame's step, or its last finite
    point before."""
    at = _app({"racers": "2", "o1_opt": "sgd", "o2_opt": "asgd"})
    _ok(at)
    spec = _contour(at)
    scrub, shapes = spec["lossviz_scrub"], spec["layout"]["shapes"]
    heads = dict(scrub["heads"])
    assert len(heads) == 2 and scrub["hide_shapes"]
    assert sorted([*heads, *scrub["hide_shapes"]]) == list(range(len(shapes)))
    for shape, k in heads.items():
        assert shapes[shape]["fillcolor"] == spec["data"][scrub["traces"][k]]["line"]["color"]
        arrays = scrub["frames"][scrub["active"]][k]
        points = np.column_stack([decode(arrays["x"]), decode(arrays["y"])])
        finite = np.flatnonzero(np.all(np.isfinite(points), axis=1))
        for frame in spec["frames"]:
            x, y = points[min(int(frame["name"]), int(finite[-1]))]
            head = frame["layout"]["shapes"][shape]
            np.testing.assert_allclose([head["xanchor"], head["yanchor"]], [x, y], rtol=1e-12, atol=1e-15)
    second = [t["line"]["color"] for t in spec["data"] if "averaged iterate" in str(t.get("name"))]
    assert second and all(shapes[s]["fillcolor"] == second[0] for s in scrub["hide_shapes"])
    arrows = spec["layout"]["annotations"]
    assert arrows and all(a["showarrow"] for a in arrows)
    assert scrub["hide_annotations"] == list(range(len(arrows)))


def test_a_diverging_steps_arrows_stop_at_the_maps_edge():
    """The walk's lr 5: the update arrow (a layout annotation, which plotly does not clip) ran from the start
    down through the map's Play button and sliders. It stops at the map's edge, pointing the same way."""
    at = _app({"racers": "1", "o1_opt": "sgd", "o1_sgd_lr": "5.0"})
    _ok(at)
    spec = _contour(at)
    (x_lo, x_hi), (y_lo, y_hi) = spec["layout"]["xaxis"]["range"], spec["layout"]["yaxis"]["range"]
    arrows = spec["layout"]["annotations"]
    assert len(arrows) == 2
    for arrow in arrows:
        for x, y in ((arrow["x"], arrow["y"]), (arrow["ax"], arrow["ay"])):
            assert x_lo - 1e-9 <= x <= x_hi + 1e-9 and y_lo - 1e-9 <= y <= y_hi + 1e-9, arrow
    path = next(iter(_paths(at).values()))
    update = next(a for a in arrows if a["arrowcolor"] != "#444")
    step = path[1] - path[0]
    drawn = np.array([update["x"] - update["ax"], update["y"] - update["ay"]])
    assert np.linalg.norm(drawn) < np.linalg.norm(step)  # cut short ...
    assert abs(step[0] * drawn[1] - step[1] * drawn[0]) < 1e-9 * np.linalg.norm(step) ** 2  # ... not turned
    assert step @ drawn > 0


def test_a_formula_longer_than_the_limit_is_refused_with_its_label_and_the_last_one_kept():
    """A walk pasted a 371-character formula: the box's own limit dropped the paste without a word. It is
    refused now with the box's label and the limit, and the formula drawn stays the last one given."""
    at = _app({"surface": "custom"})
    before, drawn = at.text_input(key="formula").value, _paths(at)
    at.text_input(key="formula").set_value("x**2 + y**2" + " + 0*x" * 60).run()
    _ok(at)
    assert errors(at) == ["f(x, y): the text given has 371 characters; at most 300 are allowed, so the last "
                          "text is kept."]
    assert at.text_input(key="formula").value == before
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(_paths(at).values(), drawn.values()))
    at.text_input(key="formula").set_value("x**2 + 2*y**2").run()
    assert not errors(at) and at.text_input(key="formula").value == "x**2 + 2*y**2"


def test_an_out_of_range_start_is_noted_across_the_sidebar_not_inside_its_narrow_column():
    """A walk's start x far outside: the note stood in the half-width column under the box, a word a line."""
    at = _app()
    at.number_input(key="x0").set_value(-1e300).run()
    _ok(at)
    shown = warnings(at)
    assert any(w.startswith("start x = -1e+300 is outside the allowed range") for w in shown), shown
    in_columns = [e.proto.body for column in at.sidebar.columns for e in column.get("html")]
    assert not any("start x" in body for body in in_columns)
    assert any("start x" in e.proto.body for e in at.sidebar.get("html"))
