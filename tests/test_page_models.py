"""Models on data page through AppTest: datasets, the loss switch, outliers, the chosen step and the click,
scenarios and the default picture's claim, your own CSV (used, refused, forgotten, hostile), the link, the
work budget and the PyTorch code run against the page's numbers."""
import ast
import json
import re
import subprocess
import sys
import time
from unittest import mock

import numpy as np
import pytest

from lossviz import csvdata
from lossviz.lessons import models_on_data as dl
from lossviz.ui.catalog import ROOT
from tests.pagetest import assert_clean, chart, charts, decode, errors, open_page, warnings

PAGE = str(ROOT / "pages/7_Models_on_Data.py")
CHARTS = ["data_contour", "data_surface", "data_view", "data_loss"]
PICK, LOAD = "models_on_data_scenario_pick", "models_on_data_load"


def _app(query=None):
    return open_page(PAGE, query, timeout=90)


def _ok(at):
    assert_clean(at, errors=True)


def _z(at):
    return decode(chart(at, "data_contour")["data"][0]["z"])


def _names(at, key):
    return [t.get("name") for t in chart(at, key)["data"]]


def _trace(at, key, prefix):
    return next(t for t in chart(at, key)["data"] if str(t.get("name", "")).startswith(prefix))


def _path(at, prefix="1. "):
    line = next(t for t in chart(at, "data_contour")["data"]
                if str(t.get("name", "")).startswith(prefix) and t.get("mode") == "lines")
    return np.column_stack([decode(line["x"]), decode(line["y"])])


def _query(at):
    return {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}


def test_default_page_draws_the_exact_mse_landscape_and_the_fit():
    at = _app()
    _ok(at)
    assert charts(at) == CHARTS
    contour = chart(at, "data_contour")
    assert contour["layout"]["xaxis"]["title"]["text"].startswith("slope w")
    assert contour["layout"]["yaxis"]["title"]["text"].startswith("intercept b")
    # The map is the exact MSE of every (slope, intercept) on the page's data.
    data = dl.load_dataset("linear", ["x"], n_samples=100, noise=0.5, seed=0)
    xs, ys = decode(contour["data"][0]["x"]), decode(contour["data"][0]["y"])
    np.testing.assert_allclose(_z(at), dl.grid(dl.build(data, "mse"), xs, ys), rtol=1e-12)
    star = _trace(at, "data_contour", "minimum of Mean squared error")
    np.testing.assert_allclose([star["x"][0], star["y"][0]], np.polyfit(data.X[:, 0], data.y, 1), rtol=1e-9)
    assert {"data", "lowest point of the landscape"} <= set(_names(at, "data_view"))
    scene = chart(at, "data_surface")["layout"]["scene"]
    assert (scene["xaxis"]["title"]["text"], scene["yaxis"]["title"]["text"]) == ("slope", "intercept")
    assert any("Reached the minimum" in s.value for s in at.success)
    assert _query(at)["source"] == "linear"


def test_the_default_picture_shows_what_the_default_text_says():
    """The bowl scenario's paragraph, checked on the page's own figures."""
    at = _app()
    _ok(at)
    sc = dl.SCENARIOS["bowl"]
    assert any(sc.title in i.value for i in at.info)
    contour = chart(at, "data_contour")
    xs, ys, Z = decode(contour["data"][0]["x"]), decode(contour["data"][0]["y"]), _z(at)
    # An exact quadratic bowl: a degree-2 polynomial in (slope, intercept) fits every value to round-off,
    # with a positive definite Hessian (one bottom).
    X, Y = np.meshgrid(xs, ys)
    design = np.column_stack([np.ones(X.size), X.ravel(), Y.ravel(), X.ravel() ** 2, X.ravel() * Y.ravel(),
                              Y.ravel() ** 2])
    coef, *_ = np.linalg.lstsq(design, Z.ravel(), rcond=None)
    assert np.abs(design @ coef - Z.ravel()).max() < 1e-9 * np.ptp(Z)
    hessian = np.array([[2 * coef[3], coef[4]], [coef[4], 2 * coef[5]]])
    assert np.all(np.linalg.eigvalsh(hessian) > 0)
    # The star is the least-squares line, also drawn dashed on the data.
    data = dl.load_dataset("linear", ["x"], n_samples=100, noise=0.5, seed=0)
    land = dl.build(data, "mse")
    star = _trace(at, "data_contour", "minimum of")
    np.testing.assert_allclose([star["x"][0], star["y"][0]], dl.least_squares(land), rtol=1e-9)
    best_line = _trace(at, "data_view", "lowest point of the landscape")
    assert best_line["line"]["dash"] == "dash"
    np.testing.assert_allclose(decode(best_line["y"]), dl.fit_at(land, dl.least_squares(land)).y, rtol=1e-9)
    # Gradient descent with lr 0.1 from (-2, -2) rolls down to the bottom; the data view shows step 0.
    assert at.session_state["o1_sgd_lr"] == 0.1
    assert (at.session_state["x0"], at.session_state["y0"]) == (-2, -2)
    assert "lr 0.1" in sc.explanation and "slope −2, intercept −2" in sc.explanation
    path = _path(at)
    np.testing.assert_allclose(path[0], [-2.0, -2.0])
    assert np.linalg.norm(path[-1] - dl.least_squares(land)) < 1e-6
    assert np.all(np.diff(np.linalg.norm(path - dl.least_squares(land), axis=1)) < 0)  # always downhill
    fit = _trace(at, "data_view", "1. ")
    assert fit["name"].endswith("step 0")
    np.testing.assert_allclose(decode(fit["y"]), dl.fit_at(land, [-2.0, -2.0]).y, rtol=1e-9)


def test_the_learning_rate_scrubber_replays_every_rate_from_one_run_call():
    at = _app()
    spec = chart(at, "data_contour")
    scrub = spec["lossviz_scrub"]
    assert len(scrub["values"]) == len(dl.LR_MULTIPLIERS) >= 25
    assert scrub["values"][scrub["active"]] == "lr = 0.1 (× 1)"
    names = [t.get("name") for t in spec["data"]]
    assert [names[i] for i in scrub["traces"]] == ["1. SGD (lr 0.1)"]
    assert {names[i] for i in scrub["hide"]} == {"chosen step", "pick step: 1. SGD (lr 0.1)"}
    data = dl.load_dataset("linear", ["x"], n_samples=100, noise=0.5, seed=0)
    land = dl.build(data, "mse")
    from lossviz import optimizers
    from lossviz.run import run
    for value, frame in zip(scrub["values"], scrub["frames"]):
        lr = float(re.match(r"lr = ([0-9.e-]+)", value).group(1))
        expected = run(land.model, optimizers.get("sgd", lr=lr), np.array([-2.0, -2.0]), 100).params
        path = np.column_stack([decode(frame[0]["x"]), decode(frame[0]["y"])])
        finite = np.all(np.isfinite(expected), axis=1)
        np.testing.assert_allclose(path[finite[: len(path)]], expected[finite], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", dl.loss_names("regression")[1:])
def test_the_loss_switch_recomputes_the_surface(loss):
    at = _app()
    before = _z(at)
    at.selectbox(key="loss").select(loss).run()
    _ok(at)
    assert _z(at).shape == before.shape and not np.allclose(_z(at), before)
    assert any(dl.LOSS_CHOICES[loss].title in n for n in _names(at, "data_contour") if n)


def test_huber_delta_appears_with_huber_and_changes_its_surface():
    at = _app()
    at.selectbox(key="loss").select("huber").run()
    small = _z(at)
    at.slider(key="delta").set_value(3.0).run()
    _ok(at)
    assert not np.allclose(_z(at), small)
    assert _query(at)["delta"] == "3.0"


def test_outliers_move_the_mse_minimum_far_more_than_mae_and_huber():
    at = _app()
    at.slider(key="outliers").set_value(4).run()
    at.slider(key="outlier_size").set_value(8.0).run()
    _ok(at)
    table = at.dataframe[0].value
    shifts = dict(zip(table["loss"], table["shift"]))
    assert shifts["Mean squared error (MSE)"] > 5 * max(shifts["Mean absolute error (MAE)"], shifts["Huber"])
    assert {"MSE minimum", "MAE minimum", "Huber minimum"} <= set(_names(at, "data_contour"))
    assert {"moved outliers", "Mean squared error (MSE) fit", "Huber fit"} <= set(_names(at, "data_view"))


@pytest.mark.parametrize("source", [s for s in dl.PRESETS if s != "linear"])
def test_every_dataset_renders_with_a_loss_of_its_task(source):
    at = _app()
    at.selectbox(key="source").select(source).run()
    _ok(at)
    assert not warnings(at)
    preset = dl.PRESETS[source]
    assert at.session_state["loss"] in dl.loss_names(preset.task)
    assert at.session_state["f1"] == preset.features[0]
    if preset.task == "classification":
        assert any(str(n).startswith("class: ") for n in _names(at, "data_view"))


@pytest.mark.parametrize("loss", dl.loss_names("classification"))
def test_every_classification_loss_draws_its_landscape_and_boundary(loss):
    at = _app({"source": "blobs", "nfeat": "2", "f1": "x1", "f2": "x2", "loss": loss})
    _ok(at)
    contour = chart(at, "data_contour")
    assert contour["data"][0]["colorbar"]["title"]["text"] == "loss"  # linear: plateaus show
    assert contour["layout"]["xaxis"]["title"]["text"].startswith("w₁")
    fit = _trace(at, "data_view", "1. ")
    assert len(decode(fit["x"])) in (0, 2)  # the boundary's two ends (none when w = 0)


def test_one_feature_logistic_regression_draws_the_sigmoid_and_a_three_class_dataset_asks_a_class():
    at = _app({"source": "iris", "nfeat": "1", "f1": "petal width (cm)", "positive": "versicolor"})
    _ok(at)
    assert not warnings(at)
    assert at.selectbox(key="positive").value == "versicolor"
    assert "class: not versicolor" in _names(at, "data_view")
    fit = decode(_trace(at, "data_view", "1. ")["y"])
    assert np.all((fit >= 0) & (fit <= 1))


def test_the_step_slider_and_a_click_near_the_path_choose_the_fit_shown():
    at = _app()
    at.slider(key="step").set_value(7).run()
    _ok(at)
    assert _trace(at, "data_view", "1. ")["name"].endswith("step 7")
    point = _path(at)[23]
    at.session_state["data_contour"] = {"x": float(point[0]) + 1e-3, "y": float(point[1]), "id": "click-1"}
    at.run()
    _ok(at)
    assert at.session_state["step"] == 23
    assert _trace(at, "data_view", "1. ")["name"].endswith("step 23")
    assert _query(at)["step"] == "23"
    at.session_state["data_contour"] = {"x": 1e3, "y": 1e3, "id": "click-2"}  # beside every path: nothing
    at.run()
    _ok(at)
    assert at.session_state["step"] == 23


def test_fewer_steps_clamp_the_chosen_step_without_a_notice():
    at = _app()
    at.slider(key="step").set_value(90).run()
    at.slider(key="steps").set_value(20).run()
    _ok(at)
    assert at.session_state["step"] == 20
    assert not warnings(at)


@pytest.mark.parametrize("name", list(dl.SCENARIOS))
def test_every_scenario_loads_and_its_lesson_shows(name):
    sc = dl.SCENARIOS[name]
    at = _app()
    at.selectbox(key=PICK).select(name).run()
    at.button(key=LOAD).click().run()
    _ok(at)
    assert any(sc.title in i.value for i in at.info)
    assert at.session_state["loss"] == sc.loss and at.session_state["source"] == sc.dataset
    targets = [n for n in _names(at, "data_contour") if str(n).startswith("pick step")]
    assert len(targets) == len(sc.optimizers)


def test_the_scenario_verdicts_match_their_lessons():
    at = _app()
    at.selectbox(key=PICK).select("zero_one_no_gradient").run()
    at.button(key=LOAD).click().run()
    assert any("never moved" in w.value for w in at.warning)
    at.selectbox(key=PICK).select("sigmoid_mse_stalls").run()
    at.button(key=LOAD).click().run()
    assert any("plateau" in w.value for w in at.warning)


def test_a_third_optimizer_is_a_distinct_one_not_a_copy():
    at = _app()
    at.slider(key="racers").set_value(3).run()
    _ok(at)
    labels = [n for n in _names(at, "data_contour") if str(n)[:3] in ("1. ", "2. ", "3. ")]
    assert len(set(labels)) == 3, labels


def test_url_round_trip_reproduces_the_same_picture():
    at = _app()
    at.selectbox(key=PICK).select("mae_needs_decay").run()
    at.button(key=LOAD).click().run()
    again = _app(_query(at))
    _ok(again)
    assert not warnings(again)
    np.testing.assert_array_equal(_z(again), _z(at))
    for prefix in ("1. ", "2. "):
        np.testing.assert_array_equal(_path(again, prefix), _path(at, prefix))


LABELS = {"source": "dataset", "loss": "loss", "steps": "steps", "x0": "start (1st axis)", "noise": "noise",
          "outliers": "outliers (targets moved up)", "o1_sgd_lr": "optimizer 1: learning rate (lr)",
          "racers": "optimizers"}


@pytest.mark.parametrize(
    "key, value",
    [("source", "mnist"), ("loss", "<script>"), ("steps", "-3"), ("x0", "1e400"), ("noise", "lots"),
     ("outliers", "500"), ("o1_sgd_lr", "nan"), ("racers", "4")],
)
def test_tampered_url_values_fall_back_with_a_notice_naming_the_label(key, value):
    at = _app({key: value})
    assert_clean(at)
    shown = warnings(at)
    assert any(f"“{LABELS[key]}”" in w and "ignored" in w for w in shown), shown
    assert not any(re.search(rf"\b{key}\b", w.replace(LABELS[key], "")) for w in shown), shown
    assert charts(at) == CHARTS


@pytest.mark.parametrize(
    "query, words",
    [({"f1": "height"}, "“feature” = “height” was ignored: it is not a feature of this dataset. Using “x”"),
     ({"loss": "hinge"}, "“loss” = “hinge” was ignored: it does not suit a regression. Using “Mean squared"),
     ({"source": "iris", "positive": "rose"}, "“positive class (vs the rest)” = “rose” was ignored"),
     ({"step": "500"}, "“step on the trajectory” = “500” was ignored: it is past the last step (100)"),
     ({"source": "diabetes", "nfeat": "2", "f1": "bmi", "f2": "bmi"},
      "“second feature” = “bmi” was ignored")],
)
def test_link_values_that_do_not_fit_the_dataset_get_a_notice_by_label(query, words):
    """Issue 13: no internal key (f1=..., csv_target=...) in a message, and the label the user sees."""
    at = _app(query)
    assert_clean(at)
    shown = warnings(at)
    assert any(words in w for w in shown), shown
    assert not any(re.search(r"\b(f1|f2|positive|csv_target|step)=", w) for w in shown), shown
    assert charts(at) == CHARTS
    at.run()  # the notice stays while the page is open
    assert any(words in w for w in warnings(at))


def test_a_value_the_user_never_chose_gives_no_notice():
    at = _app({"source": "diabetes"})
    _ok(at)
    assert not warnings(at)
    at.selectbox(key="source").select("iris").run()
    at.selectbox(key="source").select("linear").run()
    _ok(at)
    assert not warnings(at)


def test_a_bad_optimizer_setting_is_a_message():
    at = _app({"o1_sgd_nesterov": "1"})
    assert_clean(at)
    assert any("nesterov" in e.lower() for e in errors(at))


def test_torch_code_and_exports_are_offered():
    at = _app()
    code = at.get("code")[0].value
    assert "torch.nn.functional.mse_loss(w * X[:, 0] + b, t)" in code and "X = torch.tensor" in code
    assert [b.label for b in at.get("download_button") if b.label not in ("PNG", "SVG")] == [
        "Trajectories (CSV)", "Landscape grid (CSV)", "Model data (CSV)", "Landscape figure (HTML)"]


@pytest.mark.parametrize(
    "query, source, target",
    [({}, "linear", "the target, in its own units (not standardized)"),  # the issue: y has mean 0.96, sd 2.05
     ({"source": "diabetes", "f1": "bmi", "nfeat": "2", "f2": "bp", "outliers": "3"}, "diabetes",
      "the target, standardized too, with 3 value(s) moved up as outliers, then centred"),
     ({"source": "blobs", "loss": "cross_entropy"}, "blobs", "1 for the positive class, 0 for any other")],
)
def test_the_code_caption_says_which_exported_columns_are_standardized(query, source, target):
    at = _app(query)
    _ok(at)
    (caption,) = [c.value for c in at.caption if "Model data (CSV)" in c.value]
    assert target in caption and "standardized features and target" not in caption
    if "own units" in target:  # the words against the numbers of the file
        data = dl.load_dataset(source, list(dl.PRESETS[source].features))
        y = dl.model_data_frame(dl.build(data, at.session_state["loss"])).iloc[:, -1]
        assert abs(y.mean()) > 0.1 and abs(y.std(ddof=0) - 1) > 0.1


def test_the_pages_pytorch_code_ends_where_the_page_does(tmp_path):
    pytest.importorskip("torch")
    at = _app({"racers": "2", "o2_opt": "adam", "o2_adam_lr": "0.05", "loss": "huber", "steps": "40"})
    _ok(at)
    code = at.get("code")[0].value
    (tmp_path / "page.py").write_text(code)
    out = subprocess.run([sys.executable, "page.py"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, check=True).stdout
    printed = [json.loads(line) for line in out.strip().splitlines()]
    assert len(printed) == 2
    for prefix, final in zip(("1. ", "2. "), printed):
        np.testing.assert_allclose(final, _path(at, prefix)[-1], rtol=1e-9, atol=1e-12)


GOOD_CSV = ("hours,score,passed,grade\n" + "".join(
    f"{h},{50 + 4 * h + (7 if h % 3 == 0 else -5)},{'yes' if h > 6 else 'no'},{'ABC'[h % 3]}\n"
    for h in range(1, 26))).encode()


def _csv_app(content=GOOD_CSV, name="study.csv", query=None):
    at = _app({"source": "csv", **(query or {})})
    assert any("Upload a CSV file" in i.value for i in at.info)
    at.file_uploader(key="csv_file").set_value((name, content, "text/csv")).run()
    return at


def test_an_uploaded_csv_gives_the_same_views():
    at = _csv_app()
    at.selectbox(key="csv_target").select("score").run()
    _ok(at)
    assert at.radio(key="csv_task").value == "regression"
    assert at.session_state["f1"] == "hours"
    assert "data" in _names(at, "data_view") and charts(at) == CHARTS
    title = chart(at, "data_contour")["layout"]["xaxis"]["title"]["text"]
    assert title == "slope w (sd of score per sd of hours)"
    assert "hours" in _query(at)["f1"]
    assert not any("score" in str(v) for v in at.query_params.values())  # settings in the URL, not the data


def test_a_new_csv_starts_from_the_suggested_target_and_says_why():
    """Issue 13: the target was the first column ("height,weight,label" regressed height on weight)."""
    content = ("height,weight,label\n" + "".join(f"{150 + i},{50 + i % 7},{'ab'[i % 2]}\n"
                                                  for i in range(30))).encode()
    at = _csv_app(content, "people.csv")
    _ok(at)
    assert at.session_state["csv_target"] == "label" and at.radio(key="csv_task").value == "classification"
    shown = [e.proto.body for e in at.get("html") if "chosen for you" in e.proto.body]
    assert shown and "label" in shown[0] and "looks like a target column" in shown[0]
    assert not warnings(at)  # the link's default feature "x" is no column here, and no one chose it
    at.file_uploader(key="csv_file").set_value(("study.csv", GOOD_CSV, "text/csv")).run()
    _ok(at)
    assert at.session_state["csv_target"] == "grade"  # the new file's own suggestion, not "label"
    assert not warnings(at)


def test_a_csv_text_target_is_a_classification_with_a_positive_class():
    at = _csv_app()
    at.selectbox(key="csv_target").select("passed").run()
    _ok(at)
    assert at.radio(key="csv_task").value == "classification"
    assert {"class: no", "class: yes"} <= set(_names(at, "data_view"))
    at.selectbox(key="csv_target").select("grade").run()
    _ok(at)
    assert at.selectbox(key="positive").options == ["A", "B", "C"]
    assert "class: not C" in _names(at, "data_view")


def test_a_csv_column_choice_that_cannot_work_is_refused_with_its_message():
    at = _csv_app()
    at.selectbox(key="csv_target").select("score").run()
    at.selectbox(key="f1").select("passed").run()
    assert_clean(at)
    assert any("Column 'passed' (feature) is not numeric" in e for e in errors(at))
    assert all(chart(at, key)["stale"] for key in CHARTS)  # the last good picture, greyed out
    at.selectbox(key="csv_target").select("hours").run()
    at.selectbox(key="f1").select("score").run()
    at.radio(key="csv_task").set_value("classification").run()
    assert any("25 distinct values: too many to be classes" in e for e in errors(at))


@pytest.mark.parametrize(
    "content, words",
    [(b"", "The file is empty"), (b"PK\x03\x04" + b"\x00" * 40, "ZIP archive"),
     ("a;b\n".encode() + "é;1\n".encode() * 6 + "é;1\n".encode("latin-1") * 6, "not UTF-8 text"),
     (b"a,b\n1,2\n", "at least 10 are needed")],
)
def test_a_bad_csv_is_refused_with_its_message_and_nothing_drawn(content, words):
    at = _csv_app(content, "bad.csv")
    assert_clean(at)
    shown = errors(at)
    assert any("“bad.csv” was refused" in e and words in e for e in shown), shown
    assert not charts(at)
    # The main area says the file given could not be used, not to upload one as if none had been.
    (info,) = [i.value for i in at.info]
    assert info.startswith("The file in the sidebar could not be used (its message is under it).")
    assert f"at most {csvdata.size_limit()}" in info


def _columns_csv(x, y) -> bytes:
    return ("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y))).encode()


@pytest.mark.parametrize(
    "x, y, column",
    [([i * 1e300 for i in range(30)], [2 * i * 1e300 for i in range(30)], "'x' (feature)"),  # the issue
     (range(30), [i * 1e160 for i in range(30)], "'y' (target)"),
     ([(-1) ** i * 1e200 for i in range(30)], range(30), "'x' (feature)"),
     (range(30), [i / 29 * 10 * csvdata.MAX_ABS_VALUE for i in range(30)], "'y' (target)")],
    ids=["issue_1e300", "target_1e160", "feature_1e200", "target_just_beyond"],
)
def test_a_csv_too_large_to_standardize_is_refused_by_column_and_nothing_is_drawn(x, y, column):
    import warnings as python_warnings

    with python_warnings.catch_warnings(record=True) as caught:
        python_warnings.simplefilter("always")
        at = _csv_app(_columns_csv(x, y), "huge.csv")
        at.selectbox(key="csv_target").select("y").run()
    assert_clean(at)
    limit = f"{csvdata.MAX_ABS_VALUE:g}"
    assert any(f"Column {column} holds" in e and "too large to standardize" in e and limit in e
               for e in errors(at)), errors(at)
    assert not charts(at) and not any("minimum is at" in e.proto.body for e in at.get("html"))
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in caught]


def test_the_uploader_the_check_and_the_prompt_state_one_size_limit():
    """Issue: the uploader refused 50.1 MB (10**6-byte megabytes) while the app allowed 50 MiB, and a file the
    uploader refuses never reaches the page, which then asked for a file as if none had been given."""
    at = _app({"source": "csv"})
    uploader = at.file_uploader(key="csv_file")
    assert uploader.proto.max_upload_size_mb * 10**6 == csvdata.MAX_BYTES
    assert f"≤ {csvdata.size_limit()}" in uploader.label and csvdata.size_limit() == "50 MB"
    (info,) = [i.value for i in at.info]
    assert info.startswith("Upload a CSV file in the sidebar of at most 50 MB (50,000,000 bytes")
    assert "refused" not in info and "could not be used" not in info
    with pytest.raises(ValueError, match=r"the limit is 50 MB \(50,000,000 bytes\)"):
        csvdata.read_csv(b"x" * (uploader.proto.max_upload_size_mb * 10**6 + 1))


def test_removing_the_file_forgets_it_and_the_table_lives_in_this_session_only():
    calls = []
    read = csvdata.read_csv

    def counting(data):
        calls.append(len(data))
        return read(data)

    with mock.patch.object(csvdata, "read_csv", counting):
        at = _csv_app()
        at.run()
        assert len(calls) == 1  # kept for this session, keyed by the file's content
        at.file_uploader(key="csv_file").set_value(None).run()
        assert_clean(at)
        assert not charts(at) and "_csv_digest" not in at.session_state
        at.file_uploader(key="csv_file").set_value(("study.csv", GOOD_CSV, "text/csv")).run()
        assert len(calls) == 2  # dropped with the file: read again
        other = _csv_app()
        assert len(calls) == 3 and charts(other) == CHARTS  # another session never sees this one's table


HOSTILE = ['<a href="http://evil.example/login">log in</a>', "[log in](http://evil.example) ![t](http://e.x/p.png)",
           "=HYPERLINK(\"http://evil.example\")", "t\nimport os; open('owned.txt','w').write('pwned')  #",
           "**x**\u2028import os", "%{x}<b>bold</b>"]


def test_hostile_column_and_file_names_are_shown_literally_everywhere():
    rows = "".join(f"{i},{2 * i + (i % 3)},{'ab'[i % 2]}\n" for i in range(20))
    header = ",".join('"' + n.replace('"', '""') + '"' for n in HOSTILE[:3])
    at = _csv_app((header + "\n" + rows).encode(), '<img src="http://evil.example/p.png">.csv',
                  {"f1": HOSTILE[0]})
    at.selectbox(key="csv_target").select(HOSTILE[1]).run()
    at.selectbox(key="f1").select(HOSTILE[0]).run()
    _ok(at)
    titles = [chart(at, "data_contour")["layout"][a]["title"]["text"] for a in ("xaxis", "yaxis")]
    titles += [chart(at, "data_view")["layout"][a]["title"]["text"] for a in ("xaxis", "yaxis")]
    for title in titles:
        assert "<a" not in title and "<img" not in title and "&lt;a href" in "".join(titles)
    for element in at.get("html"):
        assert "<a " not in element.proto.body and "<img" not in element.proto.body
    for element in [*at.markdown, *at.caption, *at.info, *at.success, *at.warning]:
        assert "evil" not in element.value
    assert any("&lt;img src=" in e.proto.body for e in at.get("html"))  # the file's name, as typed


def _statements(code: str) -> str:
    return ast.dump(ast.parse(code))


@pytest.mark.parametrize("name", [*HOSTILE, "t\x0bimport os", "t\x1cimport os", "t\x85import os",
                                  "t\u2029import os", "t\rimport os"])
def test_the_code_carries_column_names_only_as_comments(name):
    """Issue 14 hole 2: the script's statements are the same whatever the columns are called."""
    from lossviz import datasets, optimizers

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 1)), rng.normal(size=30)
    scripts = []
    for feature, target in (("x", "y"), (name, name + "2")):
        data = datasets.from_arrays(X, y, task="regression", feature_names=[feature], target_name=target)
        land = dl.build(data, "huber")
        scripts.append(dl.torch_code(land, optimizers.get("sgd", lr=0.1), None, steps=5, x0=(0.5, -0.5)))
    assert _statements(scripts[1]) == _statements(scripts[0])
    assert not any(line.strip() and not line.lstrip().startswith("#") and "import os" in line
                   for line in scripts[1].splitlines())


def test_the_model_data_export_escapes_formula_like_headers():
    rows = "".join(f"{i},{2 * i + (i % 3)}\n" for i in range(20))
    table = csvdata.read_csv(('"=cmd|\' /C calc\'!A0","+SUM(1)"\n' + rows).encode())
    data = csvdata.to_dataset(table, "+SUM(1)", ["=cmd|' /C calc'!A0"], "regression")
    from lossviz.ui import export

    header = export.csv_text(dl.model_data_frame(dl.build(data, "mse"))).splitlines()[0]
    assert header == "'=cmd|' /C calc'!A0,'+SUM(1)"


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


MAXIMAL = {"source": "linear", "n": "2000", "noise": "5.0", "steps": "2000", "racers": "3", "outliers": "20",
           "outlier_size": "20.0", "loss": "huber", "o2_opt": "adam", "o3_opt": "rmsprop", "step": "2000"}


def test_maximal_link_settings_are_refused_with_a_setting_to_lower_or_fit_the_budget():
    _app()  # modules imported, caches warm: what is measured below is one page open
    before_rss, before = _rss(), time.process_time()
    at = _app(MAXIMAL)
    cpu = time.process_time() - before
    assert_clean(at)
    assert cpu < 3.0, cpu
    assert _rss() - before_rss < 300 * 2**20
    refusal = [e for e in errors(at) if "was not computed" in e]
    assert refusal and "Lower steps from 2000 to" in refusal[0], errors(at)
    # The value the message suggests is computed, within the same limits: the estimate is not too low.
    lower = int(re.search(r"steps from 2000 to (\d+)", refusal[0]).group(1))
    before = time.process_time()
    fits = _app(MAXIMAL | {"steps": str(lower), "step": "0"})
    assert time.process_time() - before < 3.0
    _ok(fits)
    assert charts(fits) == CHARTS


def test_a_released_upload_frees_its_table_and_every_copy_of_its_bytes(monkeypatch):
    """What a session drops (it disconnects, the file is removed or replaced) is freed at once: the table,
    every uploaded-file object sharing the bytes, and the uploader's own record of them."""
    import io
    import types
    import weakref

    import pandas as pd

    from lossviz.ui import upload

    removed = []
    manager = types.SimpleNamespace(remove_file=lambda session, file_id: removed.append((session, file_id)))
    monkeypatch.setattr(upload.Runtime, "instance", lambda: types.SimpleNamespace(uploaded_file_mgr=manager))
    first, second = io.BytesIO(b"x,y\n"), io.BytesIO(b"x,y\n")
    item = upload.Upload("digest", pd.DataFrame({"x": [1.0]}), "", "session-1",
                         {"file-1": [weakref.ref(first), weakref.ref(second)]})
    upload._release(item)
    assert item.table is None and first.closed and second.closed and not item.files
    assert removed == [("session-1", "file-1")]
