"""Tests for lossviz.losses: gold values, torch.nn.functional in float64, finite differences, stability,
batching and every validation rule."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossviz import losses

ALL = losses.names()
REGRESSION = ["mse", "rmse", "mae", "huber", "log_cosh"]
MARGIN = ["logistic", "hinge", "squared_hinge", "zero_one"]
MULTICLASS = ["cross_entropy", "cross_entropy_from_probabilities"]


def t64(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def torch_value_and_grad(fn, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value of ``fn(pred_tensor)`` (shape (...)) and the gradient of its sum, i.e. of each entry."""
    pred = t64(y_pred, grad=True)
    out = fn(pred)
    out.sum().backward()
    return out.detach().numpy(), pred.grad.numpy()


# -- gold values (hand calculations) ----------------------------------------------------------------------


def test_gold_regression_five_points():
    y, pred = [1, 2, 3, 4, 5], [0.8, 1.9, 2.8, 3.7, 4.6]
    # residuals 0.2, 0.1, 0.2, 0.3, 0.4: squares sum to 0.34, absolutes to 1.2
    assert losses.get("mse").value(y, pred) == pytest.approx(0.068, abs=1e-12)
    assert losses.get("rmse").value(y, pred) == pytest.approx(math.sqrt(0.068), abs=1e-12)
    assert losses.get("mae").value(y, pred) == pytest.approx(0.24, abs=1e-12)


def test_gold_regression_four_points():
    y, pred = [2.0, 3.5, 1.5, 4.0], [1.8, 3.2, 1.4, 3.9]
    assert losses.get("mse").value(y, pred) == pytest.approx(0.0375, abs=1e-12)


def test_gold_binary_cross_entropy():
    value = losses.get("binary_cross_entropy").value([1, 0, 1, 0], [0.8, 0.2, 0.7, 0.3])
    assert isinstance(value, float)
    assert value == pytest.approx(0.2899092476264711, abs=1e-12)
    # the same number by hand: -(2 log 0.8 + 2 log 0.7) / 4
    assert value == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2, abs=1e-12)


def test_gold_margin_losses_by_hand():
    y, s = [1, -1, 1, -1], [2.0, 0.5, 0.0, -3.0]  # margins 2, -0.5, 0, 3
    assert losses.get("hinge").value(y, s) == pytest.approx((0 + 1.5 + 1 + 0) / 4)
    assert losses.get("squared_hinge").value(y, s) == pytest.approx((0 + 2.25 + 1 + 0) / 4)
    assert losses.get("zero_one").value(y, s) == pytest.approx(2 / 4)  # margin 0 counts as an error
    expected = np.mean(np.log1p(np.exp(-np.array([2.0, -0.5, 0.0, 3.0]))))
    assert losses.get("logistic").value(y, s) == pytest.approx(expected, rel=1e-14)
    # {0, 1} labels mean the same as {-1, +1}
    assert losses.get("hinge").value([1, 0, 1, 0], s) == losses.get("hinge").value(y, s)


def test_gold_log_cosh_and_huber():
    r = np.array([-3.0, -0.5, 0.0, 0.25, 2.0])
    expected_log_cosh = np.mean(np.log(np.cosh(r)))
    assert losses.get("log_cosh").value(np.zeros(5), r) == pytest.approx(expected_log_cosh, rel=1e-13)
    # delta = 1: 0.5 r^2 inside, |r| - 0.5 outside
    expected = np.mean([2.5, 0.125, 0.0, 0.03125, 1.5])
    assert losses.get("huber").value(np.zeros(5), r) == pytest.approx(expected, rel=1e-14)


# -- against torch.nn.functional in float64 ---------------------------------------------------------------

RNG_SEEDS = [0, 1, 2]


def _batch(seed: int, shape: tuple[int, ...], low: float = -3.0, high: float = 3.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, size=shape)


@pytest.mark.parametrize("seed", RNG_SEEDS)
@pytest.mark.parametrize(
    ("name", "params", "torch_fn"),
    [
        ("mse", {}, lambda p, y: F.mse_loss(p, y, reduction="none").mean(-1)),
        ("rmse", {}, lambda p, y: F.mse_loss(p, y, reduction="none").mean(-1).sqrt()),
        ("mae", {}, lambda p, y: F.l1_loss(p, y, reduction="none").mean(-1)),
        ("huber", {"delta": 0.3}, lambda p, y: F.huber_loss(p, y, reduction="none", delta=0.3).mean(-1)),
        ("huber", {}, lambda p, y: F.huber_loss(p, y, reduction="none", delta=1.0).mean(-1)),
        ("huber", {"delta": 2.5}, lambda p, y: F.huber_loss(p, y, reduction="none", delta=2.5).mean(-1)),
        ("log_cosh", {}, lambda p, y: torch.log(torch.cosh(p - y)).mean(-1)),
    ],
)
def test_regression_matches_torch(seed, name, params, torch_fn):
    y = _batch(seed, (7,))
    pred = _batch(seed + 100, (4, 7))
    loss = losses.get(name, **params)
    expected_value, expected_grad = torch_value_and_grad(lambda p: torch_fn(p, t64(y).expand_as(p)), pred)
    np.testing.assert_allclose(loss.value(y, pred), expected_value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(loss.grad(y, pred), expected_grad, rtol=1e-12, atol=1e-14)
    # the unbatched call agrees with torch's default mean reduction too
    assert loss.value(y, pred[0]) == pytest.approx(float(expected_value[0]), rel=1e-12)


def test_torch_reductions_equal_our_mean():
    y, pred = _batch(5, (9,)), _batch(6, (9,))
    assert losses.get("mse").value(y, pred) == pytest.approx(F.mse_loss(t64(pred), t64(y)).item(), rel=1e-13)
    assert losses.get("mae").value(y, pred) == pytest.approx(F.l1_loss(t64(pred), t64(y)).item(), rel=1e-13)


def test_mae_and_huber_subgradients_match_torch_at_the_kinks():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    pred = np.array([1.0, 3.0, 2.0, 4.0])  # residuals 0, 1, -1, 0: mae kink at 0, huber(delta=1) joins at 1
    for name, fn in [
        ("mae", lambda p: F.l1_loss(p, t64(y))),
        ("huber", lambda p: F.huber_loss(p, t64(y), delta=1.0)),
    ]:
        _, expected_grad = torch_value_and_grad(fn, pred)
        np.testing.assert_array_equal(losses.get(name).grad(y, pred), expected_grad)


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_binary_cross_entropy_matches_torch_bce_including_0_and_1(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=10).astype(float)
    pred = rng.uniform(0, 1, size=(3, 10))
    pred[:, :4] = [[0.0, 1.0, 0.0, 1.0]] * 3  # exact 0 and 1 with both labels: the log clamp at -100
    y[:4] = [0, 1, 1, 0]
    loss = losses.get("binary_cross_entropy")
    expected_value, expected_grad = torch_value_and_grad(
        lambda p: F.binary_cross_entropy(p, t64(y).expand_as(p), reduction="none").mean(-1), pred
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = loss.value(y, pred), loss.grad(y, pred)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_binary_cross_entropy_with_logits_matches_torch(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=8).astype(float)
    pred = rng.uniform(-8, 8, size=(2, 3, 8))
    pred[0, 0, :2] = [1000.0, -1000.0]
    expected_value, expected_grad = torch_value_and_grad(
        lambda p: F.binary_cross_entropy_with_logits(p, t64(y).expand_as(p), reduction="none").mean(-1), pred
    )
    loss = losses.get("binary_cross_entropy_with_logits")
    np.testing.assert_allclose(loss.value(y, pred), expected_value, rtol=1e-12)
    np.testing.assert_allclose(loss.grad(y, pred), expected_grad, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_logistic_matches_torch_soft_margin_loss(seed):
    rng = np.random.default_rng(seed)
    y = rng.choice([-1.0, 1.0], size=8)
    pred = rng.uniform(-6, 6, size=(5, 8))
    expected_value, expected_grad = torch_value_and_grad(
        lambda p: F.soft_margin_loss(p, t64(y).expand_as(p), reduction="none").mean(-1), pred
    )
    loss = losses.get("logistic")
    np.testing.assert_allclose(loss.value(y, pred), expected_value, rtol=1e-12)
    np.testing.assert_allclose(loss.grad(y, pred), expected_grad, rtol=1e-12, atol=1e-16)
    # {0, 1} labels give the same numbers
    np.testing.assert_array_equal(loss.value((y + 1) / 2, pred), loss.value(y, pred))


@pytest.mark.parametrize("seed", RNG_SEEDS)
@pytest.mark.parametrize("name", ["hinge", "squared_hinge"])
def test_hinge_losses_match_torch_relu_formula(seed, name):
    rng = np.random.default_rng(seed)
    y = rng.choice([-1.0, 1.0], size=9)
    pred = rng.uniform(-3, 3, size=(4, 9))
    power = 1 if name == "hinge" else 2
    expected_value, expected_grad = torch_value_and_grad(
        lambda p: (F.relu(1 - t64(y) * p) ** power).mean(-1), pred
    )
    loss = losses.get(name)
    np.testing.assert_allclose(loss.value(y, pred), expected_value, rtol=1e-12)
    np.testing.assert_allclose(loss.grad(y, pred), expected_grad, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("n_classes", [2, 4, 40])  # 40 takes the wide-row code path
@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_cross_entropy_with_integer_labels_matches_torch(seed, n_classes):
    rng = np.random.default_rng(seed)
    n = 7
    labels = rng.integers(0, n_classes, size=n)
    logits = rng.uniform(-5, 5, size=(3, n, n_classes))
    expected_value, expected_grad = torch_value_and_grad(
        lambda z: torch.stack([F.cross_entropy(z[b], torch.tensor(labels)) for b in range(3)]), logits
    )
    loss = losses.get("cross_entropy")
    np.testing.assert_allclose(loss.value(labels, logits), expected_value, rtol=1e-12)
    np.testing.assert_allclose(loss.grad(labels, logits), expected_grad, rtol=1e-12, atol=1e-16)
    # labels given as floats, or as one-hot rows, mean the same
    one_hot = np.eye(n_classes)[labels]
    np.testing.assert_allclose(loss.value(labels.astype(float), logits), expected_value, rtol=1e-12)
    np.testing.assert_allclose(loss.value(one_hot, logits), expected_value, rtol=1e-12)
    np.testing.assert_allclose(loss.grad(one_hot, logits), expected_grad, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_cross_entropy_with_probability_targets_matches_torch(seed):
    rng = np.random.default_rng(seed)
    n, n_classes = 6, 3
    targets = rng.dirichlet(np.ones(n_classes), size=n)
    logits = rng.uniform(-5, 5, size=(n, n_classes))
    expected_value, expected_grad = torch_value_and_grad(lambda z: F.cross_entropy(z, t64(targets)), logits)
    loss = losses.get("cross_entropy")
    assert loss.value(targets, logits) == pytest.approx(float(expected_value), rel=1e-12)
    np.testing.assert_allclose(loss.grad(targets, logits), expected_grad, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_cross_entropy_from_probabilities_matches_torch_nll_of_log(seed):
    rng = np.random.default_rng(seed)
    n, n_classes = 6, 3
    labels = rng.integers(0, n_classes, size=n)
    probabilities = rng.dirichlet(np.ones(n_classes), size=(2, n))
    expected_value, expected_grad = torch_value_and_grad(
        lambda p: torch.stack([F.nll_loss(torch.log(p[b]), torch.tensor(labels)) for b in range(2)]),
        probabilities,
    )
    loss = losses.get("cross_entropy_from_probabilities")
    np.testing.assert_allclose(loss.value(labels, probabilities), expected_value, rtol=1e-12)
    np.testing.assert_allclose(loss.grad(labels, probabilities), expected_grad, rtol=1e-12)
    # soft targets: -sum_c t_c log p_c
    targets = rng.dirichlet(np.ones(n_classes), size=n)
    expected_value, expected_grad = torch_value_and_grad(
        lambda p: -(t64(targets) * torch.log(p)).sum(-1).mean(-1), probabilities
    )
    np.testing.assert_allclose(loss.value(targets, probabilities), expected_value, rtol=1e-12)
    np.testing.assert_allclose(loss.grad(targets, probabilities), expected_grad, rtol=1e-12)
    # one-hot rows and class indices take different code paths and must agree
    one_hot = np.eye(n_classes)[labels]
    for method in (loss.value, loss.grad):
        np.testing.assert_allclose(method(one_hot, probabilities), method(labels, probabilities), rtol=1e-14)


def test_cross_entropy_probabilities_equals_cross_entropy_of_softmax():
    logits = _batch(3, (5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    softmax = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    assert losses.get("cross_entropy_from_probabilities").value(labels, softmax) == pytest.approx(
        losses.get("cross_entropy").value(labels, logits), rel=1e-12
    )


# -- finite differences (hypothesis) ----------------------------------------------------------------------

FD_STEP = 1e-6
KINK_MARGIN = 1e-4


@st.composite
def loss_case(draw, name: str, batch_shape: tuple[int, ...]):
    """Targets and predictions valid for ``name``, with ``batch_shape`` leading axes on the predictions."""
    loss = losses.get(name, **({"delta": draw(st.sampled_from([0.5, 1.0, 2.0]))} if name == "huber" else {}))
    n = draw(st.integers(1, 5))

    def floats(low, high):
        return st.floats(low, high, allow_nan=False, allow_infinity=False)

    if loss.multiclass:
        n_classes = draw(st.integers(2, 4))
        if draw(st.booleans()):
            y_true = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_classes - 1)))
        else:
            weights = draw(hnp.arrays(np.float64, (n, n_classes), elements=floats(0.0, 1.0)))
            weights[:, 0] += 0.1  # keep every row sum positive
            y_true = weights / weights.sum(-1, keepdims=True)
        shape = (*batch_shape, n, n_classes)
    else:
        if loss.targets == "real":
            y_true = draw(hnp.arrays(np.float64, n, elements=floats(-3.0, 3.0)))
        elif loss.targets == "binary":
            y_true = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
        else:
            y_true = draw(hnp.arrays(np.int64, n, elements=st.sampled_from([-1, 1])))
        shape = (*batch_shape, n)
    if loss.input in ("probability", "probabilities"):
        elements = floats(0.02, 0.98)
    elif loss.input == "logits":
        elements = floats(-6.0, 6.0)
    else:
        elements = floats(-3.0, 3.0)
    y_pred = draw(hnp.arrays(np.float64, shape, elements=elements))
    return loss, y_true, y_pred


def distance_to_kink(loss: losses.Loss, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """How far the inputs are from points where the loss or its derivative jumps (inf where neither does).

    A jump in the second derivative (huber, squared_hinge) still spoils central differences by O(step).
    """
    if loss.multiclass:
        return math.inf
    residual = y_pred - y_true
    if loss.name == "mae":
        return float(np.min(np.abs(residual)))
    if loss.name == "huber":
        return float(np.min(np.abs(np.abs(residual) - loss.params["delta"])))
    if loss.name == "rmse":
        return float(np.min(np.sqrt(np.mean(residual**2, axis=-1))))
    if loss.name in ("hinge", "squared_hinge"):
        return float(np.min(np.abs(1.0 - y_true * y_pred)))
    if loss.name == "zero_one":
        return float(np.min(np.abs(y_true * y_pred)))
    return math.inf


def move_off_kinks(loss: losses.Loss, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Shift predictions sitting on a kink by 0.01 (hypothesis loves 0 and 1, which are exactly there)."""
    if loss.multiclass:
        return y_pred
    residual, margin = y_pred - y_true, y_true * y_pred
    near = {
        "mae": np.abs(residual) < 10 * KINK_MARGIN,
        "huber": np.abs(np.abs(residual) - loss.params.get("delta", 0.0)) < 10 * KINK_MARGIN,
        "hinge": np.abs(1.0 - margin) < 10 * KINK_MARGIN,
        "squared_hinge": np.abs(1.0 - margin) < 10 * KINK_MARGIN,
        "zero_one": np.abs(margin) < 10 * KINK_MARGIN,
        "rmse": np.broadcast_to(np.sqrt(np.mean(residual**2, axis=-1, keepdims=True)) < 10 * KINK_MARGIN,
                                y_pred.shape),
    }.get(loss.name)
    return y_pred if near is None else np.where(near, y_pred + 0.01, y_pred)


def central_differences(loss: losses.Loss, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """d sum(value) / d y_pred by central differences, one entry at a time (no batching used)."""
    fd = np.zeros_like(y_pred)
    for index in np.ndindex(y_pred.shape):
        plus, minus = y_pred.copy(), y_pred.copy()
        plus[index] += FD_STEP
        minus[index] -= FD_STEP
        sample_axes = 2 if loss.multiclass else 1
        lead = index[: y_pred.ndim - sample_axes]
        fd[index] = (
            np.asarray(loss.value(y_true, plus[lead])) - np.asarray(loss.value(y_true, minus[lead]))
        ) / (2 * FD_STEP)
    return fd


@pytest.mark.parametrize("batch_shape", [(), (3,), (2, 2)], ids=["1d", "batched", "batched2"])
@pytest.mark.parametrize("name", ALL)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_grad_matches_central_differences(name, batch_shape, data):
    loss, y_true, y_pred = data.draw(loss_case(name, batch_shape))
    y_pred = move_off_kinks(loss, y_true, y_pred)
    assume(distance_to_kink(loss, y_true, y_pred) > KINK_MARGIN)
    grad = loss.grad(y_true, y_pred)
    assert grad.shape == y_pred.shape
    np.testing.assert_allclose(grad, central_differences(loss, y_true, y_pred), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_batched_calls_equal_a_loop_over_the_leading_axis(name, data):
    loss, y_true, y_pred = data.draw(loss_case(name, (4,)))
    values = loss.value(y_true, y_pred)
    grads = loss.grad(y_true, y_pred)
    assert values.shape == (4,)
    both = loss.value_and_grad(y_true, y_pred)
    np.testing.assert_array_equal(both[0], values)
    np.testing.assert_array_equal(both[1], grads)
    for b in range(4):
        single = loss.value(y_true, y_pred[b])
        assert isinstance(single, float)
        assert values[b] == pytest.approx(single, rel=1e-13, abs=1e-15)
        np.testing.assert_allclose(grads[b], loss.grad(y_true, y_pred[b]), rtol=1e-13, atol=1e-15)
        if loss.has_per_sample:
            np.testing.assert_allclose(
                loss.per_sample(y_true, y_pred)[b], loss.per_sample(y_true, y_pred[b]), rtol=1e-13
            )


@pytest.mark.parametrize("name", [n for n in ALL if n != "rmse"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_value_is_the_mean_of_per_sample(name, data):
    loss, y_true, y_pred = data.draw(loss_case(name, (2,)))
    per_sample = loss.per_sample(y_true, y_pred)
    n = y_pred.shape[-2] if loss.multiclass else y_pred.shape[-1]
    assert per_sample.shape == (2, n)
    np.testing.assert_allclose(loss.value(y_true, y_pred), per_sample.mean(-1), rtol=1e-14)


def test_zero_one_gradient_is_zero_everywhere():
    loss = losses.get("zero_one")
    y_pred = _batch(8, (3, 6))
    grad = loss.grad(np.array([1, -1, 1, -1, 1, -1]), y_pred)
    assert grad.shape == y_pred.shape
    assert not np.any(grad)
    assert loss.has_useful_gradient is False
    assert all(losses.get(n).has_useful_gradient for n in ALL if n != "zero_one")


def test_hinge_gradient_at_the_kink_is_zero():
    # margins exactly 1 (the kink), just below and just above
    y, s = np.array([1.0, -1.0, 1.0, 1.0]), np.array([1.0, -1.0, 0.999, 1.001])
    np.testing.assert_array_equal(losses.get("hinge").grad(y, s), np.array([0.0, 0.0, -1.0, 0.0]) / 4)


def test_rmse_gradient_at_a_perfect_fit_is_zero():
    grad = losses.get("rmse").grad([1.0, 2.0], [[1.0, 2.0], [1.0, 4.0]])
    np.testing.assert_array_equal(grad[0], [0.0, 0.0])
    np.testing.assert_allclose(grad[1], [0.0, 2.0 / (2 * math.sqrt(2.0))])  # r / (n rmse)


# -- stability --------------------------------------------------------------------------------------------


def _no_warnings(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args)


def test_huge_logits_binary_cross_entropy_with_logits():
    loss = losses.get("binary_cross_entropy_with_logits")
    y = np.array([1.0, 1.0, 0.0, 0.0])
    s = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    np.testing.assert_array_equal(_no_warnings(loss.per_sample, y, s), [0.0, 1000.0, 1000.0, 0.0])
    # limit of (sigmoid(s) - y) / n
    np.testing.assert_array_equal(_no_warnings(loss.grad, y, s), np.array([0.0, -1.0, 1.0, 0.0]) / 4)


def test_huge_scores_logistic_and_hinges():
    y = np.array([1.0, 1.0, -1.0, -1.0])
    s = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    logistic = losses.get("logistic")
    np.testing.assert_array_equal(_no_warnings(logistic.per_sample, y, s), [0.0, 1000.0, 1000.0, 0.0])
    np.testing.assert_array_equal(_no_warnings(logistic.grad, y, s), np.array([0.0, -1.0, 1.0, 0.0]) / 4)
    np.testing.assert_array_equal(losses.get("hinge").per_sample(y, s), [0.0, 1001.0, 1001.0, 0.0])
    np.testing.assert_array_equal(losses.get("squared_hinge").grad(y, s), np.array([0, -2002, 2002, 0]) / 4)


def test_huge_logits_cross_entropy():
    loss = losses.get("cross_entropy")
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])
    labels = np.array([1, 2])
    np.testing.assert_array_equal(_no_warnings(loss.per_sample, labels, logits), [2000.0, 0.0])
    # softmax -> one-hot of the largest logit, minus the target row
    expected_grad = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]]) / 2
    np.testing.assert_array_equal(_no_warnings(loss.grad, labels, logits), expected_grad)


def test_huge_residuals_log_cosh():
    loss = losses.get("log_cosh")
    r = np.array([1000.0, -1000.0, 1e300])
    np.testing.assert_allclose(_no_warnings(loss.per_sample, np.zeros(3), r), np.abs(r) - math.log(2.0))
    np.testing.assert_array_equal(_no_warnings(loss.grad, np.zeros(3), r), np.array([1.0, -1.0, 1.0]) / 3)


def test_probabilities_zero_and_one():
    bce = losses.get("binary_cross_entropy")
    y, p = np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(_no_warnings(bce.per_sample, y, p), [0.0, 0.0, 100.0, 100.0])
    # torch's (p - y) / max(p (1 - p), eps), divided by n, where eps is the float32 literal 1e-12
    eps = float(np.float32(1e-12))
    np.testing.assert_array_equal(_no_warnings(bce.grad, y, p), np.array([0.0, 0.0, 1.0, -1.0]) / eps / 4)
    ce = losses.get("cross_entropy_from_probabilities")
    probabilities = np.array([[1.0, 0.0], [1.0, 0.0]])
    for targets in ([0, 1], np.eye(2)):
        np.testing.assert_array_equal(_no_warnings(ce.per_sample, targets, probabilities), [0.0, 100.0])
        # -t / max(p, eps) / n: only the target entry of each row gets a gradient
        expected_grad = np.array([[-1.0, 0.0], [0.0, -1.0 / eps]]) / 2
        np.testing.assert_array_equal(_no_warnings(ce.grad, targets, probabilities), expected_grad)


# -- API and attributes -----------------------------------------------------------------------------------


def test_registry_names_and_attributes():
    assert set(ALL) >= {
        "mse", "rmse", "mae", "huber", "log_cosh", "binary_cross_entropy", "binary_cross_entropy_with_logits",
        "cross_entropy", "cross_entropy_from_probabilities", "logistic", "hinge", "squared_hinge", "zero_one",
    }
    assert losses.names("regression") == REGRESSION
    assert set(losses.names("classification")) == set(ALL) - set(REGRESSION)
    inputs = {"value", "probability", "logit", "score", "logits", "probabilities"}
    for name in ALL:
        loss = losses.get(name)
        assert loss.name == name
        assert loss.title and loss.latex
        assert loss.task in losses.TASKS
        assert loss.input in inputs
        assert loss.multiclass == (name in MULTICLASS)
        assert loss.has_per_sample == (name != "rmse")
        assert isinstance(loss.params, dict)
    assert losses.get("huber").params == {"delta": 1.0}
    assert losses.get("huber", delta=2).params == {"delta": 2.0}
    assert "2" in losses.get("huber", delta=2).latex
    assert [losses.get(n).input for n in MARGIN] == ["score"] * 4


def test_scalar_target_means_the_same_target_for_every_sample():
    loss = losses.get("binary_cross_entropy")
    p = np.linspace(0.1, 0.9, 5)
    np.testing.assert_array_equal(loss.per_sample(1, p), loss.per_sample(np.ones(5), p))
    ce = losses.get("cross_entropy")
    logits = _batch(1, (4, 3))
    assert ce.value(2, logits) == ce.value(np.full(4, 2), logits)


def test_value_float_for_one_prediction_set_and_array_for_batches():
    loss = losses.get("mse")
    assert isinstance(loss.value([1.0], [2.0]), float)
    assert loss.value([1.0], [[2.0], [3.0]]).shape == (2,)
    assert isinstance(losses.get("cross_entropy").value([0], [[1.0, 2.0]]), float)


# -- validation (every rule, message read) ----------------------------------------------------------------


def test_unknown_loss_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown loss 'msee'; valid names: mse, rmse, .*zero_one"):
        losses.get("msee")
    with pytest.raises(ValueError, match=r"unknown task 'ranking'; valid names: regression, classification"):
        losses.names("ranking")


def test_unknown_parameter():
    with pytest.raises(TypeError, match=r"loss 'mse' got an unknown parameter.*delta"):
        losses.get("mse", delta=1.0)


@pytest.mark.parametrize(
    ("delta", "error", "message"),
    [
        (0.0, ValueError, r"delta must be in \(0, inf\), got 0.0"),
        (-1.0, ValueError, r"delta must be in \(0, inf\), got -1.0"),
        (float("nan"), ValueError, r"delta must be a finite number"),
        ("1", TypeError, r"delta must be a real number"),
    ],
)
def test_bad_huber_delta(delta, error, message):
    with pytest.raises(error, match=message):
        losses.get("huber", delta=delta)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_binary_labels_must_be_zero_or_one(name):
    pred = [0.5, 0.5, 0.5]
    with pytest.raises(ValueError, match=r"y_true for .* must hold labels in \{0, 1\}, got 2"):
        losses.get(name).value([0, 1, 2], pred)
    with pytest.raises(ValueError, match=r"y_true .* \{0, 1\}, got -1"):
        losses.get(name).grad([0, 1, -1], pred)


@pytest.mark.parametrize("name", MARGIN)
def test_margin_labels(name):
    message = r"y_true for .* must hold labels in \{-1, \+1\} \(or \{0, 1\}.*got 2"
    with pytest.raises(ValueError, match=message):
        losses.get(name).value([0, 1, 2], [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match=r"y_true for .* mixes the labels -1 and 0"):
        losses.get(name).value([-1, 0, 1], [0.5, 0.5, 0.5])


def test_class_index_labels():
    logits = np.zeros((3, 4))
    for name in MULTICLASS:
        with pytest.raises(ValueError, match=r"y_true must hold class indices in \{0, ..., 3\} .* got 4"):
            losses.get(name).value([0, 1, 4], logits + 0.25)
        with pytest.raises(ValueError, match=r"y_true must hold class indices .* got 1.5"):
            losses.get(name).value([0, 1.5, 2], logits + 0.25)
        with pytest.raises(ValueError, match=r"y_true must hold class indices .* got -1"):
            losses.get(name).value([0, -1, 2], logits + 0.25)


def test_class_target_rows():
    loss = losses.get("cross_entropy")
    logits = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"y_true target rows must sum to 1 .* row 1 sums to 0.5"):
        loss.value([[1.0, 0.0, 0.0], [0.5, 0.0, 0.0]], logits)
    with pytest.raises(ValueError, match=r"y_true target rows must hold probabilities in \[0, 1\]"):
        loss.value([[1.5, -0.5, 0.0], [1.0, 0.0, 0.0]], logits)


@pytest.mark.parametrize(
    ("name", "y_true", "y_pred", "message"),
    [
        ("mse", np.zeros(4), np.zeros(3), r"y_true has shape \(4,\) but y_pred has shape \(3,\)"),
        ("mse", np.zeros(4), np.zeros((2, 3)), r"y_true has shape \(4,\) but y_pred has shape \(2, 3\)"),
        ("hinge", np.ones((2, 3)), np.zeros((2, 3)),
         r"y_true has shape \(2, 3\) but y_pred has shape \(2, 3\)"),
        ("cross_entropy", np.zeros(4), np.zeros((3, 2)),
         r"y_true has shape \(4,\) but y_pred has shape \(3, 2\)"),
        ("cross_entropy", np.eye(3), np.zeros((3, 2)),
         r"y_true has shape \(3, 3\) but y_pred has shape \(3, 2\)"),
        ("cross_entropy", np.zeros(3), np.zeros(3),
         r"y_pred for cross_entropy must have shape \(\.\.\., n, C\)"),
        ("mse", 1.0, 2.0, r"y_pred for mse must have shape \(\.\.\., n\), got shape \(\)"),
        ("mse", np.zeros(0), np.zeros(0), r"y_pred must hold at least one sample"),
    ],
)
def test_shape_mismatch(name, y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        losses.get(name).value(y_true, y_pred)
    with pytest.raises(ValueError, match=message):
        losses.get(name).grad(y_true, y_pred)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "cross_entropy_from_probabilities"])
def test_probabilities_out_of_range(name):
    loss = losses.get(name)
    bad = np.array([[0.2, 1.2], [-0.1, 0.5]])
    y = [0, 1]
    with pytest.raises(ValueError, match=rf"y_pred for {name} must hold probabilities in \[0, 1\], "
                                         r"got values from -0.1 to 1.2"):
        loss.value(y, bad)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("name", ["mse", "binary_cross_entropy_with_logits", "hinge"])
def test_non_finite_inputs(name, bad):
    loss = losses.get(name)
    with pytest.raises(ValueError, match=r"y_pred must contain only finite numbers"):
        loss.value([1.0, 0.0], [0.5, bad])
    with pytest.raises(ValueError, match=r"y_true must contain only finite numbers"):
        loss.grad([1.0, bad], [0.5, 0.5])


def test_non_numeric_input():
    with pytest.raises(TypeError, match=r"y_pred must be an array of numbers"):
        losses.get("mse").value([1.0], ["a"])


def test_rmse_has_no_per_sample():
    with pytest.raises(ValueError, match=r"loss 'rmse' has no per-sample form"):
        losses.get("rmse").per_sample([1.0, 2.0], [1.0, 2.0])


# -- float32 predictions ----------------------------------------------------------------------------------


def _logistic_landscape_logits(side: int) -> tuple[np.ndarray, np.ndarray]:
    """The benchmark's problem at a smaller grid: 10,000 samples, weights on a side x side grid in [-4, 4]."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10_000, 2))
    y = (rng.random(10_000) < 1 / (1 + np.exp(-X @ np.array([1.5, -2.0])))).astype(float)
    axis = np.linspace(-4.0, 4.0, side)
    weights = np.stack([g.ravel() for g in np.meshgrid(axis, axis)], axis=-1)
    return y, weights @ X.T  # logits (side * side, 10_000), float64


def test_float32_logits_value_within_1e5_of_float64_reference():
    y, logits = _logistic_landscape_logits(15)
    logits32 = logits.astype(np.float32)
    # Independent reference: log(1 + e^s) - y s on the float32 logits widened to float64, so only the
    # float32 arithmetic of the loss is measured, not the rounding of the logits themselves.
    widened = logits32.astype(np.float64)
    reference = np.mean(np.logaddexp(0.0, widened) - y * widened, axis=-1)
    value = losses.get("binary_cross_entropy_with_logits").value(y, logits32)
    assert value.dtype == np.float64
    np.testing.assert_allclose(value, reference, rtol=1e-5)
    # And against the float64 logits, the benchmark's check: the whole float32 path to 1e-5.
    np.testing.assert_allclose(value, np.mean(np.logaddexp(0.0, logits) - y * logits, axis=-1), rtol=1e-5)


@pytest.mark.parametrize("name", ["binary_cross_entropy_with_logits", "logistic", "hinge", "cross_entropy"])
def test_float32_predictions_compute_per_sample_in_float32(name):
    loss = losses.get(name)
    rng = np.random.default_rng(7)
    if loss.multiclass:
        y, pred = rng.integers(0, 3, 40), rng.standard_normal((3, 40, 3))
    else:
        y, pred = (rng.random(40) < 0.5).astype(float), 3.0 * rng.standard_normal((3, 40))
    pred32 = pred.astype(np.float32)
    assert loss.per_sample(y, pred32).dtype == np.float32
    np.testing.assert_allclose(loss.per_sample(y, pred32), loss.per_sample(y, pred32.astype(np.float64)),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(loss.value(y, pred32), loss.value(y, pred32.astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize("name", ALL)
def test_float32_predictions_gradient_is_the_float64_gradient(name):
    loss = losses.get(name)
    rng = np.random.default_rng(8)
    if loss.multiclass:
        y, pred = rng.integers(0, 3, 30), rng.standard_normal((2, 30, 3))
    else:
        y, pred = rng.standard_normal(30), rng.standard_normal((2, 30))
        if loss.targets != "real":
            y = (y > 0).astype(float)
    if loss.input in ("probability", "probabilities"):
        pred = np.exp(pred) / (np.exp(pred).sum(-1, keepdims=True) if loss.multiclass else 1 + np.exp(pred))
    pred32 = pred.astype(np.float32)
    widened = pred32.astype(np.float64)
    expected = loss.grad(y, widened)
    assert loss.grad(y, pred32).dtype == np.float64
    np.testing.assert_array_equal(loss.grad(y, pred32), expected)
    value, grad = loss.value_and_grad(y, pred32)
    np.testing.assert_array_equal(grad, expected)
    np.testing.assert_allclose(value, loss.value(y, widened), rtol=1e-6)


@pytest.mark.parametrize("name", REGRESSION)
def test_float32_predictions_do_not_round_real_targets(name):
    # 1 + 1e-6 is not a float32 (the nearest is 1 + 9.5e-7): rounding the targets would change every value.
    y = np.full(4, 1.0 + 1e-6)
    pred32 = np.ones((2, 4), dtype=np.float32)
    loss = losses.get(name)
    np.testing.assert_array_equal(loss.value(y, pred32), loss.value(y, np.ones((2, 4))))
    assert loss.value(y, pred32)[0] > 0.0
