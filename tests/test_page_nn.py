"""Neural net landscape page through AppTest: every control path reaches its figures, nothing a traceback.

Most tests open the page through a link for a small network (few samples, steps and grid points), so each
run takes a second or two; the default page and the scenarios run at full size.
"""
import json

import numpy as np
import pytest

from lossviz.lessons import neural_net as nl
from lossviz.ui import progress_cache
from lossviz.ui.catalog import ROOT
from tests.pagetest import assert_clean, decode, open_page

PAGE = str(ROOT / "pages/8_Neural_Net_Landscape.py")
SMALL = {"dataset": "moons", "n": "200", "steps": "60", "width": "8", "res": "11", "sharp": "5", "runs": "2",
         "o1_opt": "sgd", "o1_sgd_lr": "0.5", "o2_opt": "adam", "o2_adam_lr": "0.02", "step": "60"}


def _app(query=None):
    return open_page(PAGE, query, timeout=300)


def _ok(at):
    assert_clean(at, errors=True)


def _figures(at):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _figure(at, needle):
    """The first figure whose JSON mentions ``needle`` (an axis title, a trace name)."""
    for spec in _figures(at):
        if needle in json.dumps(spec["layout"], ensure_ascii=False) or any(needle in str(t.get("name", ""))
                                                                          for t in spec["data"]):
            return spec
    raise AssertionError(f"no figure mentions {needle!r}")


def _legend_entries(spec):
    return len([t for t in spec["data"] if t.get("showlegend", True) is not False])


def _captions(at):
    return " ".join(c.value for c in at.caption)


def test_default_page_loads_the_large_learning_rate_scenario_at_full_size():
    at = _app()
    _ok(at)
    assert any("Large learning rate" in i.value for i in at.info)
    assert len(_figures(at)) == 9
    slices = _figure(at, "α along δ")
    contours = [t for t in slices["data"] if t["type"] == "contour"]
    assert len(contours) == 2 and all(len(decode(t["x"])) == 51 for t in contours)
    assert "d = 1,218 weights" in _captions(at)
    sharp = _figure(at, "stability limit")
    limits = [decode(t["y"]) for t in sharp["data"] if "stability limit" in t["name"]]
    np.testing.assert_allclose(sorted(v[0] for v in limits), [2 / 2.0, 2 / 0.05])  # 2/lr of each run
    assert at.query_params["o2_sgd_lr"] in ("2.0", ["2.0"])


@pytest.mark.parametrize("name", nl.scenario_names())
def test_every_scenario_loads_its_settings_and_says_its_lesson(name):
    at = _app(SMALL)
    at.selectbox(key="nn_pick").select(name).run()
    at.button[0].click().run()
    _ok(at)
    sc = nl.get_scenario(name)
    assert at.session_state["steps"] == sc.steps and at.session_state["runs"] == len(sc.optimizers)
    assert at.session_state["iscale"] == sc.init_scale
    assert any(sc.title in i.value for i in at.info)
    training = _figure(at, "training loss")
    assert _legend_entries(training) == len(sc.optimizers)
    # Moving a knob afterwards says the lesson no longer describes the picture.
    at.slider(key="width").set_value(16).run()
    assert not any(sc.title in i.value for i in at.info) and "loaded, then changed" in _captions(at)


def test_url_round_trip_reproduces_the_same_figures():
    first = _app(SMALL | {"span": "0.7", "dirseed": "3", "biases": "filter", "act": "relu", "layers": "1"})
    _ok(first)
    query = {k: v[0] if isinstance(v, list) else v for k, v in first.query_params.items()}
    assert query["span"] == "0.7" and query["biases"] == "filter" and query["act"] == "relu"
    again = _app(query)
    _ok(again)
    assert not again.warning
    for a, b in zip(_figures(first), _figures(again)):
        for ta, tb in zip(a["data"], b["data"]):
            if ta["type"] in ("contour", "surface"):
                np.testing.assert_array_equal(decode(ta["z"]), decode(tb["z"]))


@pytest.mark.parametrize("key, value", [("dataset", "mnist"), ("res", "1000"), ("act", "swish"),
                                        ("steps", "-1"), ("iscale", "nan"), ("o1_opt", "lbfgs"),
                                        ("biases", "<b>")])
def test_tampered_url_values_fall_back_with_a_notice_naming_them(key, value):
    at = _app(SMALL | {key: value})
    assert not at.exception
    assert any(key in w.value and "ignored" in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(_figures(at)) == 9


def test_a_bad_hyperparameter_combination_shows_the_library_message():
    at = _app(SMALL | {"runs": "1", "o1_sgd_nesterov": "1", "o1_sgd_momentum": "0.0"})
    assert not at.exception
    assert at.error and "nesterov" in at.error[0].value.lower()
    assert not _figures(at)


def test_controls_reach_the_figures():
    at = _app(SMALL)
    _ok(at)
    at.selectbox(key="dataset").select("iris").run()  # three classes: a label map instead of P(class 1)
    _ok(at)
    boundary = _figure(at, "petal length")
    assert boundary["data"][0]["type"] == "heatmap"
    assert len([t for t in boundary["data"] if t["type"] == "scatter"]) == 3
    at.selectbox(key="dataset").select("circles").run()
    at.slider(key="layers").set_value(3).run()
    at.selectbox(key="act").select("sigmoid").run()
    at.selectbox(key="init").select("xavier").run()
    at.slider(key="iscale").set_value(0.5).run()
    _ok(at)
    assert "2-8-8-8-2 sigmoid network" in _captions(at)
    at.slider(key="res").set_value(15).run()
    at.slider(key="span").set_value(2.0).run()
    _ok(at)
    contour = next(t for t in _figure(at, "α along δ")["data"] if t["type"] == "contour")
    xs = decode(contour["x"])
    assert len(xs) == 15 and xs[0] == -2.0 and xs[-1] == 2.0
    at.slider(key="step").set_value(0).run()
    _ok(at)
    assert "step 0: accuracy" in json.dumps(_figure(at, "step 0:")["layout"], ensure_ascii=False)
    at.selectbox(key="focus").select(2).run()
    _ok(at)
    assert "origin: trained weights of 2. Adam" in json.dumps(_figure(at, "PC1")["data"], ensure_ascii=False)
    at.number_input(key="bs1").set_value(32).run()
    _ok(at)
    assert "mini-batches of 32" in " ".join(m.value for m in at.markdown)
    at.slider(key="sharp").set_value(8).run()
    _ok(at)
    lam = next(t for t in _figure(at, "stability limit")["data"] if "λ" in t["name"])
    assert len(decode(lam["x"])) == 8
    assert "adaptive: no 2/lr line" in _captions(at)  # Adam's run
    at.slider(key="runs").set_value(1).run()
    _ok(at)
    assert _legend_entries(_figure(at, "training loss")) == 1


def test_a_schedule_gives_a_stability_limit_that_moves_with_the_learning_rate():
    at = _app(SMALL | {"runs": "1", "o1_sched": "step", "o1_s_step_size": "30", "o1_s_gamma": "0.5"})
    _ok(at)
    limit = next(t for t in _figure(at, "stability limit")["data"] if "stability limit" in t["name"])
    values = decode(limit["y"])
    np.testing.assert_allclose([values[0], values[-1]], [2 / 0.5, 2 / 0.25])


def test_a_diverging_run_is_reported_and_the_views_still_draw():
    at = _app(SMALL | {"runs": "1", "o1_sgd_lr": "100.0", "iscale": "5.0", "act": "relu"})
    _ok(at)
    assert any("diverged at step" in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(_figures(at)) == 8  # one run: one decision boundary


def test_export_and_pytorch_code():
    at = _app(SMALL)
    _ok(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Slices (CSV)", "PCA plane grid (CSV)", "Trajectories (CSV)"]
    code = " ".join(c.value for c in at.code)
    assert "nn.Sequential(" in code and "nn.Linear(8, 8)" in code and "torch.optim.Adam(" in code


def test_progress_cache_keeps_at_most_max_entries_and_computes_once():
    calls = []

    def compute(value):
        calls.append(value)
        return value * 2

    for value in (1, 2, 1, 3, 4, 1):
        got = progress_cache.cached("test_store", value, lambda v=value: compute(v), max_entries=3)
        assert got == 2 * value
    # 1 was used again before 3 and 4 arrived, so it stayed; 2 was the least recently used and left.
    assert calls == [1, 2, 3, 4]
    assert progress_cache.cached("test_store", 2, lambda: compute(2), max_entries=3) == 4 and calls[-1] == 2
