"""Neural net landscape page through AppTest: every control path reaches its figures, nothing a traceback.

Most tests open the page through a link for a small network (few samples, steps and grid points), so each
run takes a second or two; the default page and the scenarios run at full size. A page run computes the
coarse views, then the refined ones and reruns (AppTest follows the rerun): the figures read here are the
refined ones, what a visitor sees a moment after the coarse ones.
"""
import html
import json
import re
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

from lossviz.lessons import neural_net as nl
from lossviz.ui import cache, controls, progress_cache
from lossviz.ui.catalog import ROOT
from tests.pagetest import assert_clean, decode, errors, figures, notices, open_page, warnings
from tests.test_neural_net import _statements

PAGE = str(ROOT / "pages/8_Neural_Net_Landscape.py")
SMALL = {"dataset": "moons", "n": "200", "steps": "60", "width": "8", "res": "11", "sharp": "5", "runs": "2",
         "o1_opt": "sgd", "o1_sgd_lr": "0.5", "o2_opt": "adam", "o2_adam_lr": "0.02", "step": "60"}
# What the sidebar calls the settings a link holds (the labels a notice must use instead of the keys).
LABELS = {"dataset": "dataset", "res": "grid resolution (points per axis)", "act": "activation",
          "steps": "steps", "iscale": "initialization scale", "o1_opt": "optimizer 1",
          "biases": "biases in the directions", "runs": "optimizers (same initial weights)",
          "bs1": "batch size of optimizer 1 (0 = full batch)"}


def _app(query=None):
    return open_page(PAGE, query, timeout=300)


def _ok(at):
    assert_clean(at, errors=True)


def _figure(at, needle):
    """The first figure whose JSON mentions ``needle`` (an axis title, a trace name)."""
    for spec in figures(at):
        if needle in json.dumps(spec["layout"], ensure_ascii=False) or any(needle in str(t.get("name", ""))
                                                                          for t in spec["data"]):
            return spec
    raise AssertionError(f"no figure mentions {needle!r}")


def _legend_entries(spec):
    return len([t for t in spec["data"] if t.get("showlegend", True) is not False])


def _texts(at):
    """Every line of text on the page as a reader sees it: captions, alerts, literal notices and lines."""
    shown = [c.value for c in at.caption] + [i.value for i in at.info] + [m.value for m in at.markdown]
    return " ".join(shown + [html.unescape(re.sub(r"<[^>]+>", "", e.proto.body)) for e in at.get("html")])


def _link(at):
    return {k: v if isinstance(v, str) else v[-1] for k, v in at.query_params.items()}


def test_default_page_loads_the_large_learning_rate_scenario_at_full_size():
    at = _app()
    _ok(at)
    assert any("Large learning rate" in i.value for i in at.info)
    assert len(figures(at)) == 9
    slices = _figure(at, "α along δ")
    contours = [t for t in slices["data"] if t["type"] == "contour"]
    assert len(contours) == 2 and all(len(decode(t["x"])) == 51 for t in contours)  # refined, not coarse
    assert "d = 1,218 weights" in _texts(at)
    sharp = _figure(at, "stability limit")
    limits = [decode(t["y"]) for t in sharp["data"] if "stability limit" in t["name"]]
    np.testing.assert_allclose(sorted(v[0] for v in limits), [2 / 2.0, 2 / 0.05])  # 2/lr of each run
    assert len(decode(sharp["data"][0]["x"])) == nl.SHARPNESS_POINTS
    assert _link(at)["o2_sgd_lr"] == "2.0"


def test_the_default_picture_shows_what_the_default_scenario_says():
    """"Its sharpness falls to about 2/lr = 1 and hovers there, while the small rate's keeps rising, far
    below its own 2/lr = 40 ... around the large-rate weights the valley looks narrower": in the page's own
    figures."""
    at = _app()
    _ok(at)
    sharp = _figure(at, "stability limit")
    steps = decode(sharp["data"][0]["x"])
    small, large = (decode(t["y"]) for t in sharp["data"] if "λ" in t["name"])
    later, second_half = steps >= steps[-1] / 4, steps >= steps[-1] / 2
    assert np.all(np.abs(large[later] - 2 / 2.0) < 0.3 * 2 / 2.0)  # hovers at 2/lr = 1
    assert np.all(np.diff(small[second_half]) > 0) and small[-1] < 0.2 * 2 / 0.05  # rising, far below 40
    contours = [t for t in _figure(at, "α along δ")["data"] if t["type"] == "contour"]
    widths = []
    for t in contours:
        Z, xs, ys = decode(t["customdata"]), decode(t["x"]), decode(t["y"])
        centre = Z[np.argmin(np.abs(ys)), np.argmin(np.abs(xs))]
        widths.append(np.mean(Z < 2 * centre))  # share of the slice within twice the trained loss
    assert widths[1] < widths[0]  # the large rate's valley looks narrower


@pytest.mark.parametrize("name", nl.scenario_names())
def test_every_scenario_loads_its_settings_and_says_its_lesson(name):
    at = _app(SMALL)
    at.selectbox(key="neural_net_scenario_pick").select(name).run()
    at.button[0].click().run()
    _ok(at)
    sc = nl.get_scenario(name)
    assert at.session_state["steps"] == sc.steps and at.session_state["runs"] == len(sc.optimizers)
    assert at.session_state["iscale"] == sc.init_scale and at.session_state["res"] == 51
    assert any(sc.title in i.value for i in at.info)
    training = _figure(at, "training loss")
    assert _legend_entries(training) == len(sc.optimizers)
    # Moving a knob afterwards says the lesson no longer describes the picture, naming it as labelled.
    at.slider(key="width").set_value(16).run()
    assert not any(sc.title in i.value for i in at.info)
    assert "loaded, then changed (units per hidden layer)" in _texts(at)


def test_url_round_trip_reproduces_the_same_figures():
    first = _app(SMALL | {"span": "0.7", "dirseed": "3", "biases": "filter", "act": "relu", "layers": "1"})
    _ok(first)
    query = _link(first)
    assert query["span"] == "0.7" and query["biases"] == "filter" and query["act"] == "relu"
    again = _app(query)
    _ok(again)
    assert not warnings(again)
    for a, b in zip(figures(first), figures(again)):
        for ta, tb in zip(a["data"], b["data"]):
            if ta["type"] in ("contour", "surface"):
                np.testing.assert_array_equal(decode(ta["z"]), decode(tb["z"]))


@pytest.mark.parametrize("key, value", [("dataset", "mnist"), ("res", "1000"), ("act", "swish"),
                                        ("steps", "-1"), ("iscale", "nan"), ("o1_opt", "sgdd"),
                                        ("biases", "<b>"), ("runs", "9"), ("bs1", "[x](http://e.example)")])
def test_tampered_url_values_fall_back_with_a_notice_naming_the_label(key, value):
    """The notice names the setting as the sidebar labels it, never the link's internal key (issue 13,
    defect 9: the old page said "res=..." and "bs1=..."); the value is shown literally, never as markup."""
    at = _app(SMALL | {key: value})
    assert_clean(at)
    shown = warnings(at)
    assert any(f"“{LABELS[key]}”" in w and "ignored" in w for w in shown), shown
    assert not any(re.search(rf"\b{re.escape(key)}\b", w.replace(LABELS[key], "")) for w in shown), shown
    assert not any("<a " in e.proto.body or "<b>" in e.proto.body for e in at.get("html"))
    assert len(figures(at)) == 9


def test_a_value_the_user_never_chose_gets_no_notice():
    """A link that leaves settings out (or a slot hidden by "runs") fills them silently."""
    at = _app({"steps": "60", "n": "200", "runs": "1", "res": "11", "sharp": "5"})
    _ok(at)
    assert not warnings(at)


def _page_fields():
    """The page's link fields: its declarations, run without drawing anything (the code above open_page)."""
    source = open(PAGE, encoding="utf-8").read()
    namespace: dict = {}
    exec(compile(source[: source.index("page = open_page(")], PAGE, "exec"), namespace)
    return {f.key: f for f in namespace["FIELDS"]}


def test_every_setting_is_in_the_link_with_the_range_of_its_widget():
    """Issue 13, defect 10: every visible setting in the link, one range for the widget and the link."""
    at = _app(SMALL)
    _ok(at)
    link, fields = _link(at), _page_fields()
    widgets = [*at.slider, *at.selectbox, *at.number_input, *at.checkbox]
    # (A slot's "more settings" switch only discloses knobs whose values the link carries anyway.)
    shown = [w.key for w in widgets if w.key in fields and not w.key.endswith("_more")]
    assert len(shown) > 25 and set(shown) <= set(link), set(shown) - set(link)
    for slider in at.slider:
        if slider.key in fields and slider.key != "step":
            assert (slider.min, slider.max) == (fields[slider.key].low, fields[slider.key].high), slider.key
    step = at.slider(key="step")  # the picked step: 0 to the steps trained
    assert link["step"] == "60" and (step.min, step.max) == (0, 60)
    for key in ("n", "res", "dseed", "bs1", "o1_sgd_lr"):  # the link refuses what the widget refuses
        assert fields[key].parse(repr(fields[key].high)) == fields[key].high
        with pytest.raises(ValueError):
            fields[key].parse(repr(fields[key].high + 1))


def test_a_number_typed_out_of_range_is_brought_into_range_with_a_note_naming_the_label():
    at = _app(SMALL)
    at.number_input(key="bs1").set_value(99_999).run()
    assert_clean(at)
    assert at.session_state["bs1"] == 2000
    assert any("batch size of optimizer 1 (0 = full batch) = 99999 is outside" in w for w in warnings(at))


def test_a_bad_hyperparameter_combination_shows_the_library_message():
    at = _app(SMALL | {"runs": "1", "o1_sgd_nesterov": "1", "o1_sgd_momentum": "0.0"})
    assert_clean(at)
    assert errors(at) and "nesterov" in errors(at)[0].lower()
    assert not figures(at)


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
    assert "2-8-8-8-2 sigmoid network" in _texts(at)
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
    assert "mini-batches of 32" in " ".join(c.value for c in at.code)
    at.slider(key="sharp").set_value(8).run()
    _ok(at)
    lam = next(t for t in _figure(at, "stability limit")["data"] if "λ" in t["name"])
    assert len(decode(lam["x"])) == 8
    assert "adaptive: no 2/lr line" in _texts(at)  # Adam's run
    at.slider(key="runs").set_value(1).run()
    _ok(at)
    assert _legend_entries(_figure(at, "training loss")) == 1


def test_adam_family_runs_get_their_preconditioned_sharpness_against_38_over_lr_on_their_own_axis():
    at = _app(SMALL)
    _ok(at)
    sharp = _figure(at, "stability limit")
    adam = [t for t in sharp["data"] if t["name"].startswith("2. Adam") and ("P<sup>-1</sup>H" in t["name"]
                                                                          or "adaptive limit" in t["name"])]
    assert len(adam) == 2 and {t.get("yaxis") for t in adam} == {"y2"}
    assert sharp["layout"]["yaxis2"]["type"] == "log"
    limit = next(t for t in adam if "adaptive limit" in t["name"])
    np.testing.assert_allclose(decode(limit["y"]), 38 / 0.02)
    values = next(t for t in adam if "P<sup>-1</sup>H" in t["name"])
    assert np.all(decode(values["y"])[1:] > 0)
    sgd = [t for t in sharp["data"] if t["name"].startswith("1. SGD")]
    assert all(t.get("yaxis", "y") == "y" for t in sgd)  # gradient descent stays on the Hessian's axis


def test_a_schedule_gives_a_stability_limit_that_moves_with_the_learning_rate():
    at = _app(SMALL | {"runs": "1", "o1_sched": "step", "o1_s_step_size": "30", "o1_s_gamma": "0.5"})
    _ok(at)
    limit = next(t for t in _figure(at, "stability limit")["data"] if "stability limit" in t["name"])
    values = decode(limit["y"])
    np.testing.assert_allclose([values[0], values[-1]], [2 / 0.5, 2 / 0.25])


def test_a_diverging_run_is_reported_and_the_views_still_draw():
    at = _app(SMALL | {"runs": "1", "o1_sgd_lr": "100.0", "iscale": "5.0", "act": "relu"})
    assert_clean(at)
    assert any("diverged at step" in w for w in warnings(at)), warnings(at)
    assert len(figures(at)) == 8  # one run: one decision boundary


def test_the_coarse_honesty_plot_joins_the_points_where_the_plane_loss_is_known():
    at = _app(SMALL)
    honesty = _figure(at, "loss on the plane")
    assert all(t.get("connectgaps") for t in honesty["data"] if "loss on the plane" in t["name"])


def test_the_plane_has_a_client_side_step_scrubber_whose_frames_are_the_paths_positions():
    at = _app(SMALL | {"step": "17"})
    _ok(at)
    plane = _figure(at, "PC1")
    scrub = plane["lossviz_scrub"]
    assert scrub["values"][scrub["active"]] == "step 17" and len(scrub["values"]) == 61  # every step
    lines = {t["name"]: np.column_stack([decode(t["x"]), decode(t["y"])]) for t in plane["data"]
             if t.get("mode") == "lines"}
    for position, frame in zip(scrub["values"], scrub["frames"]):
        k = int(position.split()[1])
        for index, arrays in zip(scrub["traces"], frame):
            name = plane["data"][index]["name"]
            np.testing.assert_allclose([decode(arrays["x"])[0], decode(arrays["y"])[0]], lines[name][k])


def test_export_buttons_and_the_pytorch_code():
    at = _app(SMALL)
    _ok(at)
    buttons = [b for b in at.get("download_button") if b.proto.label not in ("PNG", "SVG")]  # the slides'
    # The three tables and the script (200 samples are written into it: no data files beside it).
    assert [b.proto.label for b in buttons] == ["Slices (CSV)", "PCA plane grid (CSV)", "Trajectories (CSV)",
                                                "PyTorch script (.py)"]
    # A click builds the file without rerunning the page (a rerun would revoke the file being fetched).
    assert all(b.proto.ignore_rerun for b in at.get("download_button"))
    code = " ".join(c.value for c in at.code)
    assert "nn.Linear(8, 8)" in code and "torch.optim.Adam(" in code
    assert "params = torch.tensor([0.0])" not in code  # issue 13, defect 2: the old script trained a dummy


def _page_numbers(at):
    """Each run's loss and accuracy as the page prints them under the training curves."""
    words = next(n for n in notices(at) if n.startswith("After "))
    pattern = r"(\d\. [^:]+): loss ([\d.]+), accuracy [\d.]+% \(([\d,]+) of ([\d,]+) samples\)"
    found = re.findall(pattern, words)
    return [(label, float(loss), int(right.replace(",", "")) / int(n.replace(",", "")))
            for label, loss, right, n in found]


@pytest.fixture
def scripts(monkeypatch):
    """The PyTorch scripts (code and data files) the page builds, as it builds them."""
    made = []
    original = cache.network_script

    def recording(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(cache, "network_script", recording)
    return made


@pytest.mark.parametrize("query", [{}, SMALL | {"o3_opt": "sgd", "o3_sgd_lr": "0.1", "o3_sgd_momentum": "0.9",
                                                 "runs": "3", "bs3": "16", "o2_sched": "cosine"}],
                         ids=["default", "momentum-adam-cosine-minibatch"])
def test_the_pytorch_script_prints_the_numbers_the_page_prints(query, scripts, tmp_path):
    """Issue 13, defect 2: the code trains the page's network from its initial weights on its data, with
    each optimizer, schedule and mini-batch order, and prints the page's final loss and accuracy."""
    at = _app(query)
    _ok(at)
    shown = _page_numbers(at)
    assert len(shown) == at.session_state["runs"]
    code = next(c.value for c in at.code if "import torch" in c.value)
    script = scripts[-1]
    assert script.code.rstrip("\n") == code.rstrip("\n")
    assert sorted(script.files) == sorted(b.proto.label for b in at.get("download_button")
                                          if b.proto.label.startswith("lossviz_nn_"))
    (tmp_path / "lossviz_nn_train.py").write_text(code)
    for name, text in script.files.items():
        (tmp_path / name).write_text(text)
    result = subprocess.run([sys.executable, str(tmp_path / "lossviz_nn_train.py")], capture_output=True,
                            text=True, timeout=900, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["run"] for p in printed] == [label for label, _, _ in shown]
    for p, (label, loss, accuracy) in zip(printed, shown):
        assert p["loss"] == pytest.approx(loss, abs=1e-6), label
        assert p["accuracy"] == pytest.approx(accuracy, abs=1e-6), label


HOSTILE = ['<a href="http://evil.example">log in</a> [again](http://evil.example) ![t](http://evil.example/p)',
           "x\nimport os; os.system('echo pwned')  #", "%{x} {0} '''\"\"\" \u2028import os\u2029 <b>bold</b>"]


def _code(at):
    return next(c.value for c in at.code if "import torch" in c.value)


def _named(monkeypatch, names):
    original = controls.slot_label
    monkeypatch.setattr(controls, "slot_label", lambda slot, *args: names[slot - 1] if slot <= len(names)
                        else original(slot, *args))


def test_hostile_labels_reach_the_code_only_as_data_and_the_page_only_as_text(monkeypatch):
    """Every display path of a run's name (legends, titles, captions, notices, code) with names that are
    markup, Markdown and code: the page shows them as typed and the script's statements do not change."""
    _named(monkeypatch, ["plain one", "plain two"])
    plain = _app(SMALL)
    _named(monkeypatch, HOSTILE[:2])
    hostile = _app(SMALL | {"runs": "2"})
    assert_clean(hostile, errors=True)
    assert _statements(_code(hostile)) == _statements(_code(plain))
    for element in hostile.get("html"):
        assert "<a " not in element.proto.body and "<img" not in element.proto.body
    assert HOSTILE[0] in _texts(hostile)  # shown as typed
    specs = json.dumps(figures(hostile), ensure_ascii=False)
    # Escaped for plotly's HTML subset (text.plotly_label): no tag survives, quotation marks show as typed.
    assert "<a href" not in specs and '&lt;a href=\\"http://evil.example\\"&gt;' in specs
    assert not any(HOSTILE[0] in t.get("hovertemplate", "") for f in figures(hostile) for t in f["data"])
    _named(monkeypatch, [HOSTILE[2], "plain two"])
    third = _app(SMALL)
    assert_clean(third, errors=True)
    assert _statements(_code(third)) == _statements(_code(plain))


MAXIMAL = {"n": "2000", "layers": "4", "width": "128", "steps": "3000", "runs": "3", "res": "101",
           "sharp": "50", **{f"o{s}_opt": "adam" for s in (1, 2, 3)}, "span": "5.0", "step": "3000"}


def test_at_its_maximal_settings_the_page_refuses_within_budget_and_names_a_setting_to_lower():
    for thread in threading.enumerate():  # a warm-up started by another test would count here
        if thread.name.startswith("lossviz-warm"):
            thread.join()
    tracemalloc.start()
    start = time.process_time()
    at = _app(MAXIMAL)
    cpu = time.process_time() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert_clean(at)
    refusals = errors(at)
    assert refusals and all("so it was not computed" in r for r in refusals), refusals
    assert "Lower steps, units per hidden layer and optimizers (same initial weights) together" in refusals[0]
    assert not figures(at)
    assert cpu < 3.0, cpu
    assert peak < 300 * 2**20, peak


def test_the_heaviest_scenario_fits_the_budget():
    """Every scenario's estimate is within the budget (the page computes it), the heaviest included."""
    at = _app(SMALL)
    at.selectbox(key="neural_net_scenario_pick").select("wide_vs_narrow").run()
    at.button[0].click().run()
    _ok(at)
    assert len(figures(at)) == 9
    # Its two runs differ only in their batches: their names say so, in the legends and the words.
    names = [t["name"] for t in figures(at)[0]["data"] if t.get("name") and t.get("showlegend", True)]
    assert "1. SGD (lr 0.5)" in names and "2. SGD (lr 0.5), batches of 8" in names, names


def test_the_default_visit_warmed_in_the_background_leaves_nothing_to_compute(monkeypatch):
    thread = cache.warm_network() or next((t for t in threading.enumerate()
                                           if t.name == "lossviz-warm-neural_net"), None)
    if thread is not None:
        thread.join()
    for name in ("train", "interpolation_view", "slices_view", "plane_view", "sharpness_view",
                 "decision_view", "torch_script"):
        monkeypatch.setattr(nl, name, lambda *a, _name=name, **k: pytest.fail(f"{_name} computed again"))
    at = _app()
    _ok(at)
    assert len(figures(at)) == 9


def test_a_visitor_asking_while_the_warm_up_computes_waits_for_it_instead_of_computing_again():
    started, release, calls = threading.Event(), threading.Event(), []

    def slow():
        calls.append("warm")
        started.set()
        release.wait(10)
        return "trained"

    thread = progress_cache.in_background("test_visit", lambda: progress_cache.cached("test_warm", "k", slow),
                                          ["test_warm"])
    assert progress_cache.in_background("test_visit", slow, ["test_warm"]) is None  # once per process
    started.wait(10)
    got = []
    visitor = threading.Thread(target=lambda: got.append(progress_cache.cached(
        "test_warm", "k", lambda: calls.append("visitor") or "again")))
    visitor.start()
    assert progress_cache.peek("test_warm", "k") is None
    release.set()
    thread.join(10)
    visitor.join(10)
    assert got == ["trained"] and calls == ["warm"] and progress_cache.peek("test_warm", "k") == "trained"


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


def test_too_many_steps_for_one_page_open_are_refused_naming_the_steps_that_fit():
    at = _app({"steps": "3000"})
    assert_clean(at)
    (refusal,) = errors(at)
    lowered = int(re.search(r"Lower steps from 3000 to (\d+)", refusal).group(1))
    assert 500 <= lowered < 3000 and not figures(at)
    fits = _app({"steps": str(lowered)})  # the advice is enough
    _ok(fits)
    assert len(figures(fits)) == 9


def test_a_run_that_ends_above_its_start_is_a_warning_that_says_so():
    """A walk's lr 100: the loss rose from about 1.2 to 4.7 without diverging, under an info box that only
    listed the numbers."""
    at = _app(SMALL | {"o1_sgd_lr": "100"})
    assert_clean(at)
    words = next(w for w in warnings(at) if w.startswith("After "))
    loss = re.search(r"1\. [^:]+: loss ([\d.]+).*?above its loss at the start \(([\d.]+)\)", words)
    assert loss and float(loss.group(1)) > float(loss.group(2)), words
    assert "its steps are too large to descend" in words
    at = _app(SMALL)
    assert not any("above its loss at the start" in n for n in notices(at))
