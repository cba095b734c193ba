"""Loss functions page through AppTest: every control path reaches its figures, bad input a message, the
default picture says what its text says, the link carries every setting, the code reproduces the numbers."""
import json
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from lossviz.lessons import loss_functions as lesson
from lossviz.ui.catalog import ROOT
from tests.pagetest import assert_clean, chart, charts, decode, errors, notices, open_page, warnings

PAGE = str(ROOT / "pages/6_Loss_Functions.py")
LABELS = {"reg": "regression losses", "cls": "classification losses", "delta": "Huber δ",
          "span": "range of r and m (±)", "ex_y": "targets y", "ex_yhat": "predictions ŷ"}


def _app(query=None):
    return open_page(PAGE, query, timeout=60)


def _ok(at):
    assert_clean(at, errors=True)


def _traces(at, key):
    """name -> (x, y) of the traces of live chart ``key`` (a loss and its gradient ``∂name``)."""
    return {t["name"]: (t["x"] if t["type"] == "bar" else decode(t["x"]), decode(t["y"]))
            for t in chart(at, key)["data"] if "name" in t}


def _metrics(at):
    return {m.label: m.value for m in at.get("metric")}


def _query(at):
    return {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}


def test_default_page_draws_every_loss_and_its_gradient():
    at = _app()
    _ok(at)
    assert charts(at) == ["reg_chart", "cls_chart", "example_chart"]
    regression = _traces(at, "reg_chart")
    assert {"MSE", "RMSE", "MAE", "Huber", "log-cosh", "∂MSE", "∂Huber"} <= set(regression)
    gradients = {"∂0-1", "∂hinge", "∂squared hinge", "∂logistic", "∂cross-entropy"}
    assert gradients <= set(_traces(at, "cls_chart"))
    r, mse = regression["MSE"]
    np.testing.assert_allclose(mse, r**2, rtol=1e-12)
    m, grad = _traces(at, "cls_chart")["∂hinge"]
    np.testing.assert_array_equal(grad, np.where(m < 1, -1.0, 0.0))
    assert _query(at)["reg"] == "mse,rmse,mae,huber,log_cosh"
    latex = [e.value for e in at.get("latex")]
    assert any(r"\ell(r) = r^2" in text for text in latex)
    assert any("= 0.068" in text for text in latex)


def test_the_default_picture_shows_what_the_default_text_says():
    """Every number and comparison the default scenario's paragraph states, read off the page's figures."""
    at = _app()
    _ok(at)
    text = next(i.value for i in at.info if lesson.SCENARIOS["classic"].title in i.value)
    curves = _traces(at, "reg_chart")
    r, mse_pull = curves["∂MSE"]
    at_three = np.flatnonzero(np.isclose(r, 3.0))[0]
    mae_pull, huber_pull = curves["∂MAE"][1][at_three], curves["∂Huber"][1][at_three]
    log_cosh_pull = curves["∂log-cosh"][1][at_three]
    assert mse_pull[at_three] == pytest.approx(6.0) and mse_pull[at_three] == pytest.approx(6 * mae_pull)
    assert huber_pull == pytest.approx(1.0) and huber_pull == pytest.approx(at.session_state["delta"])
    assert log_cosh_pull == pytest.approx(0.995, abs=5e-4) and "0.995" in text
    assert np.abs(huber_pull - curves["∂Huber"][1]).min() == 0.0  # capped: never above δ
    assert np.all(np.abs(curves["∂Huber"][1]) <= 1.0 + 1e-12)
    margins = _traces(at, "cls_chart")
    m, zero_one_pull = margins["∂0-1"]
    assert np.all(zero_one_pull[m != 0] == 0.0)
    beyond = m >= 1
    assert np.all(margins["hinge"][1][beyond] == 0.0) and np.all(margins["logistic"][1][beyond] > 0.0)
    per_sample = lesson.worked_example(lesson.parse_numbers(at.session_state["ex_y"], "y"),
                                       lesson.parse_numbers(at.session_state["ex_yhat"], "ŷ"))[0]
    assert np.abs(per_sample["residual"]).max() == pytest.approx(0.4) and "at most 0.4" in text
    metrics = _metrics(at)
    assert float(metrics["Huber (δ = 1)"]) == pytest.approx(float(metrics["MSE"]) / 2)
    assert float(metrics["MAE"]) > float(metrics["MSE"])
    for shown in (metrics["Huber (δ = 1)"], metrics["MSE"], metrics["MAE"]):
        assert shown in text


def test_the_huber_delta_scrubber_holds_every_threshold_precomputed():
    at = _app()
    spec = chart(at, "reg_chart")
    scrub = spec["lossviz_scrub"]
    names = [t.get("name") for t in spec["data"]]
    assert [names[i] for i in scrub["traces"]] == ["Huber", "∂Huber", "±δ", "±δ"]
    assert scrub["values"][scrub["active"]] == "δ = 1" and len(scrub["values"]) >= 25
    r = decode(spec["data"][names.index("Huber")]["x"])
    for value, frame in zip(scrub["values"], scrub["frames"]):
        delta = float(value.split("=")[1])
        np.testing.assert_allclose(decode(frame[1]["y"]), np.clip(r, -delta, delta), rtol=1e-12)
        lines = decode(frame[2]["x"])
        assert (lines[0], lines[-1]) == (-delta, delta)
    active = scrub["frames"][scrub["active"]]
    np.testing.assert_array_equal(decode(active[0]["y"]), decode(spec["data"][names.index("Huber")]["y"]))


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
    shares = {t["name"]: decode(t["y"]) for t in chart(at, "example_chart")["data"]}
    assert shares["MSE"][-1] > 99 and abs(shares["MAE"].sum() - 100) < 1e-9
    assert _query(at)["ex_yhat"] == "0.8, 1.9, 2.8, 3.7, 9.6"
    assert any("then changed (predictions ŷ)" in c.value for c in at.caption)


@pytest.mark.parametrize(
    "key, text, words",
    [
        ("ex_yhat", "1, two", "predictions ŷ: item 2 (“two”) is not a number"),
        ("ex_y", "", "targets y: enter at least one number"),
        ("ex_y", "1, 2, 3", "the targets y hold 3 numbers but the predictions ŷ (y_pred) hold 5"),
        ("ex_yhat", "1, 2, 3, 4, inf", "must be a finite number"),
    ],
)
def test_bad_example_input_is_a_message_and_the_curves_stay(key, text, words):
    at = _app()
    at.text_input(key=key).set_value(text).run()
    assert_clean(at)
    assert any(words in e for e in errors(at)), errors(at)
    assert not chart(at, "reg_chart")["stale"] and not chart(at, "cls_chart")["stale"]
    assert chart(at, "example_chart")["stale"]  # the last good example, greyed out
    assert not at.get("metric")


@pytest.mark.parametrize("typed", ["[log in](http://evil.example) ![t](http://evil.example/p.png)",
                                   "<img src=http://evil.example/p.png>", "**bold** :red[x] $x^2$"])
def test_hostile_example_text_is_refused_and_shown_literally(typed):
    at = _app()
    at.text_input(key="ex_y").set_value(typed).run()
    assert_clean(at)
    shown = errors(at)
    assert any(typed.split()[0][:20] in e for e in shown), shown
    for element in at.get("html"):  # the notice's text is escaped: no tag, link or image of the user's
        body = element.proto.body
        assert "<img" not in body and "<a " not in body
    assert not any("evil" in m.value for m in at.markdown)


def test_huber_delta_moves_the_clip_of_its_gradient():
    at = _app()
    at.slider(key="delta").set_value(0.5).run()
    _ok(at)
    r, grad = _traces(at, "reg_chart")["∂Huber"]
    np.testing.assert_allclose(grad, np.clip(r, -0.5, 0.5), rtol=1e-12)
    assert "F.huber_loss(y_pred, y, delta=0.5)" in " ".join(c.value for c in at.get("code"))
    assert _metrics(at)["Huber (δ = 0.5)"]


def test_choosing_losses_draws_only_those():
    at = _app()
    at.multiselect(key="reg").set_value(["mae"]).run()
    at.multiselect(key="cls").set_value(["zero_one", "logistic"]).run()
    _ok(at)
    assert set(_traces(at, "reg_chart")) == {"MAE", "∂MAE"}
    assert "lossviz_scrub" not in chart(at, "reg_chart")  # no Huber, nothing to scrub
    assert set(_traces(at, "cls_chart")) == {"0-1", "∂0-1", "logistic", "∂logistic"}
    assert _query(at)["cls"] == "zero_one,logistic"


def test_no_loss_chosen_says_what_to_do():
    at = _app()
    at.multiselect(key="reg").set_value([]).run()
    _ok(at)
    assert any("Choose at least one regression loss" in i.value for i in at.info)
    assert "reg_chart" not in charts(at)


def test_the_range_slider_widens_the_axis():
    at = _app()
    at.slider(key="span").set_value(6.0).run()
    r, _ = _traces(at, "reg_chart")["MSE"]
    assert r[0] == -6.0 and r[-1] == 6.0


@pytest.mark.parametrize("name", list(lesson.SCENARIOS))
def test_every_scenario_loads_its_curves_example_and_lesson(name):
    sc = lesson.SCENARIOS[name]
    at = _app()
    at.selectbox(key="loss_functions_scenario_pick").select(name).run()
    at.button(key="loss_functions_load").click().run()
    _ok(at)
    assert any(sc.title in i.value for i in at.info)
    assert [n for n in _traces(at, "reg_chart") if not n.startswith(("∂", "±"))] == \
        [lesson.INFO[k].title for k in sc.regression]
    assert [n for n in _traces(at, "cls_chart") if not n.startswith("∂")] == \
        [lesson.INFO[k].title for k in sc.classification]
    assert at.session_state["ex_yhat"] == sc.y_pred and at.session_state["delta"] == sc.delta


def test_a_scenario_changed_afterwards_says_so_by_label():
    at = _app()
    at.selectbox(key="loss_functions_scenario_pick").select("outlier").run()
    at.button(key="loss_functions_load").click().run()
    at.slider(key="delta").set_value(2.0).run()
    _ok(at)
    assert all("An outlier drags MSE" not in i.value for i in at.info)
    assert any("loaded, then changed (Huber δ)" in c.value for c in at.caption)


def test_url_round_trip_reproduces_the_same_curves_and_example():
    at = _app()
    at.multiselect(key="reg").set_value(["mse", "huber"]).run()
    at.slider(key="delta").set_value(2.5).run()
    at.text_input(key="ex_y").set_value("0, 0, 1").run()
    at.text_input(key="ex_yhat").set_value("0.5, -1, 4").run()
    again = _app(_query(at))
    _ok(again)
    assert not warnings(again)
    for key in ("reg_chart", "cls_chart", "example_chart"):
        first, second = _traces(at, key), _traces(again, key)
        assert first.keys() == second.keys()
        for name in first:
            np.testing.assert_array_equal(first[name][1], second[name][1])
    scrubbed = [chart(a, "reg_chart")["lossviz_scrub"]["values"] for a in (at, again)]
    assert scrubbed[0] == scrubbed[1]
    assert _metrics(again) == _metrics(at)


@pytest.mark.parametrize(
    "key, value",
    [("reg", "mse,bogus"), ("cls", "<script>"), ("delta", "-1"), ("delta", "nan"), ("span", "wide"),
     ("ex_y", "1" * 600), ("cls", "[x](http://evil.example)")],
)
def test_tampered_url_values_fall_back_with_a_notice_naming_the_label(key, value):
    """Issue 13: messages name what the user sees (the label), never the link's internal key."""
    at = _app({key: value})
    assert_clean(at)
    shown = warnings(at)
    assert any(f"“{LABELS[key]}”" in w and "ignored" in w for w in shown), shown
    assert not any(re.search(rf"\b{key}\b", w.replace(LABELS[key], "")) for w in shown), shown
    assert charts(at) == ["reg_chart", "cls_chart", "example_chart"]


def test_list_values_are_checked_for_count_and_repeats_are_harmless():
    at = _app({"reg": "mse,mae,mse,mae,huber,rmse,log_cosh,mse"})
    _ok(at)
    assert not warnings(at)
    assert at.session_state["reg"] == ["mse", "mae", "huber", "rmse", "log_cosh"]


def test_a_value_the_user_never_chose_gives_no_notice():
    at = _app({"delta": "0.5"})
    _ok(at)
    assert not notices(at, "warning") and not warnings(at)


def test_exports_are_offered_and_escaped_csv():
    at = _app()
    labels = [b.label for b in at.get("download_button") if b.label not in ("PNG", "SVG")]  # slides
    assert labels == ["Regression curves (CSV)", "Classification curves (CSV)", "Worked example (CSV)"]


def test_the_pages_pytorch_code_prints_the_pages_numbers():
    pytest.importorskip("torch")
    at = _app({"ex_y": "1, 2, 3, 4, 5", "ex_yhat": "0.8, 1.9, 2.8, 3.7, 9.6", "delta": "0.5"})
    _ok(at)
    code = at.get("code")[-1].value
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         check=True).stdout
    printed = {name: float(value) for name, value in (line.split() for line in out.strip().splitlines())}
    _, totals = lesson.worked_example([1, 2, 3, 4, 5], [0.8, 1.9, 2.8, 3.7, 9.6], delta=0.5)
    assert printed.keys() == totals.keys()
    for key, value in totals.items():
        assert printed[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key
    shown = _metrics(at)
    for key, label in (("mse", "MSE"), ("mae", "MAE"), ("rmse", "RMSE"), ("huber", "Huber (δ = 0.5)")):
        assert shown[label] == f"{printed[key]:.4g}"


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_maximal_link_settings_stay_within_the_budget():
    """Every curve, the widest span, the largest threshold and the longest example a link may carry."""
    _app()  # modules imported, caches warm: what is measured below is one page open
    numbers = ", ".join(f"{(i % 97) * 1.5:g}" for i in range(100))[:500].rsplit(",", 1)[0]
    query = {"reg": ",".join(lesson.REGRESSION), "cls": ",".join(lesson.CLASSIFICATION), "delta": "5.0",
             "span": "10.0", "ex_y": numbers, "ex_yhat": numbers}
    before_rss, before = _rss(), time.process_time()
    at = _app(query)
    cpu = time.process_time() - before
    _ok(at)
    assert not warnings(at)
    assert cpu < 3.0, cpu
    assert _rss() - before_rss < 300 * 2**20


def test_a_tiny_target_keeps_the_formulas_and_the_table_readable():
    """1e-300 as a target: the MSE's terms square a number with its own power of ten (in parentheses, or
    KaTeX shows the raw source in red), and the table writes four significant digits, not 300 zeros."""
    at = _app({"ex_y": "1e-300, 0, 0, 0, 0", "ex_yhat": "0, 0, 0, 0, 0"})
    _ok(at)
    mse = next(e.value for e in at.get("latex") if r"\text{MSE}" in e.value)
    assert r"\left(1\times 10^{-300}\right)^2" in mse
    config = json.loads(at.dataframe[0].proto.columns)
    formats = {name: c.get("type_config", {}).get("format") for name, c in config.items()}
    for name in ("y", "ŷ", "r = ŷ − y", "r²", "|r|", "Huber", "log cosh r"):
        assert formats[name] == "%.4g", formats
    assert any("Sample 1 carries" in c.value for c in at.caption)  # |r| = 1e-300 is not "every loss is 0"
    at = _app({"ex_y": "1, 2, 3", "ex_yhat": "1, 2, 3"})
    _ok(at)
    assert any(c.value == "Every prediction equals its target: every loss is 0." for c in at.caption)
