"""The Regularization page through AppTest: every control path reaches its figures, never a traceback."""
import re

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet, Lasso, Ridge

from lossviz.lessons import regularization as regpath
from lossviz.ui.catalog import ROOT
from tests.pagetest import (
    HOSTILE_NAMES, assert_clean, assert_literal_notices, assert_notice_names_the_label, decode, errors,
    figures, notices, open_measured, open_page, run_script, warnings,
)

PAGE = str(ROOT / "pages/4_Regularization.py")
MINIMIZER = "minimizer at this λ"


def _app(query=None):
    return open_page(PAGE, query, timeout=180)


def _ok(at):
    assert_clean(at)


def _figure(at, name_part):
    """The figure holding a trace named like ``name_part``."""
    for spec in figures(at):
        if any(name_part in (t.get("name") or "") for t in spec["data"]):
            return spec
    raise AssertionError(f"no figure with a trace named like {name_part!r}")


def _trace(at, name_part, figure_part=None):
    spec = _figure(at, figure_part or name_part)
    return next(t for t in spec["data"] if name_part in (t.get("name") or ""))


def _xy(trace):
    return np.column_stack([decode(trace["x"]), decode(trace["y"])])


def _minimizer(at):
    return _xy(_trace(at, MINIMIZER))[0]


def _path_chart(at):
    return next(spec for spec in figures(at) if any(t.get("xaxis") == "x3" for t in spec["data"]))


def test_default_page_shows_the_lasso_zero_and_writes_the_url():
    at = _app()
    _ok(at)
    assert len(figures(at)) == 5 and not at.get("plotly_chart")  # every chart is a live chart
    d = regpath.load_data(("bmi", "bp"))
    expected, _ = regpath.regularized_minimizer(d.X, d.y, "l1", 0.8)
    np.testing.assert_allclose(_minimizer(at), expected, rtol=1e-12)
    assert _minimizer(at)[1] == 0.0
    assert any("bp exactly 0" in c.value for c in at.caption)
    assert at.query_params["penalty"] in ("l1", ["l1"])
    assert {b.proto.label for b in at.get("download_button")} - {"PNG", "SVG"} == {
        "Regularization paths (CSV)", "SGD / Adam / AdamW runs (CSV)"}  # and each chart for slides
    sklearn_code, torch_code = (c.value for c in at.code)
    assert "Lasso(alpha=0.4, fit_intercept=False" in sklearn_code
    assert "torch.optim.AdamW" in torch_code and "import lossviz" not in torch_code


def test_the_default_picture_tells_the_truth():
    """The default scenario's text and the paragraph, checked against the default picture itself."""
    at = _app()
    _ok(at)
    sc = regpath.SCENARIOS[regpath.DEFAULT_SCENARIO]
    assert any(sc.title in i.value for i in at.info)  # the lesson shown is the default scenario's
    # "the weight of blood pressure (bp) is exactly 0 (from λ ≈ 0.69 on), while bmi keeps 0.19"
    w = _minimizer(at)
    assert w[1] == 0.0 and round(w[0], 2) == 0.19
    knots = [t for t in _path_chart(at)["data"] if t.get("mode") == "markers+text" and t["xaxis"] == "x"]
    bp_knot = next(t for t in knots if t["legendgroup"] == "bp")
    assert round(float(decode(bp_knot["x"])[0]), 2) == 0.69
    # "the touch is at a corner [of the diamond], where one weight is exactly zero": both drawn level sets
    # pass through the minimizer, and the data-loss level set never enters the diamond.
    diamond = _xy(_trace(at, "penalty level set through it"))
    ellipse = _xy(_trace(at, "data-loss level set through it"))
    for curve in (diamond, ellipse):
        assert np.min(np.linalg.norm(curve - w, axis=1)) < 1e-9
    assert np.all(np.abs(ellipse).sum(axis=1) >= np.abs(w).sum() * (1 - 1e-6))
    corner = diamond[np.argmax(diamond[:, 0])]
    np.testing.assert_allclose(corner, w, atol=1e-12)
    # "SGD ... ends at the ridge minimizer. Adam + L2 ... also ends there ... AdamW ... ends somewhere
    # else: ... at the best fit inside the box |w_j| <= 1/λ".
    ridge = _xy(_trace(at, "ridge minimizer"))[0]
    for label in ("SGD", "Adam + L2"):
        np.testing.assert_allclose(_xy(_trace(at, label, "AdamW"))[-1], ridge, atol=1e-6)
    adamw = _xy(_trace(at, "AdamW (decoupled)"))[-1]
    assert np.linalg.norm(adamw - ridge) > 0.05 and np.max(np.abs(adamw)) <= 1 / sc.weight_decay + 1e-3


@pytest.mark.parametrize("name", list(regpath.SCENARIOS))
def test_every_scenario_loads_its_settings_and_lesson(name):
    at = _app()
    at.selectbox(key="regularization_scenario_pick").select(name).run()
    at.button(key="regularization_load").click().run()
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
    assert not at.info and any("then changed (strength λ)" in c.value for c in at.caption)


def test_the_adamw_scenario_says_where_the_pages_runs_end():
    """"AdamW is not Adam + L2", word for word against the race the page draws: each point the text gives
    is where that run ends (or the box's corner), to the decimals it is written with; the step count, λ
    and the box's half-width are the page's."""
    at = _app()
    at.selectbox(key="regularization_scenario_pick").select("adamw_box").run()
    at.button(key="regularization_load").click().run()
    _ok(at)
    sc = regpath.SCENARIOS["adamw_box"]
    words = sc.explanation
    points = re.findall(r"\((-?\d+\.(\d+)), (-?\d+\.\d+)\)", words)
    ridge, adamw, *corner = [(np.array([float(x), float(y)]), len(decimals)) for x, decimals, y in points]

    def written(point, decimals):
        return np.round(point, decimals)

    for label in ("SGD", "Adam + L2"):
        end = _xy(_trace(at, label, "AdamW"))[-1]
        np.testing.assert_array_equal(written(end, ridge[1]), ridge[0])
    adamw_path = _xy(_trace(at, "AdamW (decoupled)"))
    np.testing.assert_array_equal(written(adamw_path[-1], adamw[1]), adamw[0])
    assert f"after {len(adamw_path) - 1} steps" in words
    limit = _xy(_trace(at, "AdamW's limit"))[0]
    for point, decimals in corner:
        np.testing.assert_array_equal(written(limit, decimals), point)
    # "still closing in on" the corner: nearer at the end than a hundred steps before, and not there yet.
    gaps = np.linalg.norm(adamw_path - limit, axis=1)
    assert gaps[-1] < gaps[-101] and np.max(np.abs(adamw_path[-1] - limit)) > 10.0 ** -adamw[1]
    bound = float(re.search(r"1/λ = ([\d.]+)", words).group(1))
    assert float(re.search(r"λ = (\d+) for all three", words).group(1)) == sc.weight_decay == 1 / bound
    assert any(f"AdamW (decoupled)** ends at ({adamw_path[-1][0]:.4f}, {adamw_path[-1][1]:.4f})" in c.value
               for c in at.caption)


def test_a_fragment_control_that_moves_a_scenario_setting_retires_its_lesson():
    at = _app()
    assert at.info
    at.slider(key="decay").set_value(1.0).run()
    _ok(at)
    assert not at.info and any("then changed (weight decay λ" in c.value for c in at.caption)


def test_the_knots_caption_says_what_the_path_chart_marks():
    """Below the path chart, one sentence per panel: each cross the panel draws ("0 from 1.17") is in its
    penalty's sentence as the weight it belongs to and the same number; the ridge panel has none."""
    at = _app()
    _ok(at)
    chart = _path_chart(at)
    caption = next(c.value for c in at.caption if "exactly 0 from" in c.value)
    titles = [a["text"] for a in chart["layout"]["annotations"]]
    sentences = {t: re.search(re.escape(t[1:]) + r": (.*?)\.(?: |$)", caption).group(1) for t in titles}
    crosses = [t for t in chart["data"] if t.get("mode") == "markers+text"]
    assert len(crosses) == 4
    for cross in crosses:
        panel = titles[int(cross["xaxis"][1:] or 1) - 1]
        value = cross["text"][0].removeprefix("0 from ")
        assert re.search(rf"\b{cross['legendgroup']} (is exactly 0 )?from λ = {re.escape(value)}\b",
                         sentences[panel]), (panel, value, caption)
    assert "no weight is ever exactly 0" in sentences["L2 (ridge)"]


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
    titles = [a["text"] for a in _path_chart(at)["layout"]["annotations"]]
    assert "elastic net (ρ = 0.3)" in titles and titles.index("L1 (lasso)") < titles.index("L2 (ridge)")
    d = regpath.load_data(("bmi", "bp"))
    expected, _ = regpath.regularized_minimizer(d.X, d.y, "elastic_net", 0.8, l1_ratio=0.3)
    np.testing.assert_allclose(_minimizer(at), expected, rtol=1e-12)


def test_zero_strength_is_least_squares_and_has_no_touching_level_sets():
    at = _app()
    at.slider(key="strength").set_value(0.0).run()
    _ok(at)
    star = _xy(_trace(at, "least squares"))[0]
    np.testing.assert_allclose(_minimizer(at), star, rtol=1e-12)
    # The scrubber needs the traces to exist; at strength 0 they hold no point to draw.
    for name in ("penalty level set through it", "data-loss level set through it"):
        assert np.all(np.isnan(_xy(_trace(at, name))))


def test_the_strength_scrubber_replays_the_minimizer_at_every_lambda():
    at = _app({"strength": "1.234"})
    _ok(at)
    spec = _figure(at, MINIMIZER)
    scrub = spec["lossviz_scrub"]
    assert scrub["label"] == "strength λ" and "λ = 1.234 (sidebar):" in scrub["values"][scrub["active"]]
    traces = [spec["data"][i]["name"] for i in scrub["traces"]]
    assert traces[-1].endswith(MINIMIZER)
    d = regpath.load_data(("bmi", "bp"))
    strengths = [float(re.match(r"λ = ([\d.e+-]+)", v).group(1)) for v in scrub["values"]]
    assert len(strengths) >= 25 and strengths[0] == 0.0 and max(strengths) == 5.0
    for frame, value, strength in zip(scrub["frames"], scrub["values"], strengths):
        point = [decode(frame[-1]["x"])[0], decode(frame[-1]["y"])[0]]
        exact = regpath.regularized_minimizer(d.X, d.y, "l1", strength)[0]
        np.testing.assert_allclose(point, exact, atol=1e-12)  # each label is the exact λ of its frame
        assert f"({exact[0]:.4f}, {exact[1]:.4f})" in value
    active = scrub["frames"][scrub["active"]][-1]
    np.testing.assert_array_equal([decode(active["x"])[0], decode(active["y"])[0]], _minimizer(at))


def test_other_features_change_the_axes():
    at = _app()
    at.selectbox(key="f1").select("s4").run()
    at.selectbox(key="f2").select("s5").run()
    _ok(at)
    layout = _figure(at, MINIMIZER)["layout"]
    assert layout["xaxis"]["title"]["text"] == "weight of s4"
    assert layout["yaxis"]["title"]["text"] == "weight of s5"
    assert at.query_params["f1"] in ("s4", ["s4"])


def _pick_first_weight(feature):
    """A default visit, then the first box set to the feature the second weight already has."""
    at = _app()
    assert at.session_state["f2"] == feature
    at.selectbox(key="f1").select(feature).run()
    return at


@pytest.mark.parametrize(("way", "first", "second"), [
    ("link", "bmi", "bmi"),  # ?f1=bmi&f2=bmi
    ("fallback", "bmi", "bmi"),  # ?f1=**b**&f2=bmi: the refused first weight falls back to bmi
    ("link", "bp", "bp"),  # ?f1=bp: the second weight's default is bp
    ("widget", "bp", "bp"),  # the first box picks the second weight's feature
])
def test_the_same_feature_twice_draws_the_page_with_another_second_weight(way, first, second):
    """Two weights need two features. However the two coincide, the page draws with another feature for
    the second weight and says so, naming the setting by its sidebar label and the value given."""
    at = {"link": lambda: _app({"f1": first, "f2": second} if second != "bp" else {"f1": first}),
          "fallback": lambda: _app({"f1": "**b**", "f2": second}),
          "widget": lambda: _pick_first_weight(second)}[way]()
    _ok(at)
    assert not errors(at) and len(figures(at)) == 5
    used = at.session_state["f2"]
    assert at.session_state["f1"] == first and used != first and used == regpath.second_feature(first, second)
    assert any(f"“second weight” = “{second}” must differ from the first weight (“{first}”): using “{used}”"
               in w for w in warnings(at)), warnings(at)
    layout = _figure(at, MINIMIZER)["layout"]
    assert (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]) == (
        f"weight of {first}", f"weight of {used}")
    assert at.query_params["f2"] in (used, [used])
    d = regpath.load_data((first, used))
    np.testing.assert_allclose(_minimizer(at), regpath.regularized_minimizer(d.X, d.y, "l1", 0.8)[0],
                               rtol=1e-12)
    # The second box offers every feature but the first weight's: it cannot pick the same one again.
    assert first not in at.selectbox(key="f2").options and len(at.selectbox(key="f2").options) == 9
    # A later run keeps the link's notice with the link's others (once), and one the first box caused is
    # said on its own run only.
    at.selectbox(key="f1").select("s4").run()
    _ok(at)
    assert sum("must differ" in w for w in warnings(at)) == (way != "widget")
    assert at.session_state["f2"] == used


def test_decay_race_follows_its_controls():
    at = _app()
    at.slider(key="steps").set_value(300).run()
    at.number_input(key="lr").set_value(0.05).run()
    _ok(at)
    for label in regpath.DECAY_LABELS:
        assert _xy(_trace(at, label, "AdamW")).shape == (301, 2)
    names = [t.get("name") or "" for t in _figure(at, "AdamW")["data"]]
    assert any(n.startswith("box") for n in names)
    at.slider(key="decay").set_value(0.0).run()
    _ok(at)
    assert not any((t.get("name") or "").startswith("box") for t in _figure(at, "AdamW")["data"])
    assert _xy(_trace(at, "SGD", "AdamW")).shape == (301, 2)


def test_url_round_trip_reproduces_the_picture():
    query = {"f1": "s4", "f2": "s5", "penalty": "elastic_net", "strength": "1.5", "l1_ratio": "0.5",
             "decay": "2.0", "lr": "0.02", "steps": "200", "w0x": "0.5", "w0y": "-0.5"}
    at = _app(query)
    _ok(at)
    assert not warnings(at)
    assert {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()} == query
    d = regpath.load_data(("s4", "s5"))
    expected, _ = regpath.regularized_minimizer(d.X, d.y, "elastic_net", 1.5, l1_ratio=0.5)
    np.testing.assert_allclose(_minimizer(at), expected, rtol=1e-12)
    assert tuple(_xy(_trace(at, "AdamW (decoupled)"))[0]) == (0.5, -0.5)


@pytest.mark.parametrize(("key", "value", "label", "words"), [
    ("strength", "abc", "strength λ", "must be a number"),
    ("strength", "99", "strength λ", "must be a number in [0, 5]"),
    ("penalty", "l9", "penalty", "must be one of l1, l2, elastic_net"),
    ("f1", "height", "first weight", "must be one of age, sex, bmi"),
    ("steps", "1.5", "steps", "must be a whole number in [10, 5000]"),
    ("w0y", "nan", "start, second weight", "must be a finite number"),
])
def test_bad_url_values_fall_back_with_a_notice_naming_the_label(key, value, label, words):
    at = _app({key: value})
    _ok(at)
    assert_notice_names_the_label(at, key, label, words)
    assert any(value in w for w in warnings(at))
    assert len(figures(at)) == 5


def test_a_default_visit_shows_no_notice():
    """A value the user never chose produces no notice."""
    at = _app()
    assert not warnings(at) and not errors(at)


@pytest.mark.parametrize("value", HOSTILE_NAMES)
def test_hostile_link_values_are_shown_literally(value):
    """A refused link value appears as the characters it holds: no link, no image, no Markdown."""
    at = _app({"f1": value, "penalty": value})
    _ok(at)
    assert_literal_notices(at, value, 2)
    assert all("“first weight”" in n or "“penalty”" in n for n in notices(at, "warning"))
    assert len(figures(at)) == 5


@pytest.mark.parametrize("penalty", regpath.PENALTIES)
def test_every_stated_sklearn_conversion_reproduces_the_pages_minimizer(penalty):
    """Issue 13: fit scikit-learn with the parameters the caption prints and land on the page's minimizer;
    the factor the caption states between the objectives is the factor between them."""
    at = _app({"penalty": penalty, "strength": "0.8", "l1_ratio": "0.3"})
    _ok(at)
    caption = next(c.value for c in at.caption if "scikit-learn" in c.value)
    call = re.search(r"`(\w+)\((.*?)\)`", caption)
    estimator = {"Lasso": Lasso, "Ridge": Ridge, "ElasticNet": ElasticNet}[call.group(1)]
    args = dict(re.findall(r"(\w+)=([^,]+)", call.group(2)))
    params = {k: eval(v) for k, v in args.items()}  # numbers and False, exactly as printed
    solver = {} if estimator is Ridge else {"tol": 1e-14, "max_iter": 1_000_000}
    d = regpath.load_data(("bmi", "bp"))
    X, y = np.asarray(d.X), np.asarray(d.y)
    coef = estimator(**params, **solver).fit(X, y).coef_
    np.testing.assert_allclose(coef, _minimizer(at), atol=1e-6)
    ratio = float(re.search(r"objective is ([\d.]+) × this page's", caption).group(1))
    rho = {"l1": 1.0, "l2": 0.0}.get(penalty, 0.3)
    for w in np.random.default_rng(1).normal(size=(4, 2)):
        r = X @ w - y
        ours = np.mean(r**2) + 0.8 * (rho * np.abs(w).sum() + (1 - rho) / 2 * (w @ w))
        a, mix = params["alpha"], params.get("l1_ratio", 1.0)
        theirs = (r @ r + a * (w @ w)) if estimator is Ridge else (
            r @ r / (2 * len(y)) + a * mix * np.abs(w).sum() + a * (1 - mix) / 2 * (w @ w))
        assert theirs == pytest.approx(ratio * ours, rel=1e-12)


def test_the_largest_link_stays_within_the_budget():
    """Every setting at its most expensive end: within 3 s of CPU and 300 MB, or refused naming a setting."""
    query = {"f1": "s6", "f2": "s3", "penalty": "elastic_net", "strength": "5.0", "l1_ratio": "0.999",
             "decay": "20.0", "lr": "1.0", "steps": "5000", "w0x": "5.0", "w0y": "-5.0"}
    at, cpu, peak = open_measured(PAGE, query)
    _ok(at)
    refused = [e for e in errors(at) if "was not computed" in e]
    assert cpu < 3.0 or any("steps" in e for e in refused), cpu
    assert peak < 300 * 2**20, peak
    assert len(figures(at)) == 5 or refused


def test_the_generated_code_prints_the_pages_numbers(tmp_path):
    """Both scripts, run as the user would copy them, print what the page draws: the scikit-learn one the
    minimizer (1e-6), the PyTorch one each run's end (float64 round-off)."""
    at = _app({"f1": "s4", "f2": "s5", "penalty": "elastic_net", "strength": "1.5", "l1_ratio": "0.4",
               "decay": "2.0", "lr": "0.05", "steps": "300", "w0x": "0.5", "w0y": "-0.5"})
    _ok(at)
    sklearn_code, torch_code = (c.value for c in at.code)
    (minimizer,) = run_script(sklearn_code, tmp_path, "minimizer.py")
    np.testing.assert_allclose([minimizer["s4"], minimizer["s5"]], _minimizer(at), atol=1e-6)
    runs = run_script(torch_code, tmp_path, "decay.py")
    assert [r["optimizer"] for r in runs] == list(regpath.DECAY_LABELS)
    for result in runs:
        end = _xy(_trace(at, result["optimizer"], "AdamW"))[-1]
        np.testing.assert_allclose([result["weights"]["s4"], result["weights"]["s5"]], end, rtol=1e-10,
                                   atol=1e-13)


def test_the_default_visit_finds_the_landscape_warmed_at_server_start(monkeypatch):
    """``lossviz app`` solves the default scenario's regularization paths before the server starts
    (lossviz.ui.cache.warm_pages: 0.8 s of the page's first visit); the default visit does not solve
    them again, and draws the same page."""
    from lossviz.ui import cache

    cache.warm_pages()
    monkeypatch.setattr(regpath, "landscape_of", lambda *a, **k: pytest.fail("landscape_of computed again"))
    at = _app()
    _ok(at)
    assert len(figures(at)) >= 3
