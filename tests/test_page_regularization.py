"""The Regularization page through AppTest: every control path reaches its figures, never a traceback."""
import base64
import json

import numpy as np
import pytest

from lossviz.lessons import regularization as regpath
from lossviz.ui.catalog import ROOT
from tests.pagetest import assert_clean, open_page

PAGE = str(ROOT / "pages/4_Regularization.py")
GEOMETRY, TOTAL, PATHS, DECAY, DISTANCE = range(5)


def _app(query=None):
    return open_page(PAGE, query, timeout=180)


def _ok(at):
    assert_clean(at)


def _values(array):
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))
    return np.asarray(array, dtype=float)


def _figure(at, index):
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def _trace(at, index, name_part):
    for trace in _figure(at, index)["data"]:
        if name_part in (trace.get("name") or ""):
            return trace
    raise AssertionError(f"no trace named like {name_part!r} in figure {index}")


def _minimizer(at):
    trace = _trace(at, GEOMETRY, "minimizer at this λ")
    return np.array([_values(trace["x"])[0], _values(trace["y"])[0]])


def test_default_page_shows_the_lasso_zero_and_writes_the_url():
    at = _app()
    _ok(at)
    assert len(at.get("plotly_chart")) == 5
    d = regpath.load_data(("bmi", "bp"))
    expected, _ = regpath.regularized_minimizer(d.X, d.y, "l1", 0.8)
    np.testing.assert_allclose(_minimizer(at), expected, rtol=1e-12)
    assert _minimizer(at)[1] == 0.0
    assert any("bp exactly 0" in c.value for c in at.caption)
    assert at.query_params["penalty"] in ("l1", ["l1"])
    assert {b.proto.label for b in at.get("download_button")} == {"Regularization paths (CSV)",
                                                                   "SGD / Adam / AdamW runs (CSV)"}
    codes = [c.value for c in at.code]
    assert len(codes) == 3 and "torch.optim.AdamW" in codes[2] and "datasets.get('diabetes')" in codes[0]


@pytest.mark.parametrize("name", list(regpath.SCENARIOS))
def test_every_scenario_loads_its_settings_and_lesson(name):
    at = _app()
    at.selectbox(key="scenario_pick").select(name).run()
    at.button[0].click().run()
    _ok(at)
    sc = regpath.SCENARIOS[name]
    assert (at.session_state["f1"], at.session_state["f2"]) == sc.features
    assert at.session_state["penalty"] == sc.penalty and at.session_state["strength"] == sc.strength
    assert any(sc.title in i.value for i in at.info)
    d = regpath.load_data(sc.features)
    expected, _ = regpath.regularized_minimizer(d.X, d.y, sc.penalty, sc.strength, l1_ratio=sc.l1_ratio)
    np.testing.assert_allclose(_minimizer(at), expected, rtol=1e-12)
    # Moving a knot afterwards says the lesson no longer describes the picture.
    at.slider(key="strength").set_value(0.05).run()
    assert not at.info and any("then changed (strength)" in c.value for c in at.caption)


def test_penalty_switch_and_elastic_net_mix():
    at = _app()
    at.radio(key="penalty").set_value("l2").run()
    _ok(at)
    assert np.all(_minimizer(at) != 0.0)
    assert at.slider(key="l1_ratio").disabled
    at.radio(key="penalty").set_value("elastic_net").run()
    assert not at.slider(key="l1_ratio").disabled
    at.slider(key="l1_ratio").set_value(0.3).run()
    _ok(at)
    titles = [a["text"] for a in _figure(at, PATHS)["layout"]["annotations"]]
    assert "elastic net (ρ = 0.3)" in titles and titles.index("L1 (lasso)") < titles.index("L2 (ridge)")
    d = regpath.load_data(("bmi", "bp"))
    expected, _ = regpath.regularized_minimizer(d.X, d.y, "elastic_net", 0.8, l1_ratio=0.3)
    np.testing.assert_allclose(_minimizer(at), expected, rtol=1e-12)


def test_zero_strength_is_least_squares_and_has_no_touching_level_sets():
    at = _app()
    at.slider(key="strength").set_value(0.0).run()
    _ok(at)
    star = _trace(at, GEOMETRY, "least squares")
    np.testing.assert_allclose(_minimizer(at), [_values(star["x"])[0], _values(star["y"])[0]], rtol=1e-12)
    names = [t.get("name") for t in _figure(at, GEOMETRY)["data"]]
    assert "penalty level set through it" not in names


def test_other_features_change_the_axes():
    at = _app()
    at.selectbox(key="f1").select("s4").run()
    at.selectbox(key="f2").select("s5").run()
    _ok(at)
    layout = _figure(at, GEOMETRY)["layout"]
    assert layout["xaxis"]["title"]["text"] == "weight of s4"
    assert layout["yaxis"]["title"]["text"] == "weight of s5"
    assert at.query_params["f1"] in ("s4", ["s4"])


def test_the_same_feature_twice_is_an_error_not_a_traceback():
    at = _app()
    at.selectbox(key="f2").select("bmi").run()
    _ok(at)
    assert any("features must not repeat a feature" in e.value for e in at.error)


def test_decay_race_follows_its_controls():
    at = _app()
    at.slider(key="steps").set_value(300).run()
    at.number_input(key="lr").set_value(0.05).run()
    _ok(at)
    for label in regpath.DECAY_LABELS:
        assert _values(_trace(at, DECAY, label)["x"]).size == 301
    assert any(n.startswith("box") for n in (t.get("name") or "" for t in _figure(at, DECAY)["data"]))
    at.slider(key="decay").set_value(0.0).run()
    _ok(at)
    assert not any((t.get("name") or "").startswith("box") for t in _figure(at, DECAY)["data"])
    sgd = _values(_trace(at, DECAY, "SGD")["x"])
    assert sgd.size == 301


def test_url_round_trip_reproduces_the_picture():
    query = {"f1": "s4", "f2": "s5", "penalty": "elastic_net", "strength": "1.5", "l1_ratio": "0.5",
             "decay": "2.0", "lr": "0.02", "steps": "200", "w0x": "0.5", "w0y": "-0.5"}
    at = _app(query)
    _ok(at)
    assert not at.warning
    assert {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()} == query
    d = regpath.load_data(("s4", "s5"))
    expected, _ = regpath.regularized_minimizer(d.X, d.y, "elastic_net", 1.5, l1_ratio=0.5)
    np.testing.assert_allclose(_minimizer(at), expected, rtol=1e-12)
    start = _values(_trace(at, DECAY, "AdamW")["x"])[0], _values(_trace(at, DECAY, "AdamW")["y"])[0]
    assert start == (0.5, -0.5)


@pytest.mark.parametrize(("key", "value", "words"), [
    ("strength", "abc", "strength must be a number, got 'abc'"),
    ("strength", "99", "strength must be in [0, 5], got 99.0"),
    ("penalty", "l9", "unknown penalty 'l9'"),
    ("f1", "height", "unknown f1 'height'"),
    ("steps", "1.5", "steps must be an integer, got '1.5'"),
])
def test_bad_url_values_fall_back_with_a_notice(key, value, words):
    at = _app({key: value})
    _ok(at)
    assert any(words in w.value and value in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(at.get("plotly_chart")) == 5
