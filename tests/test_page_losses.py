"""Loss functions page through AppTest: every control path reaches its figures, bad input a message."""
import json

import numpy as np
import pytest

from lossviz.lessons import loss_functions as loss_curves
from lossviz.ui.catalog import ROOT
from tests.pagetest import assert_clean, decode, open_page

PAGE = str(ROOT / "pages/6_Loss_Functions.py")
REG, REG_GRAD, CLS, CLS_GRAD, EXAMPLE = range(5)


def _app(query=None):
    return open_page(PAGE, query, timeout=60)


def _ok(at):
    assert_clean(at)


def _figure(at, index):
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def _traces(at, index):
    return {t["name"]: (decode(t["x"]), decode(t["y"])) for t in _figure(at, index)["data"] if "name" in t}


def _metrics(at):
    return {m.label: m.value for m in at.get("metric")}


def test_default_page_draws_every_loss_and_its_gradient():
    at = _app()
    _ok(at)
    assert len(at.get("plotly_chart")) == 5
    assert set(_traces(at, REG)) == {"MSE", "RMSE", "MAE", "Huber", "log-cosh"}
    gradients = {"∂0-1", "∂hinge", "∂squared hinge", "∂logistic", "∂cross-entropy"}
    assert set(_traces(at, CLS_GRAD)) == gradients
    r, mse = _traces(at, REG)["MSE"]
    np.testing.assert_allclose(mse, r**2, rtol=1e-12)
    m, grad = _traces(at, CLS_GRAD)["∂hinge"]
    np.testing.assert_array_equal(grad, np.where(m < 1, -1.0, 0.0))
    assert at.query_params["reg"] in ("mse,rmse,mae,huber,log_cosh", ["mse,rmse,mae,huber,log_cosh"])
    latex = [e.value for e in at.get("latex")]
    assert any(r"\ell(r) = r^2" in text for text in latex)
    assert any("= 0.068" in text for text in latex)


def test_the_worked_example_shows_the_classic_numbers():
    at = _app()
    metrics = _metrics(at)
    assert metrics["MSE"] == "0.068" and metrics["MAE"] == "0.24" and metrics["RMSE"] == "0.2608"
    assert metrics["Huber (δ = 1)"] == "0.034"
    assert "F.mse_loss(y_pred, y)" in at.get("code")[-1].value


def test_editing_the_example_recomputes_every_loss():
    at = _app()
    at.text_input(key="ex_yhat").set_value("0.8, 1.9, 2.8, 3.7, 9.6").run()
    _ok(at)
    metrics = _metrics(at)
    assert metrics["MSE"] == "4.268" and metrics["MAE"] == "1.08"
    assert any("Sample 5 carries 99% of the MSE" in c.value for c in at.caption)
    shares = {t["name"]: decode(t["y"]) for t in _figure(at, EXAMPLE)["data"]}
    assert shares["MSE"][-1] > 99 and abs(shares["MAE"].sum() - 100) < 1e-9


@pytest.mark.parametrize(
    "key, text, words",
    [
        ("ex_yhat", "1, two", "predictions ŷ: item 2 ('two') is not a number"),
        ("ex_y", "", "targets y: enter at least one number"),
        ("ex_y", "1, 2, 3", "y has 3 numbers but y_pred has 5"),
        ("ex_yhat", "1, 2, 3, 4, inf", "must be a finite number"),
    ],
)
def test_bad_example_input_is_a_message_and_the_curves_stay(key, text, words):
    at = _app()
    at.text_input(key=key).set_value(text).run()
    _ok(at)
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 4  # the curves are still drawn


def test_huber_delta_moves_the_clip_of_its_gradient():
    at = _app()
    at.slider(key="delta").set_value(0.5).run()
    _ok(at)
    r, grad = _traces(at, REG_GRAD)["∂Huber"]
    np.testing.assert_allclose(grad, np.clip(r, -0.5, 0.5), rtol=1e-12)
    assert "huber_loss(y_pred, y, delta=0.5)" in " ".join(c.value for c in at.get("code"))
    assert _metrics(at)["Huber (δ = 0.5)"]


def test_choosing_losses_draws_only_those():
    at = _app()
    at.multiselect(key="reg").set_value(["mae"]).run()
    at.multiselect(key="cls").set_value(["zero_one", "logistic"]).run()
    _ok(at)
    assert set(_traces(at, REG)) == {"MAE"}
    assert set(_traces(at, CLS)) == {"0-1", "logistic"}
    assert at.query_params["cls"] in ("zero_one,logistic", ["zero_one,logistic"])


def test_no_loss_chosen_says_what_to_do():
    at = _app()
    at.multiselect(key="reg").set_value([]).run()
    _ok(at)
    assert any("Choose at least one regression loss" in i.value for i in at.info)


def test_the_range_slider_widens_the_axis():
    at = _app()
    at.slider(key="span").set_value(6.0).run()
    r, _ = _traces(at, REG)["MSE"]
    assert r[0] == -6.0 and r[-1] == 6.0


@pytest.mark.parametrize("name", list(loss_curves.SCENARIOS))
def test_every_scenario_loads_its_curves_example_and_lesson(name):
    sc = loss_curves.SCENARIOS[name]
    at = _app()
    at.selectbox(key="loss_scenario_pick").select(name).run()
    at.button[0].click().run()
    _ok(at)
    assert any(sc.title in i.value for i in at.info)
    assert list(_traces(at, REG)) == [loss_curves.INFO[k].title for k in sc.regression]
    assert list(_traces(at, CLS)) == [loss_curves.INFO[k].title for k in sc.classification]
    assert at.session_state["ex_yhat"] == sc.y_pred and at.session_state["delta"] == sc.delta


def test_a_scenario_changed_afterwards_says_so():
    at = _app()
    at.selectbox(key="loss_scenario_pick").select("outlier").run()
    at.button[0].click().run()
    at.slider(key="delta").set_value(2.0).run()
    _ok(at)
    assert not at.info or all("An outlier drags MSE" not in i.value for i in at.info)
    assert any("loaded, then changed (delta)" in c.value for c in at.caption)


def test_url_round_trip_reproduces_the_same_curves_and_example():
    at = _app()
    at.multiselect(key="reg").set_value(["mse", "huber"]).run()
    at.slider(key="delta").set_value(2.5).run()
    at.text_input(key="ex_y").set_value("0, 0, 1").run()
    at.text_input(key="ex_yhat").set_value("0.5, -1, 4").run()
    query = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    again = _app(query)
    _ok(again)
    assert not again.warning
    for index in (REG, REG_GRAD, CLS):
        first, second = _traces(at, index), _traces(again, index)
        assert first.keys() == second.keys()
        for name in first:
            np.testing.assert_array_equal(first[name][1], second[name][1])
    assert _metrics(again) == _metrics(at)


@pytest.mark.parametrize(
    "key, value",
    [("reg", "mse,bogus"), ("cls", "<script>"), ("delta", "-1"), ("delta", "nan"), ("span", "wide"),
     ("ex_y", "1" * 600)],
)
def test_tampered_url_values_fall_back_with_a_notice_naming_them(key, value):
    at = _app({key: value})
    _ok(at)
    assert any(key in w.value and "ignored" in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(at.get("plotly_chart")) == 5


def test_exports_are_offered():
    at = _app()
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Regression curves (CSV)", "Classification curves (CSV)", "Worked example (CSV)"]
