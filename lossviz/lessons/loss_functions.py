r"""Loss functions one sample at a time: curves of the residual and of the margin, and a worked example.

Regression losses are functions of the residual :math:`r = \hat y - y`; classification losses of the
margin :math:`m = y s` (label :math:`y \in \{-1, +1\}`, score :math:`s`), which is positive when the
prediction is on the right side and the larger the more confident. Every curve and every gradient here
comes from :mod:`lossviz.losses` (one sample per point, so no :math:`1/n`), so what is drawn is what the
models train on.

The worked example is the classic ``y = [1, 2, 3, 4, 5]`` against ``y_pred = [0.8, 1.9, 2.8, 3.7, 4.6]``:
per-sample terms, the means, and the same numbers as a PyTorch script. User text is only split and
passed to ``float``; it is never evaluated.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lossviz import losses
from lossviz._validation import check_array, check_choice, check_int, check_scalar

__all__ = [
    "LossInfo", "INFO", "REGRESSION", "CLASSIFICATION", "regression_curves", "margin_curves", "Curves",
    "curves", "scrub_deltas", "parse_numbers", "worked_example", "worked_latex", "worst_sample", "torch_line",
    "formulas_latex", "torch_lines", "formulas_code", "regression_caption", "torch_example_code",
    "LossScenario", "SCENARIOS", "EXAMPLE_Y",
    "EXAMPLE_Y_PRED", "MAX_EXAMPLE", "DELTA_RANGE", "SPAN_RANGE",
]

EXAMPLE_Y = "1, 2, 3, 4, 5"
EXAMPLE_Y_PRED = "0.8, 1.9, 2.8, 3.7, 4.6"
MAX_EXAMPLE = 100
MAX_NUMBER_TEXT = 2_000
# Huber's threshold and the half-width of the curves' axis, as the page offers them.
DELTA_RANGE = (0.05, 5.0)
SPAN_RANGE = (1.0, 10.0)
# Points per curve, and positions of Huber's threshold precomputed for the page's scrubber.
CURVE_POINTS = 601
SCRUB_DELTAS = 25


@dataclass(frozen=True)
class LossInfo:
    """One loss as the page shows it: registry name, per-sample formula and gradient in LaTeX, torch."""

    key: str
    title: str
    loss: str
    formula: str
    gradient: str
    torch: str


_T = "F."  # import torch.nn.functional as F
INFO: dict[str, LossInfo] = {i.key: i for i in (
    LossInfo("mse", "MSE", "mse", r"\ell(r) = r^2", r"\frac{\partial \ell}{\partial \hat y} = 2r",
             _T + "mse_loss(y_pred, y)"),
    LossInfo("rmse", "RMSE", "rmse", r"L = \sqrt{\tfrac1n \textstyle\sum_i r_i^2}\ \ (n = 1:\ |r|)",
             r"\frac{\partial L}{\partial \hat y_i} = \frac{r_i}{n L}\ \ (n = 1:\ \operatorname{sign} r)",
             "torch.sqrt(" + _T + "mse_loss(y_pred, y))"),
    LossInfo("mae", "MAE", "mae", r"\ell(r) = |r|",
             r"\frac{\partial \ell}{\partial \hat y} = \operatorname{sign} r",
             _T + "l1_loss(y_pred, y)"),
    LossInfo("huber", "Huber", "huber",
             r"\ell(r) = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\ "
             r"\delta(|r| - \tfrac12\delta) & |r| > \delta \end{cases}",
             r"\frac{\partial \ell}{\partial \hat y} = \operatorname{clip}(r, -\delta, \delta)",
             _T + "huber_loss(y_pred, y, delta=δ)"),
    LossInfo("log_cosh", "log-cosh", "log_cosh", r"\ell(r) = \log\cosh r",
             r"\frac{\partial \ell}{\partial \hat y} = \tanh r", "torch.log(torch.cosh(y_pred - y)).mean()"),
    LossInfo("zero_one", "0-1", "zero_one", r"\ell(m) = \mathbb 1[m \le 0]",
             r"\frac{\partial \ell}{\partial m} = 0\ \ (m \ne 0)",
             "(y * s <= 0).double().mean()"),
    LossInfo("hinge", "hinge", "hinge", r"\ell(m) = \max(0,\ 1 - m)",
             r"\frac{\partial \ell}{\partial m} = -\mathbb 1[m < 1]", "torch.clamp(1 - y * s, min=0).mean()"),
    LossInfo("squared_hinge", "squared hinge", "squared_hinge", r"\ell(m) = \max(0,\ 1 - m)^2",
             r"\frac{\partial \ell}{\partial m} = -2\max(0,\ 1 - m)",
             "(torch.clamp(1 - y * s, min=0) ** 2).mean()"),
    LossInfo("logistic", "logistic", "logistic", r"\ell(m) = \log(1 + e^{-m})",
             r"\frac{\partial \ell}{\partial m} = -\sigma(-m) = -\frac{1}{1 + e^{m}}",
             _T + "soft_margin_loss(s, y)"),
    LossInfo("cross_entropy", "cross-entropy", "binary_cross_entropy_with_logits",
             r"\ell = -\log\sigma(m) = \log(1 + e^{-m})",
             r"\frac{\partial \ell}{\partial m} = \sigma(m) - 1",
             _T + "binary_cross_entropy_with_logits(s, t)"),
)}
REGRESSION = ("mse", "rmse", "mae", "huber", "log_cosh")
CLASSIFICATION = ("zero_one", "hinge", "squared_hinge", "logistic", "cross_entropy")


def _build(key: str, delta: float) -> losses.Loss:
    info = INFO[key]
    return losses.get(info.loss, delta=delta) if info.loss == "huber" else losses.get(info.loss)


def _curves(keys: Sequence[str], allowed: Sequence[str], axis: str, points: object, target: float,
            delta: float, what: str) -> pd.DataFrame:
    x = check_array(points, axis, ndim=1)
    delta = check_scalar(delta, "delta", low=0.0, include_low=False)
    columns = {axis: x}
    for key in keys:
        check_choice(key, what, allowed)
        loss = _build(key, delta)
        # Each point is its own one-sample dataset: shape (K, 1), so value and grad carry no 1/n.
        columns[key] = np.asarray(loss.value(target, x[:, None]), dtype=np.float64)
        columns[f"{key}_gradient"] = loss.grad(target, x[:, None])[:, 0]
    # One frame from all the columns (inserting them one by one cost the page about 25 ms a rerun).
    return pd.DataFrame(columns)


def regression_curves(keys: Sequence[str], residuals: object, delta: float = 1.0) -> pd.DataFrame:
    """Per-sample regression losses and their gradients as functions of the residual.

    Parameters
    ----------
    keys : names from :data:`REGRESSION`
    residuals : array_like, shape (K,)
        Values of :math:`r = \\hat y - y` (the target is 0, the prediction is ``r``).
    delta : float
        Huber's threshold.

    Returns
    -------
    DataFrame
        Column ``residual``, then per loss ``<key>`` (the loss of one sample) and ``<key>_gradient``
        (d loss / d prediction). RMSE of one sample is :math:`|r|`.
    """
    return _curves(keys, REGRESSION, "residual", residuals, 0.0, delta, "regression loss")


def margin_curves(keys: Sequence[str], margins: object) -> pd.DataFrame:
    """Per-sample classification losses and their gradients as functions of the margin :math:`m = y s`.

    The label is +1 (1 for cross-entropy) and the score equals the margin, so d loss / d s is
    d loss / d m. Columns: ``margin``, then ``<key>`` and ``<key>_gradient`` per loss of
    :data:`CLASSIFICATION`.
    """
    return _curves(keys, CLASSIFICATION, "margin", margins, 1.0, 1.0, "classification loss")


def scrub_deltas(delta: float, count: int = SCRUB_DELTAS) -> tuple[np.ndarray, int]:
    """Huber thresholds for a scrubber: ``count`` log-spaced values over :data:`DELTA_RANGE` and ``delta``.

    The spaced values are rounded to three significant digits, so a label with ``:g`` shows each one
    exactly. Returns the sorted thresholds, shape (count,) or (count + 1,) when ``delta`` is not among
    them, and the index of ``delta``.

    >>> deltas, index = scrub_deltas(1.0, count=5)
    >>> deltas.tolist(), index
    ([0.05, 0.158, 0.5, 1.0, 1.58, 5.0], 3)
    """
    delta = check_scalar(delta, "delta", low=0.0, include_low=False)
    count = check_int(count, "count", low=2)
    values = [float(f"{v:.3g}") for v in np.geomspace(*DELTA_RANGE, count)]
    values = np.unique(np.append(values, delta))
    return values, int(np.flatnonzero(values == delta)[0])


@dataclass(frozen=True, eq=False)
class Curves:
    """What the page draws of the losses themselves (see :func:`curves`).

    regression : DataFrame, (points, 1 + 2 k)
        :func:`regression_curves` of the chosen regression losses.
    classification : DataFrame, (points, 1 + 2 k)
        :func:`margin_curves` of the chosen classification losses.
    deltas : ndarray, (D,)
        Huber thresholds of the scrubber (:func:`scrub_deltas`); ``delta_index`` is the page's own.
    huber, huber_gradient : ndarray, (D, points)
        Huber's loss and gradient along ``regression["residual"]`` at each threshold.
    """

    regression: pd.DataFrame
    classification: pd.DataFrame
    deltas: np.ndarray
    delta_index: int
    huber: np.ndarray
    huber_gradient: np.ndarray


def curves(regression: Sequence[str], classification: Sequence[str], delta: float = 1.0, span: float = 3.0,
           points: int = CURVE_POINTS) -> Curves:
    """Every curve of the page: losses and gradients on ``[-span, span]``, Huber at every scrubbed delta.

    Parameters
    ----------
    regression, classification : names from :data:`REGRESSION` and :data:`CLASSIFICATION`
    delta : float
        Huber's threshold.
    span : float
        Half-width of the residual and margin axes, in :data:`SPAN_RANGE`.
    points : int
        Points per curve.

    Examples
    --------
    >>> c = curves(["mse", "huber"], ["hinge"], delta=0.5, span=2.0, points=5)
    >>> c.regression["residual"].tolist(), c.regression["huber_gradient"].tolist()
    ([-2.0, -1.0, 0.0, 1.0, 2.0], [-0.5, -0.5, 0.0, 0.5, 0.5])
    >>> c.huber.shape == (len(c.deltas), 5) and float(c.deltas[c.delta_index]) == 0.5
    True
    """
    span = check_scalar(span, "span", low=SPAN_RANGE[0], high=SPAN_RANGE[1])
    points = check_int(points, "points", low=2, high=100_000)
    axis = np.linspace(-span, span, points)
    deltas, index = scrub_deltas(delta)
    hubers = [_build("huber", float(d)) for d in deltas]  # the same one-sample curves, without frames
    huber = np.array([np.asarray(h.value(0.0, axis[:, None]), dtype=np.float64) for h in hubers])
    huber_gradient = np.array([h.grad(0.0, axis[:, None])[:, 0] for h in hubers])
    return Curves(regression_curves(regression, axis, delta), margin_curves(classification, axis), deltas,
                  index, huber, huber_gradient)


def parse_numbers(text: str, name: str, max_count: int = MAX_EXAMPLE) -> np.ndarray:
    """Numbers separated by commas, semicolons or spaces, as float64 (the text is never evaluated).

    Where semicolons separate the numbers, a comma inside one is a decimal comma, as spreadsheets in many
    locales write them: "1,5; 2,5" is 1.5 and 2.5 (it was read as four numbers).

    >>> parse_numbers("1,5; 2,5", "y").tolist(), parse_numbers("1, 2 3", "y").tolist()
    ([1.5, 2.5], [1.0, 2.0, 3.0])

    Raises
    ------
    TypeError
        If ``text`` is not a string.
    ValueError
        Empty, too long, more than ``max_count`` numbers, or an item that is not a finite number; the
        message names ``name``, the item's position and its text.
    """
    if not isinstance(text, str):
        raise TypeError(f"{name} must be text, got {type(text).__name__}")
    if len(text) > MAX_NUMBER_TEXT:
        raise ValueError(f"{name} is longer than {MAX_NUMBER_TEXT} characters")
    if ";" in text:  # a lone comma there is a stray separator, not a number
        items = [item for item in re.split(r"[;\s]+", text.strip()) if item.strip(",")]
    else:
        items = [item for item in re.split(r"[,;\s]+", text.strip()) if item]
    if not items:
        raise ValueError(f"{name}: enter at least one number, separated by commas")
    if len(items) > max_count:
        raise ValueError(f"{name} has {len(items)} numbers; at most {max_count} are allowed")
    values = []
    for position, item in enumerate(items, start=1):
        read = item.replace(",", ".") if ";" in text and item.count(",") == 1 else item
        shown = item if len(item) <= 20 else item[:19] + "…"  # as typed, not as read or Python writes it
        try:
            value = float(read)
        except ValueError:
            raise ValueError(f"{name}: item {position} (“{shown}”) is not a number") from None
        if not np.isfinite(value):
            raise ValueError(f"{name}: item {position} (“{shown}”) must be a finite number")
        values.append(value)
    return np.array(values, dtype=np.float64)


MAX_RESIDUAL = 1e150  # |ŷ − y| above this overflows its square (and a mean of squares) in float64


def _pair(y: object, y_pred: object) -> tuple[np.ndarray, np.ndarray]:
    yt = check_array(y, "y", ndim=1)
    yp = check_array(y_pred, "y_pred", ndim=1)
    if yt.size != yp.size:
        raise ValueError(f"the targets y hold {yt.size} numbers but the predictions ŷ (y_pred) hold "
                         f"{yp.size}: give one prediction per target")
    if yt.size == 0:
        raise ValueError("y and y_pred must hold at least one number")
    with np.errstate(over="ignore", invalid="ignore"):
        residual = np.abs(yp - yt)
    too_large = ~(residual <= MAX_RESIDUAL)
    if too_large.any():
        at = int(np.argmax(too_large))
        raise ValueError(f"sample {at + 1}: the residual ŷ − y = {yp[at]:.4g} − {yt[at]:.4g} is too large to "
                         f"square; keep |ŷ − y| at most {MAX_RESIDUAL:.0e} (its square then stays finite)")
    return yt, yp


def worked_example(y: object, y_pred: object, delta: float = 1.0) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-sample terms and the mean of every regression loss for targets ``y`` and predictions ``y_pred``.

    Returns
    -------
    per_sample : DataFrame
        Columns ``y, y_pred, residual (= y_pred - y), squared, absolute, huber, log_cosh``, one row per
        sample.
    totals : dict
        ``{"mse", "rmse", "mae", "huber", "log_cosh"}`` -> the loss value, from :mod:`lossviz.losses`.
    """
    yt, yp = _pair(y, y_pred)
    delta = check_scalar(delta, "delta", low=0.0, include_low=False)
    per_sample = pd.DataFrame({"y": yt, "y_pred": yp, "residual": yp - yt})
    terms = (("squared", "mse"), ("absolute", "mae"), ("huber", "huber"), ("log_cosh", "log_cosh"))
    for column, key in terms:
        per_sample[column] = _build(key, delta).per_sample(yt, yp)
    totals = {key: float(_build(key, delta).value(yt, yp)) for key in REGRESSION}
    return per_sample, totals


def worst_sample(per_sample: pd.DataFrame) -> tuple[int, float, float]:
    """The sample with the largest squared residual (1-based) and its shares of the MSE and of the MAE.

    >>> worst_sample(worked_example([0, 0, 0], [1, 1, 4])[0])
    (3, 0.8888888888888888, 0.6666666666666666)
    """
    squared, absolute = per_sample["squared"].to_numpy(), per_sample["absolute"].to_numpy()
    worst = int(np.argmax(squared))
    return worst + 1, float(squared[worst] / max(squared.sum(), 1e-300)), \
        float(absolute[worst] / max(absolute.sum(), 1e-300))


def _number(value: float, digits: int = 4) -> str:
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return text


def _squared(number: str) -> str:
    r"""``number`` (:func:`_number`) squared in LaTeX: in parentheses when it has a power of ten of its own
    (``1\times 10^{-300}^2`` is a double superscript, which KaTeX refuses)."""
    return rf"\left({number}\right)^2" if r"\times" in number else f"{number}^2"


def _sum_latex(terms: Sequence[str]) -> str:
    shown = list(terms) if len(terms) <= 6 else [*terms[:3], r"\dots", *terms[-2:]]
    return " + ".join(shown)


def worked_latex(y: object, y_pred: object, delta: float = 1.0) -> dict[str, str]:
    """Each regression loss with the example's numbers filled in: ``MSE = 1/5 (0.2^2 + ...) = 0.068``."""
    per_sample, totals = worked_example(y, y_pred, delta)
    n = len(per_sample)
    r = per_sample["residual"].to_numpy()
    magnitude = [_number(abs(v)) for v in r]
    frac = rf"\frac{{1}}{{{n}}}"
    return {
        "mse": rf"\text{{MSE}} = {frac}\left({_sum_latex([_squared(m) for m in magnitude])}\right) = "
               + _number(totals["mse"]),
        "rmse": rf"\text{{RMSE}} = \sqrt{{\text{{MSE}}}} = \sqrt{{{_number(totals['mse'])}}} = "
                + _number(totals["rmse"]),
        "mae": rf"\text{{MAE}} = {frac}\left({_sum_latex(magnitude)}\right) = " + _number(totals["mae"]),
        "huber": rf"\text{{Huber}}_{{\delta = {delta:g}}} = {frac}\left("
                 + _sum_latex([_number(v, 3) for v in per_sample["huber"]]) + r"\right) = "
                 + _number(totals["huber"]),
        "log_cosh": rf"\text{{log-cosh}} = {frac}\left("
                    + _sum_latex([_number(v, 3) for v in per_sample["log_cosh"]]) + r"\right) = "
                    + _number(totals["log_cosh"]),
    }


def torch_line(key: str, delta: float = 1.0) -> str:
    """The PyTorch expression of loss ``key`` for the formulas table, Huber's threshold as a literal.

    >>> torch_line("huber", 0.5)
    'F.huber_loss(y_pred, y, delta=0.5)'
    """
    check_choice(key, "loss", INFO)
    delta = check_scalar(delta, "delta", low=0.0, include_low=False)
    return INFO[key].torch.replace("δ", repr(float(delta)))


def formulas_latex(keys: Sequence[str]) -> str:
    """The formulas table of losses ``keys`` as one LaTeX array: the loss, its per-sample formula, its
    gradient (one element on the page, drawn once, where a row of columns per loss was nine)."""
    for key in keys:
        check_choice(key, "loss", INFO)
    rows = [r"\textbf{loss} & \textbf{per sample} & \textbf{gradient}"]
    rows += [rf"\textbf{{{INFO[k].title}}}\qquad & \displaystyle {INFO[k].formula}\qquad & "
             rf"\displaystyle {INFO[k].gradient}" for k in keys]
    return r"\begin{array}{lll} " + r" \\[16pt] ".join(rows) + r" \end{array}"


def torch_lines(keys: Sequence[str], delta: float = 1.0) -> str:
    """The PyTorch expression of each loss in ``keys`` (:func:`torch_line`), one per line, named by a
    comment."""
    lines = [torch_line(key, delta) for key in keys]
    width = max(map(len, lines), default=0)
    return "\n".join(f"{line:<{width}}  # {INFO[key].title}" for key, line in zip(keys, lines))


def formulas_code(keys: Sequence[str], delta: float = 1.0) -> str:
    """The page's code block for the losses ``keys``: the import, what the names stand for (predictions
    and targets when a regression loss is among them, scores and ±1 labels for a classification one) and
    :func:`torch_lines`.

    Examples
    --------
    >>> print(formulas_code(["huber", "hinge"], delta=0.5))
    import torch.nn.functional as F
    # y_pred, y: predictions and targets
    # s: scores, y: labels ±1, t = (1 + y) / 2
    <BLANKLINE>
    F.huber_loss(y_pred, y, delta=0.5)    # Huber
    torch.clamp(1 - y * s, min=0).mean()  # hinge
    """
    names = ["# y_pred, y: predictions and targets"] * any(k in REGRESSION for k in keys) + [
        "# s: scores, y: labels ±1, t = (1 + y) / 2"] * any(k in CLASSIFICATION for k in keys)
    return "\n".join(["import torch.nn.functional as F", *names, "", torch_lines(keys, delta)])


# What each regression loss's gradient (its pull on a prediction) does, for the curves' caption.
_PULLS = {"mse": "MSE's grows with the error", "mae": "MAE's is ±1 whatever the error",
          "huber": "Huber's grows like MSE's inside ±δ and is capped at ±δ outside",
          "log_cosh": "log-cosh's grows like MSE's near 0 and levels off at ±1, bending smoothly between",
          "rmse": "RMSE's is ±1 for one sample (RMSE is |r|); over n samples, r/(n·RMSE), it depends on "
                  "all of them"}


def regression_caption(table: pd.DataFrame, keys: Sequence[str], span: float) -> str:
    """The words under the regression curves (``table``: :func:`regression_curves` of ``keys``): each
    loss and its gradient at the right end of the axis, r = ``span``, and what the gradients of the losses
    drawn mean (only those: a scenario may draw one).

    >>> table = regression_curves(["mae"], np.linspace(-1.0, 1.0, 3))
    >>> regression_caption(table, ["mae"], 1.0)
    "At r = ±1: MAE 1 (gradient 1). The gradient is the pull on a prediction: MAE's is ±1 whatever the error."
    """
    end = table.iloc[-1]
    values = ", ".join(f"{INFO[k].title} {end[k]:.3g} (gradient {end[k + '_gradient']:.3g})" for k in keys)
    pulls = "; ".join(_PULLS[k] for k in keys if k in _PULLS)
    return f"At r = ±{span:g}: {values}. The gradient is the pull on a prediction: {pulls}."


def torch_example_code(y: object, y_pred: object, delta: float = 1.0) -> str:
    """A PyTorch script printing the worked example's five losses (same numbers, float64)."""
    yt, yp = _pair(y, y_pred)
    delta = check_scalar(delta, "delta", low=0.0, include_low=False)
    lines = [
        "# Generated by lossviz: the worked example's losses in PyTorch (float64).",
        "import torch",
        "import torch.nn.functional as F",
        "",
        f"y = torch.tensor([{', '.join(repr(float(v)) for v in yt)}], dtype=torch.float64)",
        f"y_pred = torch.tensor([{', '.join(repr(float(v)) for v in yp)}], dtype=torch.float64)",
        "",
        'print("mse", F.mse_loss(y_pred, y).item())',
        'print("rmse", torch.sqrt(F.mse_loss(y_pred, y)).item())',
        'print("mae", F.l1_loss(y_pred, y).item())',
        f'print("huber", F.huber_loss(y_pred, y, delta={delta!r}).item())',
        'print("log_cosh", torch.log(torch.cosh(y_pred - y)).mean().item())',
        "",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class LossScenario:
    """A classroom setting of the Loss functions page: which curves, which example, and the lesson."""

    title: str
    explanation: str
    regression: tuple[str, ...] = REGRESSION
    classification: tuple[str, ...] = CLASSIFICATION
    delta: float = 1.0
    y: str = EXAMPLE_Y
    y_pred: str = EXAMPLE_Y_PRED
    extra: dict = field(default_factory=dict)
    span: float = 3.0

    @property
    def settings(self) -> dict:
        """The scenario as the page's link values: curves, threshold, span and the worked example."""
        return {"reg": list(self.regression), "cls": list(self.classification), "delta": self.delta,
                "span": self.span, "ex_y": self.y, "ex_yhat": self.y_pred}


SCENARIOS: dict[str, LossScenario] = {
    "classic": LossScenario(
        title="Every loss, and the classic worked example",
        explanation=(
            "On the curves, at r = ±3 squared error pulls with a gradient of 6, six times absolute error's "
            "constant 1; Huber's pull is capped at δ = 1, and log-cosh's (tanh 3 ≈ 0.995) is almost the "
            "same. "
            "The 0-1 loss is flat, its gradient 0 wherever it has one, and hinge is exactly 0 beyond m = 1, "
            "where the logistic loss is still positive. In the worked example every residual is at most 0.4, "
            "inside δ: Huber is exactly half the MSE (0.034 against 0.068), and the MAE (0.24) is above the "
            "MSE, since |r| > r² when |r| < 1."
        ),
    ),
    "outlier": LossScenario(
        title="An outlier drags MSE",
        explanation=(
            "The last prediction is off by 4.6 instead of 0.4. Squared, that one error is 21.2 against "
            "0.18 for the other four together: it is 99% of the MSE, which jumps from 0.068 to 4.27. MAE "
            "counts it only linearly (1.08), and Huber squares it only up to δ and then counts it "
            "linearly too (0.84). A model trained with MSE will bend to serve that one point."
        ),
        regression=("mse", "mae", "huber"), y_pred="0.8, 1.9, 2.8, 3.7, 9.6",
    ),
    "zero_one": LossScenario(
        title="0-1 loss has no gradient",
        explanation=(
            "The 0-1 loss (the error rate) is a step: 1 on the wrong side of the boundary, 0 on the "
            "right side. Its gradient is 0 everywhere except at the step, where it does not exist, so "
            "it tells gradient descent nothing. Hinge lies above the step everywhere (a convex upper bound), "
            "and so does the logistic loss measured in bits (divided by ln 2); both slope the right way: "
            "the surrogates we actually train on."
        ),
        regression=("mse", "mae"), classification=("zero_one", "hinge", "logistic"),
    ),
    "huber": LossScenario(
        title="Huber: squared near zero, absolute far out",
        explanation=(
            "Huber is half the squared error for residuals within δ and a straight line of slope δ "
            "beyond. Its gradient is the residual clipped to [-δ, δ]: small errors are corrected in "
            "proportion, large ones with a capped pull. Move δ and watch the kink travel."
        ),
        regression=("mse", "mae", "huber"), classification=("hinge", "logistic"), delta=0.5,
    ),
    "cross_entropy_is_logistic": LossScenario(
        title="Cross-entropy on a sigmoid is the logistic loss",
        explanation=(
            "Binary cross-entropy of the probability σ(s) against a 0/1 label, written with the margin "
            "m = y s of the ±1 label, is log(1 + e^{-m}): exactly the logistic loss. The two curves lie "
            "on top of each other. Its gradient σ(m) - 1 never vanishes on the wrong side, which is why "
            "it trains where squared error through a sigmoid stalls."
        ),
        regression=("mse",), classification=("logistic", "cross_entropy"),
    ),
    "hinge_stops": LossScenario(
        title="Hinge is exactly zero beyond the margin",
        explanation=(
            "Once a point is classified with margin at least 1, the hinge loss and its gradient are 0: "
            "that point stops influencing the model (only the support vectors do). The logistic loss "
            "keeps a small positive gradient for every point, so it keeps pushing the weights up."
        ),
        regression=("mse",), classification=("hinge", "squared_hinge", "logistic"),
    ),
}
