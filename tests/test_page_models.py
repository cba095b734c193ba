"""Models on data page through AppTest: datasets, the loss switch, outliers, the linked step, scenarios,
your own CSV (used, refused, forgotten), the URL."""
import numpy as np
import pytest

from lossviz.lessons import models_on_data as dl
from lossviz.ui.catalog import ROOT
from tests.pagetest import assert_clean, decode, figures, open_page

PAGE = str(ROOT / "pages/7_Models_on_Data.py")
# tests.pagetest.figures lists st.plotly_chart figures first, then live charts (the 3-D view).
CONTOUR, DATA, CURVES, SURFACE = range(4)


def _app(query=None):
    return open_page(PAGE, query, timeout=90)


def _ok(at):
    assert_clean(at, errors=True)


def _figure(at, index):
    return figures(at)[index]


def _z(at):
    return decode(_figure(at, CONTOUR)["data"][0]["z"])


def _names(at, index):
    return [t.get("name") for t in _figure(at, index)["data"]]


def _trace(at, index, prefix):
    return next(t for t in _figure(at, index)["data"] if str(t.get("name", "")).startswith(prefix))


def test_default_page_draws_the_exact_mse_landscape_and_the_fit():
    at = _app()
    _ok(at)
    assert len(figures(at)) == 4
    contour = _figure(at, CONTOUR)
    assert contour["layout"]["xaxis"]["title"]["text"].startswith("slope w")
    assert contour["layout"]["yaxis"]["title"]["text"].startswith("intercept b")
    # The map is the exact MSE of every (slope, intercept) on the page's data.
    data = dl.load_dataset("linear", ["x"], n_samples=100, noise=0.5, seed=0)
    xs, ys = decode(contour["data"][0]["x"]), decode(contour["data"][0]["y"])
    np.testing.assert_allclose(_z(at), dl.grid(dl.build(data, "mse"), xs, ys), rtol=1e-12)
    star = _trace(at, CONTOUR, "minimum of Mean squared error")
    np.testing.assert_allclose([star["x"][0], star["y"][0]], np.polyfit(data.X[:, 0], data.y, 1), rtol=1e-9)
    assert {"data", "lowest point of the landscape"} <= set(_names(at, DATA))
    scene = _figure(at, SURFACE)["layout"]["scene"]
    assert (scene["xaxis"]["title"]["text"], scene["yaxis"]["title"]["text"]) == ("slope", "intercept")
    assert any("Reached the minimum" in s.value for s in at.success)
    assert at.query_params["source"] in ("linear", ["linear"])


@pytest.mark.parametrize("loss", dl.loss_names("regression")[1:])
def test_the_loss_switch_recomputes_the_surface(loss):
    at = _app()
    before = _z(at)
    at.selectbox(key="loss").select(loss).run()
    _ok(at)
    assert _z(at).shape == before.shape and not np.allclose(_z(at), before)
    assert any(dl.LOSS_CHOICES[loss].title in n for n in _names(at, CONTOUR) if n)


def test_huber_delta_appears_with_huber_and_changes_its_surface():
    at = _app()
    at.selectbox(key="loss").select("huber").run()
    small = _z(at)
    at.slider(key="delta").set_value(3.0).run()
    _ok(at)
    assert not np.allclose(_z(at), small)
    assert at.query_params["delta"] in ("3.0", ["3.0"])


def test_outliers_move_the_mse_minimum_far_more_than_mae_and_huber():
    at = _app()
    at.slider(key="outliers").set_value(4).run()
    at.slider(key="outlier_size").set_value(8.0).run()
    _ok(at)
    table = at.dataframe[0].value
    shifts = dict(zip(table["loss"], table["shift"]))
    assert shifts["Mean squared error (MSE)"] > 5 * max(shifts["Mean absolute error (MAE)"], shifts["Huber"])
    names = _names(at, CONTOUR)
    assert {"MSE minimum", "MAE minimum", "Huber minimum"} <= set(names)
    assert {"moved outliers", "Mean squared error (MSE) fit", "Huber fit"} <= set(_names(at, DATA))


@pytest.mark.parametrize("source", [s for s in dl.PRESETS if s != "linear"])
def test_every_dataset_renders_with_a_loss_of_its_task(source):
    at = _app()
    at.selectbox(key="source").select(source).run()
    _ok(at)
    assert not at.warning, [w.value for w in at.warning]
    preset = dl.PRESETS[source]
    assert at.session_state["loss"] in dl.loss_names(preset.task)
    assert at.session_state["f1"] == preset.features[0]
    if preset.task == "classification":
        assert any(str(n).startswith("class: ") for n in _names(at, DATA))


@pytest.mark.parametrize("loss", dl.loss_names("classification"))
def test_every_classification_loss_draws_its_landscape_and_boundary(loss):
    at = _app({"source": "blobs", "nfeat": "2", "f1": "x1", "f2": "x2", "loss": loss})
    _ok(at)
    assert _figure(at, CONTOUR)["data"][0]["colorbar"]["title"]["text"] == "loss"  # linear: plateaus show
    assert _figure(at, CONTOUR)["layout"]["xaxis"]["title"]["text"].startswith("w₁")
    fit = _trace(at, DATA, "1. ")
    assert len(decode(fit["x"])) in (0, 2)  # the boundary's two ends (none when w = 0)


def test_one_feature_logistic_regression_draws_the_sigmoid_and_a_three_class_dataset_asks_a_class():
    at = _app({"source": "iris", "nfeat": "1", "f1": "petal width (cm)", "positive": "versicolor"})
    _ok(at)
    assert at.selectbox(key="positive").value == "versicolor"
    assert "class: not versicolor" in _names(at, DATA)
    fit = decode(_trace(at, DATA, "1. ")["y"])
    assert np.all((fit >= 0) & (fit <= 1))


def test_the_step_slider_and_a_click_on_the_path_choose_the_fit_shown():
    at = _app()
    at.slider(key="step").set_value(7).run()
    _ok(at)
    assert _trace(at, DATA, "1. ")["name"].endswith("step 7")
    at.session_state["data_landscape_0"] = {"selection": {"points": [{"curve_number": 4, "customdata": 23}]}}
    at.run()
    _ok(at)
    assert at.session_state["step"] == 23
    assert _trace(at, DATA, "1. ")["name"].endswith("step 23")
    assert at.query_params["step"] in ("23", ["23"])


def test_fewer_steps_clamp_the_chosen_step():
    at = _app()
    at.slider(key="step").set_value(90).run()
    at.slider(key="steps").set_value(20).run()
    _ok(at)
    assert at.session_state["step"] == 20


@pytest.mark.parametrize("name", list(dl.SCENARIOS))
def test_every_scenario_loads_and_its_lesson_shows(name):
    sc = dl.SCENARIOS[name]
    at = _app()
    at.selectbox(key="data_scenario_pick").select(name).run()
    at.button[0].click().run()
    _ok(at)
    assert any(sc.title in i.value for i in at.info)
    assert at.session_state["loss"] == sc.loss and at.session_state["source"] == sc.dataset
    assert len([n for n in _names(at, CONTOUR) if str(n).startswith("pick step")]) == len(sc.optimizers)


def test_the_scenario_verdicts_match_their_lessons():
    at = _app()
    at.selectbox(key="data_scenario_pick").select("zero_one_no_gradient").run()
    at.button[0].click().run()
    assert any("never moved" in w.value for w in at.warning)
    at.selectbox(key="data_scenario_pick").select("sigmoid_mse_stalls").run()
    at.button[0].click().run()
    assert any("plateau" in w.value for w in at.warning)


def test_url_round_trip_reproduces_the_same_picture():
    at = _app()
    at.selectbox(key="data_scenario_pick").select("mae_needs_decay").run()
    at.button[0].click().run()
    query = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    again = _app(query)
    _ok(again)
    assert not again.warning
    np.testing.assert_array_equal(_z(again), _z(at))
    for prefix in ("pick step: 1.", "pick step: 2."):
        np.testing.assert_array_equal(decode(_trace(again, CONTOUR, prefix)["x"]),
                                      decode(_trace(at, CONTOUR, prefix)["x"]))


@pytest.mark.parametrize(
    "key, value",
    [("source", "mnist"), ("loss", "<script>"), ("steps", "-3"), ("x0", "1e400"), ("noise", "lots"),
     ("outliers", "500"), ("o1_sgd_lr", "nan")],
)
def test_tampered_url_values_fall_back_with_a_notice_naming_them(key, value):
    at = _app({key: value})
    assert not at.exception
    assert any(key in w.value and "ignored" in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(figures(at)) == 4


@pytest.mark.parametrize(
    "query, words",
    [({"f1": "height"}, "f1='height' is not a choice here; using 'x'"),
     ({"loss": "hinge"}, "loss='hinge' does not suit a regression; using 'mse'"),
     ({"source": "iris", "positive": "rose"}, "positive='rose' is not a choice here")],
)
def test_link_values_that_do_not_fit_the_dataset_get_a_notice(query, words):
    at = _app(query)
    assert not at.exception
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(figures(at)) == 4


def test_a_bad_optimizer_setting_is_a_message():
    at = _app({"o1_sgd_nesterov": "1"})
    assert not at.exception
    assert any("nesterov" in e.value.lower() for e in at.error)


def test_torch_code_and_exports_are_offered():
    at = _app()
    code = at.get("code")[0].value
    assert "torch.nn.functional.mse_loss(w * X[:, 0] + b, t)" in code and "X = torch.tensor" in code
    assert [b.label for b in at.get("download_button")] == ["Trajectories (CSV)", "Landscape grid (CSV)",
                                                           "Model data (CSV)"]


GOOD_CSV = ("hours,score,passed,grade\n" + "".join(
    f"{h},{50 + 4 * h + (7 if h % 3 == 0 else -5)},{'yes' if h > 6 else 'no'},{'ABC'[h % 3]}\n"
    for h in range(1, 26))).encode()


def _csv_app(content=GOOD_CSV, name="study.csv"):
    at = _app({"source": "csv"})
    assert any("Upload a CSV file" in i.value for i in at.info)
    at.file_uploader(key="csv_file").set_value((name, content, "text/csv")).run()
    return at


def test_an_uploaded_csv_gives_the_same_views():
    at = _csv_app()
    at.selectbox(key="csv_target").select("score").run()
    _ok(at)
    assert at.radio(key="csv_task").value == "regression"
    assert at.session_state["f1"] == "hours"
    assert "data" in _names(at, DATA) and len(figures(at)) == 4
    assert "slope w (sd of score per sd of hours)" == _figure(at, CONTOUR)["layout"]["xaxis"]["title"]["text"]
    assert "f1" in at.query_params and "hours" in str(at.query_params["f1"])
    assert not any("score" in str(v) for v in at.query_params.values())  # settings in the URL, not the data


def test_a_csv_text_target_is_a_classification_with_a_positive_class():
    at = _csv_app()
    at.selectbox(key="csv_target").select("passed").run()
    _ok(at)
    assert at.radio(key="csv_task").value == "classification"
    assert {"class: no", "class: yes"} <= set(_names(at, DATA))
    at.selectbox(key="csv_target").select("grade").run()
    _ok(at)
    assert at.selectbox(key="positive").options == ["A", "B", "C"]
    assert "class: not C" in _names(at, DATA)


def test_a_csv_column_choice_that_cannot_work_is_refused_with_its_message():
    at = _csv_app()
    at.selectbox(key="csv_target").select("score").run()
    at.selectbox(key="f1").select("passed").run()
    assert not at.exception
    assert any("Column 'passed' (feature) is not numeric" in e.value for e in at.error)
    at.selectbox(key="csv_target").select("hours").run()
    at.selectbox(key="f1").select("score").run()
    at.radio(key="csv_task").set_value("classification").run()
    assert any("25 distinct values: too many to be classes" in e.value for e in at.error)


@pytest.mark.parametrize(
    "content, words",
    [(b"", "The file is empty"), (b"PK\x03\x04" + b"\x00" * 40, "ZIP archive"),
     ("a;b\n".encode() + "é;1\n".encode() * 6 + "é;1\n".encode("latin-1") * 6, "not UTF-8 text"),
     (b"a,b\n1,2\n", "at least 10 are needed")],
)
def test_a_bad_csv_is_refused_with_its_message_and_nothing_drawn(content, words):
    at = _csv_app(content, "bad.csv")
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("bad.csv was refused" in e and words in e for e in errors), errors
    assert not figures(at)


def test_removing_the_file_forgets_it():
    at = _csv_app()
    at.selectbox(key="csv_target").select("score").run()
    assert "_csv_table" in at.session_state and "_csv_explore" in at.session_state
    at.file_uploader(key="csv_file").set_value(None).run()
    assert not at.exception
    assert "_csv_table" not in at.session_state and "_csv_explore" not in at.session_state
    assert not figures(at)


def test_a_control_hidden_and_shown_again_comes_back_at_its_default_not_its_minimum():
    at = _app()
    at.selectbox(key="source").select("blobs").run()
    at.selectbox(key="source").select("linear").run()
    _ok(at)
    assert at.session_state["outlier_size"] == 6.0 and at.session_state["outliers"] == 0
    at.selectbox(key="loss").select("huber").run()
    assert at.session_state["delta"] == 1.0
