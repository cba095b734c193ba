"""The Batch size page through AppTest: every control path reaches its figures, never a traceback."""
import re

import numpy as np
import pytest

from lossviz.lessons import batch_size as minibatch
from lossviz.ui.catalog import ROOT
from tests.pagetest import (
    HOSTILE_NAMES, assert_clean, assert_literal_notices, assert_notice_names_the_label, decode, errors,
    figures, notices, open_measured, open_page, run_script, warnings,
)

PAGE = str(ROOT / "pages/5_Batch_Size.py")


def _app(query=None):
    return open_page(PAGE, query, timeout=240)


def _ok(at):
    assert_clean(at)


def _figure(at, name):
    for spec in figures(at):
        if any(t.get("name") == name for t in spec["data"]):
            return spec
    raise AssertionError(f"no figure with a trace {name!r}")


def _paths_map(at):
    return next(spec for spec in figures(at) if "lossviz_scrub" in spec)


def _trace(spec, name):
    return next(t for t in spec["data"] if t.get("name") == name)


def _xy(trace):
    return np.column_stack([decode(trace["x"]), decode(trace["y"])])


def _path(at, name):
    return _xy(_trace(_paths_map(at), name))


def test_default_page_draws_every_batch_size_and_full_batch():
    at = _app()
    _ok(at)
    assert len(figures(at)) == 5 and not at.get("plotly_chart")  # every chart is a live chart
    for name in ("B = 1", "B = 8", "B = 64", "full batch (GD)"):
        path = _path(at, name)
        assert path.shape == (201, 2) and np.allclose(path[0], [-1.0, 1.5])
    assert not np.allclose(_path(at, "B = 1"), _path(at, "B = 64"))
    names = [t["name"] for t in _figure(at, "full-batch gradient")["data"]]
    assert {"B = 1: theory, 2σ", "full-batch gradient"} <= set(names)
    assert at.query_params["batches"] in ("1,8,64", ["1,8,64"])
    assert {b.proto.label for b in at.get("download_button")} - {"PNG", "SVG"} == {
        "Paths (CSV)", "Gradient clouds (CSV)", "Noise balls (CSV)"}  # and each chart for slides
    (code,) = [c.value for c in at.code]
    assert "torch.optim.SGD" in code and "rng.integers" in code and "import lossviz" not in code


def test_the_default_picture_tells_the_truth():
    """The default scenario's lesson, checked on the default picture: "with one sample per step the path
    zig-zags around the full-batch path and ends in a wide noise ball; with 64 it hugs gradient descent.
    Near the minimum the ball's area shrinks like 1/B.\""""
    at = _app()
    _ok(at)
    sc = minibatch.SCENARIOS[minibatch.DEFAULT_SCENARIO]
    assert any(sc.title in i.value for i in at.info)
    gd = _path(at, "full batch (GD)")
    away = {b: np.max(np.linalg.norm(_path(at, f"B = {b}") - gd, axis=1)) for b in (1, 64)}
    assert away[64] < away[1] / 3
    ball = _figure(at, "B = 1: iterates")

    def area(name):  # the drawn 2-sigma ellipse, by the shoelace formula
        x, y = _xy(_trace(ball, name)).T
        return 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))

    assert area("B = 1: theory, 2σ") / area("B = 64: theory, 2σ") == pytest.approx(64, rel=0.15)
    spread = {b: np.sqrt(np.trace(np.cov(_xy(_trace(ball, f"B = {b}: iterates")).T))) for b in (1, 64)}
    assert spread[1] > 4 * spread[64]  # the wide ball is B = 1's


@pytest.mark.parametrize("name", list(minibatch.SCENARIOS))
def test_every_scenario_loads_its_settings_and_lesson(name):
    at = _app()
    at.selectbox(key="batch_size_scenario_pick").select(name).run()
    at.button(key="batch_size_load").click().run()
    _ok(at)
    sc = minibatch.SCENARIOS[name]
    assert at.session_state["problem"] == sc.problem and at.session_state["lr"] == sc.lr
    assert list(at.session_state["batches"]) == list(sc.batch_sizes)
    assert any(sc.title in i.value for i in at.info)
    for size in sc.batch_sizes:
        assert _path(at, f"B = {size}").shape == (sc.steps + 1, 2)
    at.number_input(key="seed").set_value(7).run()
    assert not at.info and any("then changed (seed (batch order))" in c.value for c in at.caption)


def _load(name):
    at = _app()
    at.selectbox(key="batch_size_scenario_pick").select(name).run()
    at.button(key="batch_size_load").click().run()
    _ok(at)
    return at


def _words(at):
    """Every word the page shows a reader: captions, text, the lesson box, notices, and on the charts their
    notes and the scrubbers' labels."""
    shown = [e.value for e in (*at.caption, *at.markdown, *at.info, *at.warning, *at.error)] + notices(at)
    for spec in figures(at):
        shown += [a["text"] for a in spec["layout"].get("annotations", [])]
        shown += spec.get("lossviz_scrub", {}).get("values", [])
    return shown


def test_no_word_of_the_small_batch_scenario_is_a_raw_inf_or_nan():
    """The noise-ball caption printed "B = 1: 8.58 (theory inf)"; a diverged run's scrubber label would
    print "loss − min nan". Each says what it means instead."""
    at = _load("small_batch_unstable")
    words = _words(at)
    assert any("no finite theory value: unstable in mean square" in w for w in words)
    raw = [w for w in words if re.search(r"\b(inf|nan)\b", w, re.IGNORECASE)]
    assert not raw, raw


def test_the_small_batch_scenario_tells_the_truth_about_its_runs():
    """"Small batches go unstable first", against what the page measures and draws: at the scenario's rate
    B = 1's loss shoots up from where it started and the run diverges at the step the text names, while the
    larger batches (and gradient descent) settle into noise balls the theory's size (15%)."""
    from tests.pagetest import chart

    at = _load("small_batch_unstable")
    sc = minibatch.SCENARIOS["small_batch_unstable"]
    step = int(re.search(r"diverges, at step (\d+)", sc.explanation).group(1))
    small, *large = sc.batch_sizes
    losses = {t["name"]: decode(t["y"]) for t in chart(at, "losses")["data"]}
    paths, balls = (next(c.value for c in at.caption if c.value.startswith(words))
                    for words in ("Loss above the minimum", "SGD started at the minimum"))
    assert f"B = {small}: diverged at step {step};" in paths
    assert np.nanmax(losses[f"B = {small}"][:step]) > 1e6 * losses[f"B = {small}"][0]
    assert np.all(np.isnan(_path(at, f"B = {small}")[step + 1:]))
    assert f"B = {small}: diverged (no finite theory value: unstable in mean square)" in balls
    for name in [f"B = {b}" for b in large] + ["full batch (GD)"]:
        assert np.all(np.isfinite(_path(at, name))) and f"{name}: diverged" not in paths
        assert np.nan_to_num(losses[name][-1]) < 0.05 * losses[name][0]
    for b in large:
        found = re.search(rf"B = {b}: ([\d.e+-]+) \(theory ([\d.e+-]+)\)", balls)
        measured, theory = map(float, found.groups())
        assert measured == pytest.approx(theory, rel=0.15)


def test_problem_switch_takes_its_start_and_learning_rate():
    at = _app()
    at.selectbox(key="problem").select("breast_cancer_radius").run()
    _ok(at)
    spec = minibatch.PROBLEMS["breast_cancer_radius"]
    assert (at.session_state["x0"], at.session_state["y0"]) == spec.start
    assert at.session_state["lr"] == spec.lr
    assert np.allclose(_path(at, "B = 1")[0], spec.start)
    assert _figure(at, "full-batch gradient")["layout"]["xaxis"]["title"]["text"] == "∂L/∂w1"


def test_reshuffled_epochs_change_the_code_and_the_caption():
    at = _app()
    at.radio(key="sampling").set_value("reshuffle").run()
    _ok(at)
    assert all("rng.permutation" in c.value and "rng.integers" not in c.value for c in at.code)
    assert any("reshuffled epochs cancel their noise" in c.value for c in at.caption)


def test_batch_sizes_and_an_empty_choice():
    at = _app()
    at.multiselect(key="batches").set_value([2, 32]).run()
    _ok(at)
    names = {t.get("name") for t in _paths_map(at)["data"]}
    assert {"B = 2", "B = 32"} <= names and "B = 1" not in names
    rows = {t["name"] for t in _figure(at, "B = 2: measured")["data"]}
    assert rows == {"B = 2: measured", "B = 2: theory", "B = 32: measured", "B = 32: theory"}
    at.multiselect(key="batches").set_value([]).run()
    _ok(at)
    assert any("choose at least one" in e for e in errors(at))


def test_cloud_at_the_minimum_surrounds_a_zero_gradient():
    at = _app()
    at.radio(key="cloud_at").set_value("minimum").run()
    _ok(at)
    star = _xy(_trace(_figure(at, "full-batch gradient"), "full-batch gradient"))[0]
    assert np.all(np.abs(star) < 1e-10)
    assert at.query_params["cloud_at"] in ("minimum", ["minimum"])


def test_a_diverging_learning_rate_is_reported_not_a_traceback():
    at = _app()
    at.number_input(key="lr").set_value(5.0).run()
    _ok(at)
    assert len(figures(at)) == 5
    assert any("B = 1: diverged" in c.value for c in at.caption)


def test_url_round_trip_reproduces_the_picture():
    query = {"problem": "synthetic_line", "sampling": "reshuffle", "lr": "0.1", "batches": "2,16",
             "steps": "50", "seed": "3", "x0": "0.5", "y0": "-2.0", "cloud_at": "minimum"}
    at = _app(query)
    _ok(at)
    assert not warnings(at)
    assert {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()} == query
    objective, _ = minibatch.build_problem("synthetic_line")
    expected = minibatch.sgd_run(objective, 0.1, 16, 50, [0.5, -2.0], seed=3, sampling="reshuffle").params
    np.testing.assert_allclose(_path(at, "B = 16"), expected, rtol=1e-12, atol=1e-14)


def test_the_batch_size_scrubber_replays_every_batch_size():
    at = _app({"batches": "1,64", "steps": "120", "seed": "5"})
    _ok(at)
    spec = _paths_map(at)
    scrub = spec["lossviz_scrub"]
    assert scrub["label"] == "batch size" and scrub["active"] == 0
    assert scrub["values"][0] == "your batch sizes (1, 64)" and len(scrub["frames"]) == 9
    (scrubbed,) = [spec["data"][i]["name"] for i in scrub["traces"]]
    assert scrubbed == "B on the slider" and len(decode(_trace(spec, scrubbed)["x"])) == 0
    hidden = {spec["data"][i]["name"] for i in scrub["hide"]}
    assert {"B = 1", "B = 64"} <= hidden and "full batch (GD)" not in hidden
    objective, _ = minibatch.build_problem("diabetes_bmi")
    for frame, value, size in zip(scrub["frames"][1:], scrub["values"][1:], minibatch.BATCH_OPTIONS):
        assert value.startswith(f"B = {size}:")
        run = minibatch.sgd_run(objective, 0.05, size, 120, [-1.0, 1.5], seed=5, sampling="independent")
        shown = np.column_stack([decode(frame[0]["x"]), decode(frame[0]["y"])])
        np.testing.assert_allclose(shown, run.params, rtol=1e-12, atol=1e-14)
        assert f"{run.loss[-1] - objective.f(minibatch.minimizer(objective)):.3g}" in value
    for size in (1, 64):  # the chosen sizes' own paths are the scrubber's frames at those sizes
        frame = scrub["frames"][1 + minibatch.BATCH_OPTIONS.index(size)][0]
        np.testing.assert_array_equal(decode(frame["x"]), _path(at, f"B = {size}")[:, 0])
    # Play's heads (layout shapes, in every animation frame): the chosen sizes' hide away from "your batch
    # sizes"; the slider's path has its own head, hidden at that position (which has no such path) and
    # moved along the path by the browser elsewhere; gradient descent's stays.
    shapes = spec["layout"]["shapes"]
    names = ("B = 1", "B = 64", "full batch (GD)", scrubbed)
    colors = [_trace(spec, name)["line"]["color"] for name in names]
    assert [shape["fillcolor"] for shape in shapes] == colors
    assert scrub["hide_shapes"] == [0, 1] and scrub["heads"] == [[3, 0]]
    assert shapes[3]["visible"] is False and all("visible" not in shape for shape in shapes[:3])
    framed = [frame["layout"]["shapes"] for frame in spec["frames"]]
    assert framed and all(len(heads) == 4 and heads[3]["visible"] is False for heads in framed)


@pytest.mark.parametrize(("key", "value", "label", "words"), [
    ("batches", "1,3", "batch sizes", "must list some of 1, 2, 4, 8, 16, 32, 64, 128"),
    ("batches", "1,x", "batch sizes", "must list some of"),
    ("batches", "1,2,4,8,16", "batch sizes", "must list 1 to 4 of them, not 5"),
    ("batches", "1,2,4,8,16,32,64,128,1,2", "batch sizes", "not 8"),
    ("batches", "", "batch sizes", "not 0"),
    ("lr", "-1", "learning rate", "must be a number in [0.0001, 10]"),
    ("problem", "mnist", "problem", "must be one of diabetes_bmi"),
    ("cloud_at", "center", "gradient cloud at", "must be one of start, minimum"),
])
def test_bad_url_values_fall_back_with_a_notice_naming_the_label(key, value, label, words):
    """List values are checked for count as well as membership (issue 14, hole 6), and the notice names
    what the user sees, never the link's key."""
    at = _app({key: value})
    _ok(at)
    assert_notice_names_the_label(at, key, label, words)
    assert len(figures(at)) == 5


def test_a_default_visit_shows_no_notice():
    at = _app()
    assert not warnings(at) and not errors(at)


@pytest.mark.parametrize("value", HOSTILE_NAMES)
def test_hostile_link_values_are_shown_literally(value):
    at = _app({"batches": value, "problem": value})
    _ok(at)
    assert_literal_notices(at, value, 2)
    assert len(figures(at)) == 5


def test_the_pytorch_code_prints_the_pages_numbers(tmp_path):
    """The page's one script, run as the user would copy it, prints every path's end as the page draws it."""
    at = _app({"batches": "2,32", "steps": "80", "sampling": "reshuffle", "seed": "9"})
    _ok(at)
    (code,) = [c.value for c in at.code]
    printed = run_script(code, tmp_path, "batch.py")
    assert [p["batch_size"] for p in printed] == [2, 32, None]
    solved = minibatch.solve("diabetes_bmi")
    curves = next(spec for spec in figures(at) if spec["layout"]["xaxis"]["title"]["text"] == "step")
    for result in printed:
        name = "full batch (GD)" if result["batch_size"] is None else f"B = {result['batch_size']}"
        final = list(result["params"].values())
        np.testing.assert_allclose(final, _path(at, name)[-1], rtol=1e-10, atol=1e-12)
        above = decode(_trace(curves, name)["y"])[-1]  # the loss chart: loss above the minimum
        assert result["loss"] - solved.min_loss == pytest.approx(above, rel=1e-8, abs=1e-14)


def test_the_largest_link_stays_within_the_budget():
    """Every setting at its most expensive end: within 3 s of CPU and 300 MB, or refused naming a setting."""
    query = {"problem": "breast_cancer_radius", "sampling": "independent", "lr": "10.0",
             "batches": "1,32,64,128", "steps": "2000", "seed": "10000", "x0": "10.0", "y0": "-10.0",
             "cloud_at": "start"}
    at, cpu, peak = open_measured(PAGE, query)
    _ok(at)
    refused = [e for e in errors(at) if "was not computed" in e]
    assert cpu < 3.0 or any("batch sizes" in e or "steps" in e for e in refused), (cpu, refused)
    assert peak < 300 * 2**20, peak
    assert len(figures(at)) == 5 or refused


def test_the_default_visit_finds_the_slow_part_warmed_at_server_start(monkeypatch):
    """``lossviz app`` solves the default problem and measures its noise balls before the server starts
    (lossviz.ui.cache.warm_pages: about 1.1 s of the page's first visit); the default visit then computes
    neither again, and draws the same page."""
    from lossviz.ui import cache

    cache.warm_pages()
    for name in ("solve", "balls_view"):
        monkeypatch.setattr(minibatch, name,
                            lambda *a, _name=name, **k: pytest.fail(f"{_name} computed again"))
    at = _app()
    _ok(at)
    assert len(figures(at)) >= 4


def test_charts_left_empty_by_diverged_runs_say_why():
    """A walk's lr 10: every run diverged, and the noise-ball map (zoomed onto the star) and the scaling
    chart (axes and a legend) were empty with nothing on them saying so."""
    from tests.pagetest import chart

    at = _app({"lr": "10"})
    _ok(at)
    ball, scaling = chart(at, "ball"), chart(at, "scaling")
    assert not any(t.get("name", "").endswith("iterates") and np.isfinite(decode(t["x"])).any()
                   for t in ball["data"])
    assert [a["text"] for a in ball["layout"]["annotations"]] == [
        "Every run diverged at this learning rate: no iterates to show.<br>Lower the learning rate."]
    assert [a["text"] for a in scaling["layout"]["annotations"]] == [
        "Every run of the sweep diverged: no noise ball to measure."]
    at = _app()
    assert not chart(at, "ball")["layout"].get("annotations") and not chart(at, "scaling")["layout"].get(
        "annotations")
