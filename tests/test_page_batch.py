"""The Batch size page through AppTest: every control path reaches its figures, never a traceback."""
import base64
import json

import numpy as np
import pytest

from lossviz.lessons import batch_size as minibatch
from lossviz.ui.catalog import ROOT
from tests.pagetest import assert_clean, open_page

PAGE = str(ROOT / "pages/5_Batch_Size.py")
PATHS, LOSS, CLOUD, BALL, SCALING = range(5)


def _app(query=None):
    return open_page(PAGE, query, timeout=240)


def _ok(at):
    assert_clean(at)


def _values(array):
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))
    return np.asarray(array, dtype=float)


def _figure(at, index):
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def _trace(at, index, name):
    for trace in _figure(at, index)["data"]:
        if trace.get("name") == name:
            return trace
    raise AssertionError(f"no trace {name!r} in figure {index}")


def _path(at, name):
    trace = _trace(at, PATHS, name)
    return np.column_stack([_values(trace["x"]), _values(trace["y"])])


def test_default_page_draws_every_batch_size_and_full_batch():
    at = _app()
    _ok(at)
    assert len(at.get("plotly_chart")) == 5
    for name in ("B = 1", "B = 8", "B = 64", "full batch (GD)"):
        path = _path(at, name)
        assert path.shape == (201, 2) and np.allclose(path[0], [-1.0, 1.5])
    assert not np.allclose(_path(at, "B = 1"), _path(at, "B = 64"))
    names = [t["name"] for t in _figure(at, CLOUD)["data"]]
    assert {"B = 1: theory, 2σ", "full-batch gradient"} <= set(names)
    assert at.query_params["batches"] in ("1,8,64", ["1,8,64"])
    assert {b.proto.label for b in at.get("download_button")} == {"Paths (CSV)", "Gradient clouds (CSV)",
                                                                   "Noise balls (CSV)"}
    codes = [c.value for c in at.code]
    assert len(codes) == 3 and all("torch.optim.SGD" in c and "rng.integers" in c for c in codes)


@pytest.mark.parametrize("name", list(minibatch.SCENARIOS))
def test_every_scenario_loads_its_settings_and_lesson(name):
    at = _app()
    at.selectbox(key="scenario_pick").select(name).run()
    at.button[0].click().run()
    _ok(at)
    sc = minibatch.SCENARIOS[name]
    assert at.session_state["problem"] == sc.problem and at.session_state["lr"] == sc.lr
    assert list(at.session_state["batches"]) == list(sc.batch_sizes)
    assert any(sc.title in i.value for i in at.info)
    for size in sc.batch_sizes:
        assert _path(at, f"B = {size}").shape == (sc.steps + 1, 2)
    at.number_input(key="seed").set_value(7).run()
    assert not at.info and any("then changed (seed)" in c.value for c in at.caption)


def test_problem_switch_takes_its_start_and_learning_rate():
    at = _app()
    at.selectbox(key="problem").select("breast_cancer_radius").run()
    _ok(at)
    spec = minibatch.PROBLEMS["breast_cancer_radius"]
    assert (at.session_state["x0"], at.session_state["y0"]) == spec.start
    assert at.session_state["lr"] == spec.lr
    assert np.allclose(_path(at, "B = 1")[0], spec.start)
    assert _figure(at, CLOUD)["layout"]["xaxis"]["title"]["text"] == "∂L/∂w1"


def test_reshuffled_epochs_change_the_code_and_the_caption():
    at = _app()
    at.radio(key="sampling").set_value("reshuffle").run()
    _ok(at)
    assert all("minibatch_indices" in c.value for c in at.code)
    assert any("reshuffled epochs cancel their noise" in c.value for c in at.caption)


def test_batch_sizes_and_an_empty_choice():
    at = _app()
    at.multiselect(key="batches").set_value([2, 32]).run()
    _ok(at)
    names = {t["name"] for t in _figure(at, PATHS)["data"]}
    assert {"B = 2", "B = 32"} <= names and "B = 1" not in names
    rows = {t["name"] for t in _figure(at, SCALING)["data"]}
    assert rows == {"B = 2: measured", "B = 2: theory", "B = 32: measured", "B = 32: theory"}
    at.multiselect(key="batches").set_value([]).run()
    _ok(at)
    assert any("choose at least one" in e.value for e in at.error)


def test_cloud_at_the_minimum_surrounds_a_zero_gradient():
    at = _app()
    at.radio(key="cloud_at").set_value("minimum").run()
    _ok(at)
    star = _trace(at, CLOUD, "full-batch gradient")
    assert abs(_values(star["x"])[0]) < 1e-10 and abs(_values(star["y"])[0]) < 1e-10


def test_a_diverging_learning_rate_is_reported_not_a_traceback():
    at = _app()
    at.number_input(key="lr").set_value(5.0).run()
    _ok(at)
    assert len(at.get("plotly_chart")) == 5
    assert any("B = 1: diverged" in c.value for c in at.caption)


def test_url_round_trip_reproduces_the_picture():
    query = {"problem": "synthetic_line", "sampling": "reshuffle", "lr": "0.1", "batches": "2,16",
             "steps": "50", "seed": "3", "x0": "0.5", "y0": "-2.0", "cloud_at": "minimum"}
    at = _app(query)
    _ok(at)
    assert not at.warning
    assert {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()} == query
    objective, _ = minibatch.build_problem("synthetic_line")
    expected = minibatch.sgd_run(objective, 0.1, 16, 50, [0.5, -2.0], seed=3, sampling="reshuffle").params
    np.testing.assert_allclose(_path(at, "B = 16"), expected, rtol=1e-12)


@pytest.mark.parametrize(("key", "value", "words"), [
    ("batches", "1,3", "batches must be 1 to 4 of"),
    ("batches", "1,x", "batches must be integers separated by commas"),
    ("batches", "1,2,4,8,16", "batches must be 1 to 4 of"),
    ("lr", "-1", "lr must be in [0.0001, 10], got -1.0"),
    ("problem", "mnist", "unknown problem 'mnist'"),
    ("cloud_at", "center", "unknown cloud_at 'center'"),
])
def test_bad_url_values_fall_back_with_a_notice(key, value, words):
    at = _app({key: value})
    _ok(at)
    assert any(words in w.value and value in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(at.get("plotly_chart")) == 5
