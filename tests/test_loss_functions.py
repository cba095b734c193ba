"""lossviz.lessons.loss_functions: per-sample curves against their formulas and finite differences, the worked
example against a hand calculation and torch, number parsing, scenarios."""
import ast
import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lossviz.lessons import loss_functions as lc
from lossviz.viz import loss_functions as figures

R = np.linspace(-4.0, 4.0, 161)


def test_regression_curves_follow_their_formulas():
    delta = 0.7
    frame = lc.regression_curves(lc.REGRESSION, R, delta)
    np.testing.assert_array_equal(frame["residual"], R)
    np.testing.assert_allclose(frame["mse"], R**2, rtol=1e-14)
    np.testing.assert_allclose(frame["mse_gradient"], 2 * R, rtol=1e-14)
    np.testing.assert_allclose(frame["rmse"], np.abs(R), rtol=1e-14)
    np.testing.assert_allclose(frame["rmse_gradient"], np.sign(R), rtol=1e-14)
    np.testing.assert_allclose(frame["mae"], np.abs(R), rtol=1e-14)
    np.testing.assert_allclose(frame["mae_gradient"], np.sign(R), rtol=1e-14)
    huber = np.where(np.abs(R) <= delta, 0.5 * R**2, delta * (np.abs(R) - 0.5 * delta))
    np.testing.assert_allclose(frame["huber"], huber, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(frame["huber_gradient"], np.clip(R, -delta, delta), rtol=1e-14)
    np.testing.assert_allclose(frame["log_cosh"], np.log(np.cosh(R)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(frame["log_cosh_gradient"], np.tanh(R), rtol=1e-14)


def test_margin_curves_follow_their_formulas():
    frame = lc.margin_curves(lc.CLASSIFICATION, R)
    np.testing.assert_array_equal(frame["zero_one"], (R <= 0).astype(float))
    np.testing.assert_array_equal(frame["zero_one_gradient"], 0.0)
    np.testing.assert_allclose(frame["hinge"], np.maximum(0, 1 - R), rtol=1e-14)
    np.testing.assert_allclose(frame["hinge_gradient"], -(R < 1).astype(float))
    np.testing.assert_allclose(frame["squared_hinge"], np.maximum(0, 1 - R) ** 2, rtol=1e-14)
    np.testing.assert_allclose(frame["squared_hinge_gradient"], -2 * np.maximum(0, 1 - R), rtol=1e-14)
    np.testing.assert_allclose(frame["logistic"], np.log1p(np.exp(-R)), rtol=1e-13)
    np.testing.assert_allclose(frame["logistic_gradient"], -1 / (1 + np.exp(R)), rtol=1e-13)


def test_cross_entropy_of_a_sigmoid_is_the_logistic_loss():
    frame = lc.margin_curves(("logistic", "cross_entropy"), R)
    np.testing.assert_allclose(frame["cross_entropy"], frame["logistic"], rtol=1e-13)
    np.testing.assert_allclose(frame["cross_entropy_gradient"], frame["logistic_gradient"], rtol=1e-14,
                               atol=1e-16)
    p = 1 / (1 + np.exp(-R))  # the probability of the true class, label 1
    np.testing.assert_allclose(frame["cross_entropy"], -np.log(p), rtol=1e-12)


@settings(max_examples=80, deadline=None)
@given(r=st.floats(-5, 5), key=st.sampled_from(["mse", "huber", "log_cosh", "mae", "rmse"]))
def test_regression_gradients_match_central_differences(r, key):
    assume(abs(r) > 1e-3 and abs(abs(r) - 0.8) > 1e-3)  # away from the kinks
    h = 1e-6
    frame = lc.regression_curves([key], [r - h, r, r + h], delta=0.8)
    numeric = (frame[key].iloc[2] - frame[key].iloc[0]) / (2 * h)
    assert frame[f"{key}_gradient"].iloc[1] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


@settings(max_examples=80, deadline=None)
@given(m=st.floats(-5, 5), key=st.sampled_from(list(lc.CLASSIFICATION)))
def test_margin_gradients_match_central_differences(m, key):
    assume(abs(m) > 1e-3 and abs(m - 1) > 1e-3)
    h = 1e-6
    frame = lc.margin_curves([key], [m - h, m, m + h])
    numeric = (frame[key].iloc[2] - frame[key].iloc[0]) / (2 * h)
    assert frame[f"{key}_gradient"].iloc[1] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def test_the_classic_worked_example_matches_a_hand_calculation():
    y = lc.parse_numbers(lc.EXAMPLE_Y, "y")
    y_pred = lc.parse_numbers(lc.EXAMPLE_Y_PRED, "y_pred")
    per_sample, totals = lc.worked_example(y, y_pred, delta=1.0)
    # residuals -0.2, -0.1, -0.2, -0.3, -0.4: squares 0.04 + 0.01 + 0.04 + 0.09 + 0.16 = 0.34
    assert totals["mse"] == pytest.approx(0.34 / 5, rel=1e-12)
    assert totals["rmse"] == pytest.approx(np.sqrt(0.068), rel=1e-12)
    assert totals["mae"] == pytest.approx(1.2 / 5, rel=1e-12)
    assert totals["huber"] == pytest.approx(0.34 / 2 / 5, rel=1e-12)
    expected_log_cosh = np.mean(np.log(np.cosh([0.2, 0.1, 0.2, 0.3, 0.4])))
    assert totals["log_cosh"] == pytest.approx(expected_log_cosh, rel=1e-12)
    np.testing.assert_allclose(per_sample["residual"], [-0.2, -0.1, -0.2, -0.3, -0.4], atol=1e-15)
    formulas = lc.worked_latex(y, y_pred)
    assert r"0.2^2 + 0.1^2 + 0.2^2 + 0.3^2 + 0.4^2" in formulas["mse"] and formulas["mse"].endswith("= 0.068")
    assert formulas["mae"].endswith("= 0.24") and formulas["rmse"].endswith("0.2608")


def test_the_outlier_scenario_numbers_are_what_its_text_says():
    sc = lc.SCENARIOS["outlier"]
    per_sample, totals = lc.worked_example(lc.parse_numbers(sc.y, "y"), lc.parse_numbers(sc.y_pred, "y_pred"))
    assert totals["mse"] == pytest.approx(4.268, abs=5e-4) and totals["mae"] == pytest.approx(1.08, abs=1e-9)
    assert totals["huber"] == pytest.approx(0.838, abs=1e-9)
    squared = per_sample["squared"].to_numpy()
    assert squared[-1] / squared.sum() > 0.99
    assert per_sample["absolute"].iloc[-1] / per_sample["absolute"].sum() < 0.9
    for word in ("0.068", "4.27", "1.08", "0.84", "99%"):
        assert word in sc.explanation


def test_every_scenario_names_known_losses():
    for sc in lc.SCENARIOS.values():
        assert set(sc.regression) <= set(lc.REGRESSION) and set(sc.classification) <= set(lc.CLASSIFICATION)
        lc.worked_example(lc.parse_numbers(sc.y, "y"), lc.parse_numbers(sc.y_pred, "y_pred"), sc.delta)


def test_hinge_scenario_hinge_is_zero_beyond_the_margin_and_logistic_is_not():
    frame = lc.margin_curves(("hinge", "logistic"), R)
    beyond = R >= 1
    assert np.all(frame["hinge"][beyond] == 0) and np.all(frame["hinge_gradient"][beyond] == 0)
    assert np.all(frame["logistic"] > 0) and np.all(frame["logistic_gradient"] < 0)


def test_the_torch_script_prints_the_same_losses():
    pytest.importorskip("torch")
    code = lc.torch_example_code([1, 2, 3, 4, 5], [0.8, 1.9, 2.8, 3.7, 9.6], delta=0.5)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         check=True)
    lines = out.stdout.strip().splitlines()
    printed = {name: float(value) for name, value in (line.split() for line in lines)}
    _, totals = lc.worked_example([1, 2, 3, 4, 5], [0.8, 1.9, 2.8, 3.7, 9.6], delta=0.5)
    assert printed.keys() == totals.keys()
    for key, value in totals.items():
        assert printed[key] == pytest.approx(value, rel=1e-12), key


@pytest.mark.parametrize(
    "text, expected",
    [("1, 2, 3", [1, 2, 3]), ("1;2;3", [1, 2, 3]), (" 1 2\t3 ", [1, 2, 3]), ("-1e-3,4.5", [-0.001, 4.5]),
     ("1,,2", [1, 2])],
)
def test_parse_numbers_accepts_commas_semicolons_and_spaces(text, expected):
    np.testing.assert_allclose(lc.parse_numbers(text, "y"), expected)


@pytest.mark.parametrize(
    "text, error, words",
    [
        ("", ValueError, r"targets: enter at least one number"),
        ("1, two, 3", ValueError, r"targets: item 2 \(“two”\) is not a number"),
        ("1, nan", ValueError, r"targets: item 2 \(“nan”\) must be a finite number"),
        ("1, inf", ValueError, r"targets: item 2 \(“inf”\) must be a finite number"),
        # As typed: a stray comma among semicolons is a separator, a decimal comma's item is quoted whole,
        # and a backslash is not doubled as Python's repr writes it.
        (" , , ;", ValueError, r"targets: enter at least one number"),
        ("1; 2,x", ValueError, r"targets: item 2 \(“2,x”\) is not a number"),
        ("1, \\frac", ValueError, r"targets: item 2 \(“\\frac”\) is not a number"),
        ("__import__('os')", ValueError, r"targets: item 1 .* is not a number"),
        (",".join(["1"] * 101), ValueError, r"targets has 101 numbers; at most 100"),
        ("1" * 2001, ValueError, r"targets is longer than 2000 characters"),
        (5, TypeError, r"targets must be text, got int"),
    ],
)
def test_parse_numbers_refuses_with_a_located_message(text, error, words):
    with pytest.raises(error, match=words):
        lc.parse_numbers(text, "targets")


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: lc.worked_example([1, 2], [1.0]), r"targets y hold 2 numbers but the predictions"),
        (lambda: lc.worked_example([], []), r"at least one number"),
        (lambda: lc.worked_example([1.0], [1.0], delta=0.0), r"delta must be in \(0, inf\)"),
        (lambda: lc.regression_curves(["hinge"], R), r"unknown regression loss 'hinge'; valid names: mse"),
        (lambda: lc.margin_curves(["mse"], R), r"unknown classification loss 'mse'; valid names: zero_one"),
        (lambda: lc.regression_curves(["mse"], [[1.0]]), r"residual must have 1 dimension"),
        (lambda: lc.torch_example_code([1.0], [1.0, 2.0]), r"targets y hold 1 numbers but the predictions ŷ"),
    ],
)
def test_validation_messages_name_the_parameter(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def _validated(spec: dict) -> dict:
    """A figure spec through plotly's property checks (a misspelt property raises ValueError)."""
    go.Figure({k: v for k, v in spec.items() if k != "lossviz_scrub"})
    return spec


@pytest.mark.parametrize("delta", [0.05, 0.7, 5.0])
def test_every_figure_spec_is_a_valid_plotly_figure(delta):
    curves = lc.curves(lc.REGRESSION, lc.CLASSIFICATION, delta, 3.0)
    spec = figures.curves_spec(curves.regression, lc.REGRESSION, delta=delta)
    spec = _validated(figures.with_delta_scrubber(spec, curves))
    names = [t["name"] for t in spec["data"]]
    assert names.count("±δ") == 2 and [t["xaxis"] for t in spec["data"][:2]] == ["x", "x2"]
    assert spec["lossviz_scrub"]["values"][spec["lossviz_scrub"]["active"]] == f"δ = {delta:g}"
    _validated(figures.curves_spec(curves.classification, lc.CLASSIFICATION, y_ranges=((-1, 5), (-2, 1))))
    per_sample, _ = lc.worked_example([1, 2, 3], [1.5, 2, 0])
    bars = _validated(figures.example_spec(per_sample))
    assert [t["name"] for t in bars["data"]] == ["MSE", "MAE", "Huber", "log-cosh"]


def test_without_huber_there_is_nothing_to_scrub():
    curves = lc.curves(["mse"], [], 1.0, 3.0)
    spec = figures.curves_spec(curves.regression, ["mse"], delta=1.0)
    assert "lossviz_scrub" not in figures.with_delta_scrubber(spec, curves)
    assert "±δ" not in [t["name"] for t in spec["data"]]


class _Blank(ast.NodeTransformer):
    """Every literal number (a negative one too) as 0."""

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            return ast.Constant(0)
        return self.generic_visit(node)

    def visit_Constant(self, node):
        return ast.Constant(0) if isinstance(node.value, (int, float)) else node


def _statements(code: str) -> str:
    """The script's statements with every literal number blanked: what it does, not with which values."""
    return ast.dump(_Blank().visit(ast.parse(code)))


@pytest.mark.parametrize("typed", [
    "__import__('os').system('echo pwned')", "1\nimport os", "1, 2; import os", "1'), print('x", "1 # x",
    "1\u2028import os", "1\x0bimport os", "[1](http://evil.example)", "0x10", "1e400", "nan",
])
def test_typed_text_never_reaches_the_generated_code(typed):
    """Only numbers parse; anything else is refused before any code is written."""
    with pytest.raises(ValueError):
        values = lc.parse_numbers(typed, "targets y")
        lc.torch_example_code(values, values)


@pytest.mark.parametrize("numbers", ["1e308, -0.0, 5e-324", "-1.5e-300, 2, 3", "123456789.123456789, 0, 0"])
def test_the_generated_code_is_the_same_script_for_any_numbers(numbers):
    values = lc.parse_numbers(numbers, "y")
    plain = lc.torch_example_code([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], delta=1.0)
    # Predictions equal to the targets: a residual of 1e308 would be refused (its square overflows).
    code = lc.torch_example_code(values, values.copy(), delta=0.05)
    assert _statements(code) == _statements(plain)
    tree = ast.parse(code)
    written = {abs(node.value) for node in ast.walk(tree) if isinstance(node, ast.Constant)
               and isinstance(node.value, float)}
    assert set(np.abs(values).tolist()) <= written  # every number exactly, through repr


def test_the_scrubbers_huber_curves_are_the_page_curves_at_each_threshold():
    c = lc.curves(["mse", "huber"], ["hinge"], delta=0.7, span=2.5, points=41)
    assert c.huber.shape == c.huber_gradient.shape == (len(c.deltas), 41)
    for i, d in enumerate(c.deltas):
        exact = lc.regression_curves(["huber"], c.regression["residual"], float(d))
        np.testing.assert_array_equal(c.huber[i], exact["huber"].to_numpy())
        np.testing.assert_array_equal(c.huber_gradient[i], exact["huber_gradient"].to_numpy())
    np.testing.assert_array_equal(c.huber[c.delta_index], c.regression["huber"].to_numpy())


def test_the_formulas_table_holds_each_chosen_loss_in_order():
    keys = ["huber", "mse", "hinge"]
    table = lc.formulas_latex(keys)
    where = [table.index(rf"\textbf{{{lc.INFO[k].title}}}") for k in keys]
    assert where == sorted(where)
    for key in keys:
        assert lc.INFO[key].formula in table and lc.INFO[key].gradient in table
    assert lc.INFO["mae"].formula not in table
    with pytest.raises(ValueError, match="loss"):
        lc.formulas_latex(["mse", "nope"])


def test_the_formulas_tables_pytorch_lines_compute_each_loss():
    """Each line of the table's code block, run in torch on random data, is the mean of the loss the
    row's formula gives (RMSE: the root of the mean square): the code and the curves are the same loss."""
    pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    y, y_pred = rng.normal(size=40), rng.normal(size=40) * 2
    labels, scores = rng.choice([-1.0, 1.0], size=40), rng.normal(size=40) * 2
    code = lc.torch_lines([*lc.REGRESSION, *lc.CLASSIFICATION], delta=0.7).splitlines()
    script = ["import torch", "import torch.nn.functional as F",
              f"y_pred = torch.tensor({y_pred.tolist()!r}, dtype=torch.float64)",
              f"y = torch.tensor({y.tolist()!r}, dtype=torch.float64)"]
    for line in code[:len(lc.REGRESSION)]:
        script.append(f"print(repr(float({line.split('  #')[0].strip()})))")
    script += [f"s = torch.tensor({scores.tolist()!r}, dtype=torch.float64)",
               f"y = torch.tensor({labels.tolist()!r}, dtype=torch.float64)", "t = (1 + y) / 2"]
    for line in code[len(lc.REGRESSION):]:
        script.append(f"print(repr(float({line.split('  #')[0].strip()})))")
    out = subprocess.run([sys.executable, "-c", "\n".join(script)], capture_output=True, text=True,
                         timeout=300, check=True)
    printed = [float(v) for v in out.stdout.split()]
    regression = lc.regression_curves(lc.REGRESSION, y_pred - y, delta=0.7)
    margins = lc.margin_curves(lc.CLASSIFICATION, labels * scores)
    expected = [np.sqrt(np.mean((y_pred - y) ** 2)) if k == "rmse" else regression[k].mean()
                for k in lc.REGRESSION] + [margins[k].mean() for k in lc.CLASSIFICATION]
    np.testing.assert_allclose(printed, expected, rtol=1e-12)


def test_a_residual_too_large_to_square_is_refused_with_its_sample_and_the_limit():
    """A worked example whose squared residual overflows float64 said "overflow encountered in square"
    as a warning on the page (found by tests/test_robustness.py); it is refused with the sample and the
    bound instead, and the largest residual allowed still gives finite losses."""
    with pytest.raises(ValueError, match=r"sample 2: .* too large to square; keep \|ŷ − y\| at most 1e\+150"):
        lc.worked_example([1.0, 1.7976931348623157e308], [1.0, -0.5])
    with pytest.raises(ValueError, match="sample 1"):
        lc.torch_example_code([-1e308], [1e308])
    _, totals = lc.worked_example([0.0, 1e150], [0.0, -1e150 + 1e150])
    assert all(np.isfinite(v) for v in totals.values())


def test_the_formulas_code_names_only_the_kinds_of_loss_chosen():
    both = lc.formulas_code(["huber", "hinge"], delta=0.25)
    assert "# y_pred, y: predictions and targets" in both and "# s: scores, y: labels ±1" in both
    assert "F.huber_loss(y_pred, y, delta=0.25)" in both
    regression_only = lc.formulas_code(["mse"])
    assert "predictions and targets" in regression_only and "scores" not in regression_only
    classification_only = lc.formulas_code(["logistic"])
    assert "scores" in classification_only and "predictions and targets" not in classification_only
    assert lc.formulas_code(["mse"]).endswith(lc.torch_lines(["mse"]))


def test_the_regression_caption_reads_each_loss_and_gradient_at_the_axis_end():
    """At r = 2: MSE r² = 4 with gradient 2r = 4; Huber (δ = 1) δ(|r| − δ/2) = 1.5 with gradient δ = 1."""
    table = lc.regression_curves(["mse", "huber"], np.linspace(-2.0, 2.0, 5), delta=1.0)
    words = lc.regression_caption(table, ["mse", "huber"], span=2.0)
    assert words.startswith("At r = ±2: MSE 4 (gradient 4), Huber 1.5 (gradient 1).")
    # It explains the gradients of the curves drawn, not of losses a scenario left out.
    assert "MSE's grows" in words and "Huber's" in words
    assert not any(other in words for other in ("MAE's", "log-cosh's", "RMSE"))
    alone = lc.regression_caption(lc.regression_curves(["mse"], np.linspace(-2.0, 2.0, 5)), ["mse"], 2.0)
    assert alone.endswith("the pull on a prediction: MSE's grows with the error.")


@pytest.mark.parametrize("value", [1e-300, 2.5e-7, 123456789.0, -5e20, 0.25])
def test_the_worked_formulas_square_a_power_of_ten_in_parentheses(value):
    """A residual written with its own power of ten (1e-300 as 1\\times 10^{-300}) squared as ``10^{-300}^2``
    is a double superscript: KaTeX shows the raw source in red instead of the formula."""
    import re

    mse = lc.worked_latex([value, 0.0], [0.0, 0.0])["mse"]
    assert not re.search(r"\^\{[^{}]*\}\^", mse), mse
    magnitude = lc._number(abs(value))
    assert (rf"\left({magnitude}\right)^2" if "times" in magnitude else f"{magnitude}^2") in mse


@pytest.mark.parametrize("text, numbers", [
    ("1,5; 2,5", [1.5, 2.5]), ("0,25;-1,75;3", [0.25, -1.75, 3.0]), ("1; 2; 3", [1.0, 2.0, 3.0]),
    ("1, 2, 3", [1.0, 2.0, 3.0]), ("1.5, 2.5", [1.5, 2.5]), ("1 2\t3", [1.0, 2.0, 3.0]),
])
def test_semicolons_make_a_comma_a_decimal_comma(text, numbers):
    """A walk typed "1,5; 2,5" (a decimal-comma locale) and silently got four numbers."""
    assert lc.parse_numbers(text, "targets y").tolist() == numbers
