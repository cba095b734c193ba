"""Regularizers: penalty values and (sub)gradients, masks, pass-through of the objective protocol, and the
L2 convention against torch's SGD weight_decay."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossviz import models, regularizers

RNG = np.random.default_rng(7)
X = RNG.standard_normal((30, 3))
Y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 + 0.3 * RNG.standard_normal(30)


class Quadratic:
    """A bare objective (no regularization_mask, no data): 0.5 ||A w - c||^2."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.A = np.arange(1.0, dim + 1.0)
        self.c = np.linspace(-1.0, 1.0, dim)

    def f(self, params):
        params = np.asarray(params, dtype=float)
        return 0.5 * ((self.A * params - self.c) ** 2).sum(axis=-1)

    def grad(self, params):
        params = np.asarray(params, dtype=float)
        return self.A * (self.A * params - self.c)

    def hessian(self, params):
        params = np.asarray(params, dtype=float)
        return np.broadcast_to(np.diag(self.A**2), params.shape[:-1] + (self.dim, self.dim))


def vectors(dim: int) -> st.SearchStrategy:
    return hnp.arrays(np.float64, dim, elements=st.floats(-3, 3, allow_nan=False, width=64))


def vectors_off_the_kink(dim: int) -> st.SearchStrategy:
    """Entries with |w_i| >= 1e-4: |w| has a kink at 0, and central differences across it are not a
    derivative. Drawn there directly, not filtered with assume() (hypothesis draws many zeros, and too much
    filtering fails its health check at random)."""
    away = st.one_of(st.floats(-3, -1e-4, width=64), st.floats(1e-4, 3, width=64))
    return hnp.arrays(np.float64, dim, elements=away)


def wrap(kind: str, objective, strength: float, l1_ratio: float = 0.5, mask=None):
    if kind == "elastic_net":
        return regularizers.elastic_net(objective, strength, l1_ratio, mask=mask)
    return getattr(regularizers, kind)(objective, strength, mask=mask)


@pytest.mark.parametrize("kind", ["l1", "l2", "elastic_net"])
@settings(max_examples=50, deadline=None)
@given(w=vectors_off_the_kink(4), strength=st.floats(0.0, 5.0), l1_ratio=st.floats(0.0, 1.0))
def test_value_and_gradient_against_finite_differences(kind: str, w, strength: float,
                                                       l1_ratio: float) -> None:
    obj = wrap(kind, Quadratic(4), strength, l1_ratio)
    rho = {"l1": 1.0, "l2": 0.0, "elastic_net": l1_ratio}[kind]
    expected_penalty = strength * (rho * np.abs(w).sum() + 0.5 * (1 - rho) * (w @ w))
    assert obj.penalty(w) == pytest.approx(expected_penalty, rel=1e-12, abs=1e-300)
    assert obj.f(w) == pytest.approx(Quadratic(4).f(w) + expected_penalty, rel=1e-12)
    h = 1e-6
    eye = np.eye(4) * h
    fd = (obj.f(w + eye) - obj.f(w - eye)) / (2 * h)
    np.testing.assert_allclose(obj.grad(w), fd, rtol=1e-6, atol=1e-6)


def test_l2_gradient_is_strength_times_w_and_l1_subgradient_is_zero_at_zero() -> None:
    w = np.array([-2.0, 0.0, 0.5, 3.0])
    np.testing.assert_allclose(regularizers.l2(Quadratic(4), 0.3).penalty_grad(w), 0.3 * w)
    np.testing.assert_allclose(regularizers.l1(Quadratic(4), 0.3).penalty_grad(w), [-0.3, 0.0, 0.3, 0.3])
    net = regularizers.elastic_net(Quadratic(4), 2.0, l1_ratio=0.25).penalty_grad(w)
    np.testing.assert_allclose(net, 2.0 * (0.25 * np.sign(w) + 0.75 * w))


def test_penalty_broadcasts_over_leading_axes() -> None:
    obj = regularizers.elastic_net(Quadratic(3), 0.7, 0.4)
    W = RNG.standard_normal((2, 5, 3))
    assert obj.penalty(W).shape == (2, 5) and obj.f(W).shape == (2, 5)
    assert obj.penalty_grad(W).shape == (2, 5, 3) and obj.grad(W).shape == (2, 5, 3)
    for i in range(2):
        for j in range(5):
            assert obj.f(W[i, j]) == pytest.approx(obj.f(W)[i, j], rel=1e-15)
            np.testing.assert_allclose(obj.grad(W[i, j]), obj.grad(W)[i, j], rtol=1e-15)


def test_biases_are_not_regularized_by_default() -> None:
    model = models.linear_regression(X, Y)  # parameters w1, w2, w3, b
    obj = regularizers.l1(model, 1.0)
    np.testing.assert_array_equal(obj.mask, [True, True, True, False])
    w = np.array([1.0, -2.0, 3.0, 100.0])
    assert obj.penalty(w) == pytest.approx(6.0)
    np.testing.assert_allclose(obj.penalty_grad(w), [1.0, -1.0, 1.0, 0.0])
    # Without a regularization_mask every coordinate is penalized.
    np.testing.assert_array_equal(regularizers.l2(Quadratic(3), 1.0).mask, [True, True, True])


def test_explicit_mask_overrides_the_model_mask() -> None:
    model = models.linear_regression(X, Y)
    mask = np.array([False, True, False, True])
    obj = regularizers.l2(model, 2.0, mask=mask)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    assert obj.penalty(w) == pytest.approx(0.5 * 2.0 * (4.0 + 16.0))
    np.testing.assert_allclose(obj.penalty_grad(w), [0.0, 4.0, 0.0, 8.0])


@settings(max_examples=30, deadline=None)
@given(w=st.tuples(vectors_off_the_kink(3), vectors(1)).map(np.concatenate))
def test_wrapped_model_gradient_with_and_without_batch(w) -> None:
    model = models.linear_regression(X, Y, loss="huber")
    obj = regularizers.elastic_net(model, 0.8, 0.3)
    batch = np.array([1, 5, 5, 29])
    for b in (None, batch):
        h = 1e-6
        eye = np.eye(4) * h
        fd = (obj.f(w + eye, batch=b) - obj.f(w - eye, batch=b)) / (2 * h)
        np.testing.assert_allclose(obj.grad(w, batch=b), fd, rtol=1e-6, atol=1e-6)
    # The penalty is added in full whatever the batch: only the data term sees the batch.
    assert obj.f(w, batch=batch) == pytest.approx(model.f(w, batch=batch) + obj.penalty(w), rel=1e-13)
    np.testing.assert_allclose(obj.grad(w, batch=batch), model.grad(w, batch=batch) + obj.penalty_grad(w),
                               rtol=1e-13)


def test_protocol_attributes_pass_through() -> None:
    model = models.mlp(X, (Y > 0).astype(int), hidden=(4,))
    obj = regularizers.l2(model, 0.1)
    assert obj.dim == model.dim and obj.n_samples == 30
    assert obj.param_names == model.param_names
    assert obj.layer_slices == model.layer_slices
    p = model.init_params(seed=0)
    np.testing.assert_array_equal(obj.predict(p), model.predict(p))
    np.testing.assert_array_equal(obj.init_params(seed=0), p)
    expected = model.f(p, dtype=np.float32) + obj.penalty(p)
    assert obj.f(p, dtype=np.float32) == pytest.approx(expected, rel=1e-12)
    # A bare objective has none of these, and the wrapper does not pretend otherwise.
    bare = regularizers.l1(Quadratic(2), 0.1)
    assert not hasattr(bare, "n_samples") and not hasattr(bare, "predict")
    with pytest.raises(AttributeError, match="has no attribute 'minima'"):
        _ = bare.minima


def test_hessian_adds_the_l2_part_only_when_the_base_has_one() -> None:
    obj = regularizers.elastic_net(Quadratic(3), 2.0, l1_ratio=0.25, mask=np.array([True, False, True]))
    w = np.ones((5, 3))
    expected = np.diag(np.arange(1.0, 4.0) ** 2) + np.diag([1.5, 0.0, 1.5])
    np.testing.assert_allclose(obj.hessian(w), np.broadcast_to(expected, (5, 3, 3)))
    assert not hasattr(regularizers.l2(models.linear_regression(X, Y), 1.0), "hessian")


def test_regularizers_compose() -> None:
    base = Quadratic(3)
    twice = regularizers.l1(regularizers.l2(base, 1.0), 0.5)
    w = np.array([1.0, -2.0, 0.5])
    assert twice.f(w) == pytest.approx(base.f(w) + 0.5 * (w @ w) + 0.5 * np.abs(w).sum())


def test_one_sgd_step_with_l2_equals_torch_sgd_weight_decay() -> None:
    model = models.linear_regression(X, Y)
    strength, lr = 0.3, 0.05
    w0 = np.array([0.5, -1.0, 2.0, 0.7])
    # Torch decays every parameter it is given; pass the mask (all True) so both decay the same set.
    obj = regularizers.l2(model, strength, mask=np.ones(4, dtype=bool))
    ours = w0 - lr * obj.grad(w0)

    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    optimizer = torch.optim.SGD([w], lr=lr, weight_decay=strength)
    optimizer.zero_grad()
    torch.mean((Xt @ w[:3] + w[3] - Yt) ** 2).backward()
    optimizer.step()
    np.testing.assert_allclose(ours, w.detach().numpy(), rtol=1e-14)


def test_with_biases_excluded_torch_needs_parameter_groups_to_agree() -> None:
    model = models.linear_regression(X, Y)
    strength, lr = 0.3, 0.05
    w0 = np.array([0.5, -1.0, 2.0, 0.7])
    ours = w0 - lr * regularizers.l2(model, strength).grad(w0)
    weights = torch.tensor(w0[:3], requires_grad=True)
    bias = torch.tensor(w0[3:], requires_grad=True)
    optimizer = torch.optim.SGD([{"params": [weights], "weight_decay": strength},
                                 {"params": [bias], "weight_decay": 0.0}], lr=lr)
    torch.mean((torch.tensor(X) @ weights + bias - torch.tensor(Y)) ** 2).backward()
    optimizer.step()
    np.testing.assert_allclose(ours, np.concatenate([weights.detach().numpy(), bias.detach().numpy()]),
                               rtol=1e-14)


def test_get_and_names() -> None:
    assert regularizers.names() == ["l1", "l2", "elastic_net"]
    obj = regularizers.get("elastic_net", Quadratic(2), strength=1.0, l1_ratio=0.2)
    assert obj.name == "elastic_net" and obj.params == {"strength": 1.0, "l1_ratio": 0.2}
    assert regularizers.get("l2", Quadratic(2), strength=0.5).l1_ratio == 0.0
    assert regularizers.get("l1", Quadratic(2), strength=0.5).l1_ratio == 1.0
    assert "lambda" in obj.latex


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: regularizers.l2(Quadratic(2), -0.1), ValueError,
         r"strength must be in \[0, inf\), got -0.1"),
        (lambda: regularizers.l1(Quadratic(2), float("nan")), ValueError, "strength must be a finite number"),
        (lambda: regularizers.l1(Quadratic(2), "strong"), TypeError, "strength must be a real number"),
        (lambda: regularizers.elastic_net(Quadratic(2), 1.0, 1.5), ValueError,
         r"l1_ratio must be in \[0, 1\], got 1.5"),
        (lambda: regularizers.l2(Quadratic(2), 1.0, mask=[1, 0]), TypeError,
         "mask must be an array of booleans, got dtype int64"),
        (lambda: regularizers.l2(Quadratic(2), 1.0, mask=np.array([True])), ValueError,
         r"mask must have shape \(2,\) \(one flag per parameter\), got shape \(1,\)"),
        (lambda: regularizers.l2(object(), 1.0), TypeError,
         "objective must have f\\(params\\), grad\\(params\\) and dim, got object"),
        (lambda: regularizers.get("l3", Quadratic(2), strength=1.0), ValueError,
         "unknown regularizer 'l3'; valid names: l1, l2, elastic_net"),
        (lambda: regularizers.get("l2", Quadratic(2), strength=1.0, l1_ratio=0.5), TypeError,
         "regularizer 'l2': .*unexpected keyword argument 'l1_ratio'"),
        (lambda: regularizers.get("l1", Quadratic(2)), TypeError, "regularizer 'l1': .*missing"),
    ],
)
def test_validation(build, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        build()


def test_params_shape_is_checked() -> None:
    obj = regularizers.l2(Quadratic(3), 1.0)
    with pytest.raises(ValueError, match=r"params must have shape \(\.\.\., 3\), got shape \(2,\)"):
        obj.penalty(np.zeros(2))
    with pytest.raises(ValueError, match=r"params must have shape \(\.\.\., 3\)"):
        obj.f(np.zeros((4, 2)))


def test_diverged_weights_give_inf_without_warnings() -> None:
    obj = regularizers.elastic_net(models.linear_regression(X, Y), 1.0, 0.5)
    assert obj.penalty(np.array([1e200, 0.0, 0.0, 0.0])) == np.inf
    # The unpenalized bias may be infinite without turning the penalty into NaN.
    assert obj.penalty(np.array([1.0, 0.0, 0.0, np.inf])) == pytest.approx(1.0 * (0.5 + 0.25))
    assert np.isinf(regularizers.l2(Quadratic(2), 0.5).penalty(np.array([np.inf, 1.0])))


def test_f_affine_adds_the_penalty_at_every_point_of_the_slice() -> None:
    model = models.mlp(X, (Y > 0).astype(int), hidden=(3,))
    obj = regularizers.elastic_net(model, 0.4, 0.6)
    rng = np.random.default_rng(11)
    origin, directions = rng.standard_normal(model.dim), rng.standard_normal((2, model.dim))
    A, B = np.meshgrid(np.linspace(-1, 1, 30), np.linspace(-1, 1, 20))  # 600 points: several chunks
    coords = np.stack([A, B], axis=-1)
    points = origin + coords @ directions
    np.testing.assert_allclose(obj.f_affine(origin, directions, coords), obj.f(points), rtol=1e-13)
    np.testing.assert_allclose(obj.f_affine(origin, directions, coords, batch=np.array([0, 3])),
                               obj.f(points, batch=np.array([0, 3])), rtol=1e-13)
    assert not hasattr(regularizers.l2(Quadratic(2), 1.0), "f_affine")
