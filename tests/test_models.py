"""Models on data: gradients against central differences, batching, least squares, torch references and
every validation rule."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lossviz.batched as batched_module
import lossviz.models as models_module
from lossviz import analysis, losses, models

REGRESSION_LOSSES = ["mse", "rmse", "mae", "huber", "log_cosh"]
# Losses whose derivative jumps somewhere: central differences straddling the jump are not a test.
KINKED = {"mae", "huber", "hinge", "zero_one", "squared_hinge"}

RNG = np.random.default_rng(12345)
X_REG = RNG.standard_normal((23, 2))
Y_REG = X_REG @ np.array([1.5, -0.7]) + 0.3 + 0.4 * RNG.standard_normal(23)
X_CLS = RNG.standard_normal((23, 2))
Y_BIN = (X_CLS[:, 0] + 0.5 * X_CLS[:, 1] + 0.5 * RNG.standard_normal(23) > 0).astype(int)
Y_3 = np.argmax(X_CLS @ RNG.standard_normal((2, 3)) + 0.5 * RNG.standard_normal((23, 3)), axis=1)
X_WIDE = RNG.standard_normal((23, 6))  # more features than the multiply-add path takes: a matrix product
Y_WIDE = X_WIDE @ RNG.standard_normal(6) + 0.2 * RNG.standard_normal(23)
BATCH = np.array([0, 4, 4, 9, 22])

SETTINGS = settings(max_examples=25, deadline=None)


def params_strategy(dim: int, bound: float = 2.0) -> st.SearchStrategy:
    return hnp.arrays(np.float64, dim, elements=st.floats(-bound, bound, allow_nan=False, width=64))


def central_differences(model, p: np.ndarray, batch=None, h: float = 1e-6) -> np.ndarray:
    """All 2d perturbed vectors go through f in one batched call, i.e. through the forward pass only."""
    eye = np.eye(p.size) * h
    values = model.f(np.concatenate([p + eye, p - eye]), batch=batch)
    return (values[: p.size] - values[p.size:]) / (2 * h)


def assert_grad_matches(model, p: np.ndarray, batch=None) -> None:
    fd = central_differences(model, p, batch)
    g = model.grad(p, batch=batch)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(fd).max()))


def linear_scores(model, p: np.ndarray) -> np.ndarray:
    """Independent scores X w + b for a one-output linear model."""
    p_features = model.n_features
    return model.X @ p[:p_features] + (p[p_features] if model.fit_intercept else 0.0)


def far_from_kinks(loss_name: str, scores: np.ndarray, y: np.ndarray, link: str) -> bool:
    if loss_name not in KINKED:
        return True
    if loss_name in ("mae", "huber"):
        pred = 1 / (1 + np.exp(-scores)) if link == "sigmoid" else scores
        r = np.abs(pred - y)
        return bool(np.all(r > 1e-4) and (loss_name != "huber" or np.all(np.abs(r - 1.0) > 1e-4)))
    margin = np.where(y > 0, 1.0, -1.0) * scores
    return bool(np.all(np.abs(margin - 1.0) > 1e-4) and np.all(np.abs(margin) > 1e-4))


def probabilities_not_clamped(model, p: np.ndarray) -> bool:
    """Keep central differences meaningful for losses on probabilities.

    p = sigmoid(s) near 1 is stored to an absolute 1e-16, so log(1 - p) for a true-class probability
    1 - p of 1e-10 has only six digits, and a difference quotient with step 1e-6 amplifies that noise to
    the size of the gradient (torch shows the same). Below 1e-12 the losses also clamp, as torch does.
    """
    if model.loss.input not in ("probability", "probabilities"):
        return True
    pred = model.predict(p)
    y = model.y.astype(int)
    if model.loss.input == "probabilities":
        true_class = pred[np.arange(len(y)), y]
    else:
        true_class = np.where(y == 1, pred, 1 - pred)
    return bool(true_class.min() > 1e-3)


# -- gradients against central differences -----------------------------------------------------------


@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("features", ["two", "six"])
@SETTINGS
@given(data=st.data())
def test_linear_regression_gradient(loss: str, fit_intercept: bool, features: str, data) -> None:
    X, y = (X_REG, Y_REG) if features == "two" else (X_WIDE, Y_WIDE)
    model = models.linear_regression(X, y, loss=loss, fit_intercept=fit_intercept)
    p = data.draw(params_strategy(model.dim))
    assume(far_from_kinks(loss, linear_scores(model, p), y, "identity"))
    assume(loss != "rmse" or np.abs(linear_scores(model, p) - y).max() > 1e-3)
    assert_grad_matches(model, p)
    assert_grad_matches(model, p, BATCH)


LOGISTIC_CASES = [
    ("binary_cross_entropy_with_logits", "auto"), ("binary_cross_entropy", "auto"), ("logistic", "auto"),
    ("hinge", "auto"), ("squared_hinge", "auto"), ("zero_one", "auto"), ("mse", "auto"), ("mae", "auto"),
    ("huber", "auto"), ("log_cosh", "auto"), ("rmse", "auto"), ("mse", "identity"), ("huber", "identity"),
]


@pytest.mark.parametrize("loss, link", LOGISTIC_CASES)
@SETTINGS
@given(data=st.data())
def test_logistic_regression_gradient(loss: str, link: str, data) -> None:
    model = models.logistic_regression(X_CLS, Y_BIN, loss=loss, link=link)
    p = data.draw(params_strategy(model.dim))
    assume(far_from_kinks(loss, linear_scores(model, p), Y_BIN, model.link))
    assume(probabilities_not_clamped(model, p))
    assert_grad_matches(model, p)
    assert_grad_matches(model, p, BATCH)


@pytest.mark.parametrize("loss", ["cross_entropy", "cross_entropy_from_probabilities"])
@pytest.mark.parametrize("labels", [Y_3, Y_BIN], ids=["3 classes", "2 classes"])
@SETTINGS
@given(data=st.data())
def test_softmax_regression_gradient(loss: str, labels: np.ndarray, data) -> None:
    model = models.softmax_regression(X_CLS, labels, loss=loss)
    p = data.draw(params_strategy(model.dim))
    assume(probabilities_not_clamped(model, p))
    assert_grad_matches(model, p)
    assert_grad_matches(model, p, BATCH)


def relu_far_from_zero(model, p: np.ndarray) -> bool:
    """No hidden pre-activation within 1e-4 of ReLU's kink (an independent forward pass)."""
    h = model.X
    for W, b in model.unflatten(p)[:-1]:
        a = h @ W + b
        if np.abs(a).min() < 1e-4:
            return False
        h = np.maximum(a, 0)
    return True


MLP_CLASSIFICATION = [
    ("cross_entropy", Y_3), ("cross_entropy", Y_BIN), ("cross_entropy_from_probabilities", Y_3),
    ("binary_cross_entropy_with_logits", Y_BIN), ("binary_cross_entropy", Y_BIN), ("logistic", Y_BIN),
    ("squared_hinge", Y_BIN), ("mse", Y_BIN),
]


@pytest.mark.parametrize("activation", models.ACTIVATIONS)
@pytest.mark.parametrize("loss, labels", MLP_CLASSIFICATION,
                         ids=[f"{name}-{len(np.unique(y))}" for name, y in MLP_CLASSIFICATION])
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_mlp_classification_gradient(activation: str, loss: str, labels: np.ndarray, data) -> None:
    model = models.mlp(X_CLS, labels, hidden=(4, 3), activation=activation, loss=loss)
    # Smaller weights for probability losses, so that few draws saturate (see probabilities_not_clamped).
    bound = 0.6 if model.loss.input in ("probability", "probabilities") else 1.5
    p = data.draw(params_strategy(model.dim, bound=bound))
    assume(activation != "relu" or relu_far_from_zero(model, p))
    assume(probabilities_not_clamped(model, p))
    assert_grad_matches(model, p)
    assert_grad_matches(model, p, BATCH)


@pytest.mark.parametrize("activation", models.ACTIVATIONS)
@pytest.mark.parametrize("loss", ["mse", "log_cosh"])
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_mlp_regression_gradient(activation: str, loss: str, data) -> None:
    model = models.mlp(X_REG, Y_REG, hidden=(3,), activation=activation, loss=loss, task="regression")
    p = data.draw(params_strategy(model.dim, bound=1.5))
    assume(activation != "relu" or relu_far_from_zero(model, p))
    assert_grad_matches(model, p)
    assert_grad_matches(model, p, BATCH)


def test_mlp_gradient_across_padded_sample_blocks(monkeypatch) -> None:
    # A tiny product limit forces blocks of 16 samples: 23 samples = 2 blocks of 12 with 1 padded row.
    monkeypatch.setattr(batched_module, "SINGLE_THREAD_PRODUCT", 10)
    model = models.mlp(X_CLS, Y_3, hidden=(5, 4), activation="tanh")
    assert model._prepare(model.X, np.float64).XT.shape == (2, 3, 12)
    p = model.init_params(seed=3) + 0.1
    assert_grad_matches(model, p)
    monkeypatch.undo()
    unblocked = models.mlp(X_CLS, Y_3, hidden=(5, 4), activation="tanh")
    np.testing.assert_allclose(model.grad(p), unblocked.grad(p), rtol=1e-12, atol=1e-15)
    assert model.f(p) == pytest.approx(unblocked.f(p), rel=1e-14)


# -- batching: (K, d) and deeper leading axes equal a loop -----------------------------------------------


def all_models():
    return [
        models.linear_regression(X_REG, Y_REG, loss="huber"),
        models.linear_regression(X_WIDE, Y_WIDE, loss="log_cosh"),
        models.logistic_regression(X_CLS, Y_BIN, loss="binary_cross_entropy"),
        models.softmax_regression(X_CLS, Y_3),
        models.mlp(X_CLS, Y_3, hidden=(6, 5), activation="relu"),
        models.mlp(X_REG, Y_REG, hidden=(4,), task="regression", loss="mae"),
    ]


@pytest.mark.parametrize("model", all_models(), ids=lambda m: repr(m))
def test_batched_parameters_equal_a_loop(model) -> None:
    P = np.random.default_rng(0).standard_normal((2, 3, model.dim))
    values = model.f(P)
    grads = model.grad(P)
    assert values.shape == (2, 3) and grads.shape == (2, 3, model.dim)
    # Equal up to rounding: BLAS may sum in a different order for a different number of rows.
    for i in range(2):
        for j in range(3):
            assert values[i, j] == pytest.approx(model.f(P[i, j]), rel=1e-14)
            np.testing.assert_allclose(grads[i, j], model.grad(P[i, j]), rtol=1e-13, atol=1e-15)
    single = model.f(P[0, 0])
    assert np.ndim(single) == 0
    v, g = model.value_and_grad(P)
    np.testing.assert_array_equal(v, values)
    np.testing.assert_array_equal(g, grads)


@pytest.mark.parametrize("model", all_models(), ids=lambda m: repr(m))
def test_chunked_and_threaded_evaluation_equals_one_pass(model, monkeypatch) -> None:
    P = np.random.default_rng(1).standard_normal((37, model.dim))
    values, grads = model.f(P), model.grad(P)
    monkeypatch.setattr(models_module, "_VALUE_CHUNK_BYTES", 1)
    monkeypatch.setattr(models_module, "_GRAD_CHUNK_BYTES", 1)
    monkeypatch.setattr(batched_module, "_THREAD_MIN_WORK", 0)
    monkeypatch.setattr(batched_module, "_N_THREADS", 2)
    np.testing.assert_allclose(model.f(P), values, rtol=1e-13)
    np.testing.assert_allclose(model.grad(P), grads, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("model", all_models(), ids=lambda m: repr(m))
def test_batch_uses_only_the_selected_samples(model) -> None:
    p = np.random.default_rng(2).standard_normal(model.dim)
    idx = np.array([3, 3, 7, 11])
    # Rebuild the same model on the selected rows: the batch loss must be that model's full loss.
    if model.name == "mlp":
        sub = models.mlp(model.X[idx], model.y[idx], hidden=model.hidden, activation=model.activation,
                         loss=model.loss, task=model.task, n_classes=model.n_classes)
    elif model.name == "softmax_regression":
        sub = models.softmax_regression(model.X[idx], model.y[idx], loss=model.loss,
                                        n_classes=model.n_classes)
    elif model.name == "logistic_regression":
        sub = models.logistic_regression(model.X[idx], model.y[idx], loss=model.loss)
    else:
        sub = models.linear_regression(model.X[idx], model.y[idx], loss=model.loss)
    assert model.f(p, batch=idx) == pytest.approx(sub.f(p), rel=1e-13)
    np.testing.assert_allclose(model.grad(p, batch=idx), sub.grad(p), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("model", all_models()[:5], ids=lambda m: repr(m))
def test_float32_fast_path_agrees_with_float64(model) -> None:
    P = 0.5 * np.random.default_rng(3).standard_normal((50, model.dim))
    v64 = model.f(P)
    v32 = model.f(P, dtype=np.float32)
    assert v32.dtype == np.float64
    np.testing.assert_allclose(v32, v64, rtol=2e-5)
    np.testing.assert_allclose(model.f(P, dtype="float32"), v32)


# -- exact references: least squares and torch -------------------------------------------------------


def test_linear_regression_mse_minimum_is_the_least_squares_solution() -> None:
    model = models.linear_regression(X_REG, Y_REG)
    design = np.column_stack([X_REG, np.ones(len(Y_REG))])
    solution, residual, *_ = np.linalg.lstsq(design, Y_REG, rcond=None)
    np.testing.assert_allclose(model.grad(solution), 0.0, atol=1e-12)
    assert model.f(solution) == pytest.approx(residual[0] / len(Y_REG), rel=1e-12)
    # The MSE is a quadratic with Hessian 2 X^T X / n (positive definite), so the stationary point is
    # the unique minimum: every nearby point is higher by exactly (h^T X^T X h) / n.
    for h in np.random.default_rng(4).standard_normal((20, 3)) * 0.1:
        expected = (design @ h) @ (design @ h) / len(Y_REG)
        assert model.f(solution + h) - model.f(solution) == pytest.approx(expected, rel=1e-8)


def test_one_feature_landscape_is_slope_intercept_and_its_grid_minimum_is_lstsq() -> None:
    x = RNG.standard_normal((40, 1))
    y = 2.0 * x[:, 0] - 1.0 + 0.3 * RNG.standard_normal(40)
    model = models.linear_regression(x, y)
    assert model.dim == 2 and model.param_names == ("slope", "intercept")
    slope, intercept = np.linalg.lstsq(np.column_stack([x, np.ones(40)]), y, rcond=None)[0]
    slopes = np.linspace(slope - 1, slope + 1, 201)
    intercepts = np.linspace(intercept - 1, intercept + 1, 201)
    S, B = np.meshgrid(slopes, intercepts)
    Z = model.f(np.stack([S, B], axis=-1))
    i, j = np.unravel_index(np.argmin(Z), Z.shape)
    assert (slopes[j], intercepts[i]) == pytest.approx((slope, intercept), abs=1e-12)


def torch_linear_scores(X: np.ndarray, p: np.ndarray, n_out: int) -> tuple[torch.Tensor, torch.Tensor]:
    w = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    Xt = torch.tensor(X, dtype=torch.float64)
    n_features = X.shape[1]
    W = w[: n_features * n_out].reshape(n_features, n_out)
    b = w[n_features * n_out:]
    return w, Xt @ W + b


TORCH_BINARY = {
    "binary_cross_entropy_with_logits": lambda s, y: F.binary_cross_entropy_with_logits(s, y),
    "binary_cross_entropy": lambda s, y: F.binary_cross_entropy(torch.sigmoid(s), y),
    "logistic": lambda s, y: F.soft_margin_loss(s, 2 * y - 1),
    "hinge": lambda s, y: torch.clamp(1 - (2 * y - 1) * s, min=0).mean(),
    "mse": lambda s, y: F.mse_loss(torch.sigmoid(s), y),
    "huber": lambda s, y: F.huber_loss(torch.sigmoid(s), y, delta=0.25),
}


@pytest.mark.parametrize("loss", TORCH_BINARY)
def test_logistic_regression_matches_torch(loss: str) -> None:
    params = {"delta": 0.25} if loss == "huber" else {}
    model = models.logistic_regression(X_CLS, Y_BIN, loss=loss, **params)
    for p in np.random.default_rng(5).standard_normal((5, 3)) * 2:
        w, scores = torch_linear_scores(X_CLS, p, 1)
        value = TORCH_BINARY[loss](scores[:, 0], torch.tensor(Y_BIN, dtype=torch.float64))
        value.backward()
        assert model.f(p) == pytest.approx(value.item(), rel=1e-12, abs=1e-15)
        np.testing.assert_allclose(model.grad(p), w.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_softmax_regression_matches_torch_cross_entropy() -> None:
    model = models.softmax_regression(X_CLS, Y_3)
    probs = models.softmax_regression(X_CLS, Y_3, loss="cross_entropy_from_probabilities")
    for p in np.random.default_rng(6).standard_normal((5, model.dim)):
        w, logits = torch_linear_scores(X_CLS, p, 3)
        value = F.cross_entropy(logits, torch.tensor(Y_3))
        value.backward()
        assert model.f(p) == pytest.approx(value.item(), rel=1e-12)
        assert probs.f(p) == pytest.approx(value.item(), rel=1e-10)
        np.testing.assert_allclose(model.grad(p), w.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(probs.grad(p), w.grad.numpy(), rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(model.predict(p), logits.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(probs.predict(p), torch.softmax(logits, 1).detach().numpy(), rtol=1e-12)


TORCH_ACTIVATIONS = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}


def torch_mlp(model, p: np.ndarray) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for index, (W, b) in enumerate(model.unflatten(p)):
        linear = torch.nn.Linear(W.shape[0], W.shape[1], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(W.T))  # torch stores (out, in)
            linear.bias.copy_(torch.tensor(b))
        layers.append(linear)
        if index < len(model.hidden):
            layers.append(TORCH_ACTIVATIONS[model.activation]())
    return torch.nn.Sequential(*layers)


def torch_flat_grad(net: torch.nn.Sequential) -> np.ndarray:
    parts = []
    for module in net:
        if isinstance(module, torch.nn.Linear):
            parts += [module.weight.grad.numpy().T.ravel(), module.bias.grad.numpy()]
    return np.concatenate(parts)


@pytest.mark.parametrize("activation", models.ACTIVATIONS)
@pytest.mark.parametrize("case", ["cross_entropy-3", "binary_cross_entropy_with_logits", "mse-regression"])
def test_mlp_forward_and_gradient_match_torch_sequential(activation: str, case: str) -> None:
    if case == "cross_entropy-3":
        model = models.mlp(X_CLS, Y_3, hidden=(7, 5), activation=activation)
        def criterion(out):
            return F.cross_entropy(out, torch.tensor(Y_3))
    elif case == "binary_cross_entropy_with_logits":
        model = models.mlp(X_CLS, Y_BIN, hidden=(7, 5), activation=activation, loss=case)
        def criterion(out):
            return F.binary_cross_entropy_with_logits(
                out[:, 0], torch.tensor(Y_BIN, dtype=torch.float64))
    else:
        model = models.mlp(X_REG, Y_REG, hidden=(7, 5), activation=activation, task="regression")
        def criterion(out):
            return F.mse_loss(out[:, 0], torch.tensor(Y_REG))
    for seed in range(3):
        noise = 0.05 * np.random.default_rng(seed).standard_normal(model.dim)
        p = model.init_params(seed=seed) + noise
        net = torch_mlp(model, p)
        out = net(torch.tensor(model.X))
        value = criterion(out)
        value.backward()
        raw = out.detach().numpy()
        np.testing.assert_allclose(model.decision_function(p), raw[:, 0] if raw.shape[1] == 1 else raw,
                                   rtol=1e-12, atol=1e-14)
        assert model.f(p) == pytest.approx(value.item(), rel=1e-12)
        np.testing.assert_allclose(model.grad(p), torch_flat_grad(net), rtol=1e-10, atol=1e-13)


# -- metadata, prediction, init --------------------------------------------------------------------


def test_param_names_and_regularization_masks() -> None:
    assert models.linear_regression(X_REG, Y_REG).param_names == ("w1", "w2", "b")
    assert models.linear_regression(X_REG[:, :1], Y_REG, fit_intercept=False).param_names == ("slope",)
    logistic = models.logistic_regression(X_CLS, Y_BIN)
    assert logistic.param_names == ("w1", "w2", "b")
    np.testing.assert_array_equal(logistic.regularization_mask, [True, True, False])
    soft = models.softmax_regression(X_CLS, Y_3)
    assert soft.dim == 9 and soft.param_names[:3] == ("w1_c0", "w1_c1", "w1_c2")
    assert soft.param_names[6:] == ("b_c0", "b_c1", "b_c2")
    np.testing.assert_array_equal(soft.regularization_mask, [True] * 6 + [False] * 3)
    net = models.mlp(X_CLS, Y_3, hidden=(4,))
    assert net.dim == 2 * 4 + 4 + 4 * 3 + 3 == len(net.param_names)
    assert net.param_names[0] == "W1[0,0]" and net.param_names[8] == "b1[0]"
    assert net.regularization_mask.sum() == 2 * 4 + 4 * 3


def test_layer_slices_unflatten_and_flatten_round_trip() -> None:
    net = models.mlp(X_CLS, Y_3, hidden=(4, 6))
    assert [(s.name, s.kind, s.shape) for s in net.layer_slices] == [
        ("W1", "weight", (2, 4)), ("b1", "bias", (4,)), ("W2", "weight", (4, 6)), ("b2", "bias", (6,)),
        ("W3", "weight", (6, 3)), ("b3", "bias", (3,)),
    ]
    assert net.layer_slices[-1].slice.stop == net.dim
    p = np.arange(net.dim, dtype=float)
    layers = net.unflatten(p)
    W1, b1 = layers[0]
    np.testing.assert_array_equal(W1, p[:8].reshape(2, 4))
    np.testing.assert_array_equal(b1, p[8:12])
    np.testing.assert_array_equal(net.flatten(layers), p)
    batched = net.unflatten(np.stack([p, p]))
    assert batched[2][0].shape == (2, 6, 3)
    # The model computes x W + b with W shaped (in, out), layer by layer.
    q = (p - p.mean()) * 1e-2
    (W1, b1), (W2, b2), (W3, b3) = net.unflatten(q)
    expected = np.tanh(np.tanh(X_CLS @ W1 + b1) @ W2 + b2) @ W3 + b3
    np.testing.assert_allclose(net.decision_function(q), expected, rtol=1e-12, atol=1e-15)


def test_init_params_follow_their_scheme_and_seed() -> None:
    X = np.zeros((3, 200))
    for init, std in [("he", np.sqrt(2 / 200)), ("xavier", np.sqrt(2 / 500)), ("lecun", np.sqrt(1 / 200)),
                      ("normal", 1.0)]:
        net = models.mlp(X, [0, 1, 0], hidden=(300,), init=init, init_scale=0.5)
        p = net.init_params(seed=1)
        W1, b1 = net.unflatten(p)[0]
        assert W1.std() == pytest.approx(0.5 * std, rel=0.02)
        np.testing.assert_array_equal(b1, 0.0)
        np.testing.assert_array_equal(p, net.init_params(seed=1))
        assert not np.array_equal(p, net.init_params(seed=2))
    many = net.init_params(seed=4, n=3)
    assert many.shape == (3, net.dim) and not np.array_equal(many[0], many[1])


def test_predict_and_labels() -> None:
    p = np.array([1.0, -2.0, 0.5])
    scores = X_CLS @ p[:2] + p[2]
    bce = models.logistic_regression(X_CLS, Y_BIN, loss="binary_cross_entropy")
    np.testing.assert_allclose(bce.predict(p), 1 / (1 + np.exp(-scores)), rtol=1e-14)
    hinge = models.logistic_regression(X_CLS, Y_BIN, loss="hinge")
    np.testing.assert_allclose(hinge.predict(p), scores)
    np.testing.assert_array_equal(bce.predict_labels(p), (scores > 0).astype(int))
    least_squares = models.logistic_regression(X_CLS, Y_BIN, loss="mse", link="identity")
    np.testing.assert_array_equal(least_squares.predict_labels(p), (scores > 0.5).astype(int))
    soft = models.softmax_regression(X_CLS, Y_3)
    q = np.random.default_rng(7).standard_normal(soft.dim)
    np.testing.assert_array_equal(soft.predict_labels(q), np.argmax(soft.predict(q), axis=-1))
    new_points = np.array([[0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(hinge.predict(p, new_points), new_points @ p[:2] + p[2])
    assert bce.predict(np.stack([p, p])).shape == (2, 23)


def test_squared_error_through_a_sigmoid_is_mse_on_probabilities() -> None:
    model = models.logistic_regression(X_CLS, Y_BIN, loss="mse")
    assert model.link == "sigmoid"
    p = np.array([0.3, -1.2, 0.4])
    probabilities = 1 / (1 + np.exp(-(X_CLS @ p[:2] + p[2])))
    assert model.f(p) == pytest.approx(np.mean((probabilities - Y_BIN) ** 2), rel=1e-14)


def test_two_class_cross_entropy_shortcut_matches_the_general_loss() -> None:
    net = models.mlp(X_CLS, Y_BIN, hidden=(3,))
    p = net.init_params(seed=0)
    logits = net.decision_function(p)
    assert net.f(p) == pytest.approx(losses.get("cross_entropy").value(Y_BIN, logits), rel=1e-13)


def test_saturated_networks_stay_finite_without_warnings() -> None:
    net = models.mlp(X_CLS, Y_BIN, hidden=(3,), activation="sigmoid", loss="binary_cross_entropy")
    p = np.full(net.dim, 500.0)
    assert np.isfinite(net.f(p)) and np.all(np.isfinite(net.grad(p)))


def test_suitable_losses_lists() -> None:
    assert models.suitable_losses("regression") == REGRESSION_LOSSES
    assert models.suitable_losses("classification", 2, multiclass_head=True) == [
        "cross_entropy", "cross_entropy_from_probabilities"]
    binary = models.suitable_losses("classification", 2, multiclass_head=False)
    assert "binary_cross_entropy" in binary and "hinge" in binary and "mse" in binary
    assert "cross_entropy" not in binary


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: models.linear_regression(np.ones(3), np.ones(3)), ValueError,
         r"X must have 2 dimension\(s\), got shape \(3,\)"),
        (lambda: models.linear_regression(np.ones((0, 2)), np.ones(0)), ValueError,
         r"X must have at least 1 row and 1 column, got shape \(0, 2\)"),
        (lambda: models.linear_regression([[1.0], [np.inf]], [1.0, 2.0]), ValueError,
         "X must contain only finite numbers"),
        (lambda: models.linear_regression(X_REG, Y_REG[:5]), ValueError,
         "y must have one entry per row of X: X has 23 rows, y has 5"),
        (lambda: models.linear_regression(X_REG, X_REG), ValueError, r"y must have 1 dimension\(s\)"),
        (lambda: models.linear_regression([[1.0], [2.0]], [1.0, np.nan]), ValueError,
         "y must contain only finite numbers"),
        (lambda: models.softmax_regression(X_CLS, Y_3 + 0.5), ValueError,
         "y must hold class labels 0, 1, ..., C-1 for classification, got 2.5"),
        (lambda: models.softmax_regression(X_CLS, Y_3 - 1), ValueError, "got -1"),
        (lambda: models.logistic_regression(X_CLS, Y_3), ValueError,
         r"y must hold binary labels 0 and 1 for logistic regression, got labels \[0, 1, 2\]"),
        (lambda: models.linear_regression(X_REG, Y_REG, loss="cross_entropy"), ValueError,
         ("loss 'cross_entropy' does not suit linear regression: a regression model needs a loss on real "
         "values; suitable losses: mse, rmse, mae, huber, log_cosh")),
        (lambda: models.logistic_regression(X_CLS, Y_BIN, loss="cross_entropy"), ValueError,
         ("loss 'cross_entropy' does not suit logistic regression: it takes one row of C class scores per "
         "sample; suitable losses: mse, rmse, mae, huber, log_cosh, binary_cross_entropy, ")),
        (lambda: models.softmax_regression(X_CLS, Y_3, loss="hinge"), ValueError,
         ("loss 'hinge' does not suit softmax regression: loss 'hinge' is a binary loss but there are 3 "
         "classes; suitable losses: cross_entropy, cross_entropy_from_probabilities")),
        (lambda: models.softmax_regression(X_CLS, Y_BIN, loss="hinge"), ValueError,
         "it takes one score per sample, not C class scores; suitable losses: cross_entropy, "),
        (lambda: models.mlp(X_CLS, Y_3, loss="binary_cross_entropy"), ValueError,
         "does not suit an MLP classifier: loss 'binary_cross_entropy' is a binary loss but there are 3"),
        (lambda: models.mlp(X_REG, Y_REG, task="regression", loss="hinge"), ValueError,
         ("does not suit an MLP regression: a regression model needs a loss on real values; suitable losses: "
         "mse")),
        (lambda: models.linear_regression(X_REG, Y_REG, loss="l2"), ValueError,
         "unknown loss 'l2'; valid names: mse"),
        (lambda: models.linear_regression(X_REG, Y_REG, loss="mse", delta=2.0), TypeError,
         "loss 'mse' got an unknown parameter"),
        (lambda: models.linear_regression(X_REG, Y_REG, loss="huber", delta=-1.0), ValueError,
         r"delta must be in \(0, inf\), got -1.0"),
        (lambda: models.linear_regression(X_REG, Y_REG, loss=losses.get("huber"), delta=2.0), TypeError,
         "loss parameters can only be given with a loss name"),
        (lambda: models.logistic_regression(X_CLS, Y_BIN, link="probit"), ValueError,
         "unknown link 'probit'; valid names: auto, identity, sigmoid, softmax"),
        (lambda: models.logistic_regression(X_CLS, Y_BIN, loss="binary_cross_entropy", link="identity"),
         ValueError, ("loss 'binary_cross_entropy' takes probabilities, which need the link 'sigmoid', not "
                      "'identity'; suitable losses: mse, rmse, mae, huber, log_cosh, "
                      "binary_cross_entropy_with_logits, logistic, hinge, squared_hinge, zero_one$")),
        (lambda: models.logistic_regression(X_CLS, Y_BIN, loss="hinge", link="sigmoid"), ValueError,
         r"loss 'hinge' takes raw scores \(link 'identity'\), not 'sigmoid'"),
        (lambda: models.logistic_regression(X_CLS, Y_BIN, loss="mse", link="softmax"), ValueError,
         "compares one value per sample, which the link 'softmax' cannot give"),
        (lambda: models.mlp(X_CLS, Y_3, link="softmax"), ValueError,
         r"loss 'cross_entropy' takes raw class logits \(link 'identity'\), not 'softmax'"),
        (lambda: models.mlp(X_CLS, Y_3, loss="cross_entropy_from_probabilities", link="identity"), ValueError,
         "takes class probabilities, which need the link 'softmax', not 'identity'"),
        (lambda: models.mlp(X_REG, Y_REG, task="regression", link="sigmoid"), ValueError,
         r"a regression model predicts values directly \(link 'identity'\), not through 'sigmoid'"),
        (lambda: models.mlp(X_CLS, Y_3, activation="gelu"), ValueError,
         "unknown activation 'gelu'; valid names: tanh, relu, sigmoid"),
        (lambda: models.mlp(X_CLS, Y_3, init="orthogonal"), ValueError,
         "unknown init 'orthogonal'; valid names: he, xavier, lecun, normal"),
        (lambda: models.mlp(X_CLS, Y_3, init_scale=0.0), ValueError, r"init_scale must be in \(0, inf\)"),
        (lambda: models.mlp(X_CLS, Y_3, hidden=32), TypeError,
         r"hidden must be a sequence of layer widths such as \(32, 32\), got 32"),
        (lambda: models.mlp(X_CLS, Y_3, hidden=(8, 0)), ValueError,
         r"hidden layer width must be an integer in \[1, 1024\], got 0"),
        (lambda: models.mlp(X_CLS, Y_3, hidden=(2,) * 9), ValueError,
         "hidden must have at most 8 layers, got 9"),
        (lambda: models.mlp(X_CLS, Y_3, task="ranking"), ValueError,
         "unknown task 'ranking'; valid names: classification, regression"),
        (lambda: models.mlp(X_CLS, Y_3, n_classes=2), ValueError,
         r"n_classes must be an integer in \[3, inf\)"),
        (lambda: models.softmax_regression(X_CLS, Y_3, n_classes=2), ValueError,
         r"n_classes must be an integer in \[3, inf\), got 2"),
        (lambda: models.linear_regression(X_REG, Y_REG, fit_intercept=1), TypeError,
         "fit_intercept must be True or False, got 1"),
    ],
)
def test_construction_validation(build, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        build()


def test_call_validation() -> None:
    model = models.logistic_regression(X_CLS, Y_BIN)
    p = np.zeros(3)
    with pytest.raises(ValueError, match=r"params must have shape \(\.\.\., 3\), got shape \(2,\)"):
        model.f(np.zeros(2))
    with pytest.raises(ValueError, match=r"params must have shape \(\.\.\., 3\)"):
        model.grad(np.zeros((4, 5)))
    with pytest.raises(TypeError, match="batch must be a 1-D array of integer sample indices, got float64"):
        model.f(p, batch=np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="batch must be a 1-D array of integer sample indices"):
        model.grad(p, batch=np.array([[0, 1]]))
    with pytest.raises(ValueError, match="batch must select at least one sample"):
        model.f(p, batch=np.array([], dtype=int))
    with pytest.raises(ValueError, match=r"batch indices must be in \[0, 22\] \(n_samples = 23\), got 23"):
        model.grad(p, batch=np.array([0, 23]))
    with pytest.raises(ValueError, match=r"batch indices must be in \[0, 22\].*got -1"):
        model.f(p, batch=np.array([-1]))
    with pytest.raises(ValueError, match="dtype must be np.float64 or np.float32, got 'float16'"):
        model.f(p, dtype="float16")
    with pytest.raises(ValueError, match="dtype must be np.float64 or np.float32, got 'banana'"):
        model.f(p, dtype="banana")
    with pytest.raises(ValueError, match=r"X must have 2 feature column\(s\) like the training data, got"):
        model.predict(p, np.zeros((4, 3)))
    regression = models.linear_regression(X_REG, Y_REG)
    with pytest.raises(ValueError, match="predict_labels needs a classification model"):
        regression.predict_labels(p)
    net = models.mlp(X_CLS, Y_3, hidden=(4,))
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, inf\), got -1"):
        net.init_params(seed=-1)
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, inf\), got 0"):
        net.init_params(n=0)
    layers = net.unflatten(np.zeros(net.dim))
    layers[0] = (np.zeros((3, 4)), layers[0][1])
    with pytest.raises(ValueError, match=r"W1 must have shape \(2, 4\), got \(3, 4\)"):
        net.flatten(layers)


def test_model_arrays_are_read_only_copies() -> None:
    X = X_REG.copy()
    model = models.linear_regression(X, Y_REG)
    X[0, 0] = 99.0
    assert model.X[0, 0] == X_REG[0, 0]
    with pytest.raises(ValueError, match="read-only"):
        model.X[0, 0] = 1.0


def test_filter_normalization_matches_each_filter_norm_and_ignores_scale() -> None:
    net = models.mlp(X_CLS, Y_3, hidden=(5, 4))
    theta = net.init_params(seed=0) + 0.01
    rng = np.random.default_rng(8)
    directions = rng.standard_normal((2, net.dim))
    normalized = net.filter_normalize(directions, theta)
    assert normalized.shape == (2, net.dim)
    for index in range(2):
        for (W_d, b_d), (W_t, _) in zip(net.unflatten(normalized[index]), net.unflatten(theta)):
            # Column j of W (in, out) is unit j's filter: its norm now equals theta's.
            # (up to the 1e-10 that Li et al. add to the norm against division by zero)
            np.testing.assert_allclose(np.linalg.norm(W_d, axis=0), np.linalg.norm(W_t, axis=0), rtol=1e-8)
            np.testing.assert_array_equal(b_d, 0.0)
    np.testing.assert_allclose(net.filter_normalize(3.0 * directions, theta), normalized, rtol=1e-8)
    kept = net.filter_normalize(directions[0], theta, biases="weights")
    for (_, b_d), (_, b_t) in zip(net.unflatten(kept), net.unflatten(theta)):
        np.testing.assert_array_equal(b_d, b_t)
    # Within a filter the direction keeps its shape: only its length changes.
    W_before = net.unflatten(directions[0])[1][0]
    W_after = net.unflatten(normalized[0])[1][0]
    np.testing.assert_allclose(W_after / np.linalg.norm(W_after, axis=0),
                               W_before / np.linalg.norm(W_before, axis=0), rtol=1e-9)
    with pytest.raises(ValueError, match="unknown biases 'keep'; valid names: zero, weights"):
        net.filter_normalize(directions, theta, biases="keep")
    with pytest.raises(ValueError, match=r"params must have 1 dimension\(s\)"):
        net.filter_normalize(directions, np.stack([theta, theta]))


@pytest.mark.parametrize("model", all_models(), ids=lambda m: repr(m))
def test_overflowing_parameter_rows_give_nan_and_leave_the_others_alone(model) -> None:
    good = np.random.default_rng(9).standard_normal(model.dim) * 0.3
    P = np.stack([good, np.full(model.dim, np.inf), np.full(model.dim, np.nan), good])
    values, grads = model.f(P), model.grad(P)
    assert values[0] == values[3] == pytest.approx(model.f(good), rel=1e-14)
    assert np.isnan(values[1]) and np.isnan(values[2])
    assert np.all(np.isnan(grads[1:3])) and np.all(np.isfinite(grads[[0, 3]]))
    # Huge but finite parameters: no exception and no warning escapes (pytest makes warnings errors).
    huge = model.f(np.full(model.dim, 1e200))
    assert np.isnan(huge) or huge >= 0


@pytest.mark.parametrize("model", all_models(), ids=lambda m: repr(m))
def test_f_affine_equals_f_on_the_built_points(model, monkeypatch) -> None:
    rng = np.random.default_rng(10)
    origin = 0.3 * rng.standard_normal(model.dim)
    directions = 0.2 * rng.standard_normal((2, model.dim))
    A, B = np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-2, 2, 5))  # non-square: rows follow B
    coords = np.stack([A, B], axis=-1)
    points = origin + A[..., None] * directions[0] + B[..., None] * directions[1]
    values = model.f_affine(origin, directions, coords)
    assert values.shape == (5, 7)
    np.testing.assert_allclose(values, model.f(points), rtol=1e-13)
    np.testing.assert_allclose(model.f_affine(origin, directions, coords, batch=BATCH),
                               model.f(points, batch=BATCH), rtol=1e-13)
    fast = model.f_affine(origin, directions, coords, dtype=np.float32)
    np.testing.assert_allclose(fast, values, rtol=2e-5)
    line = model.f_affine(origin, directions[:1], np.linspace(-1, 1, 4)[:, None])
    np.testing.assert_allclose(line, model.f(origin + np.linspace(-1, 1, 4)[:, None] * directions[0]),
                               rtol=1e-13)
    monkeypatch.setattr(models_module, "_VALUE_CHUNK_BYTES", 1)
    monkeypatch.setattr(batched_module, "_THREAD_MIN_WORK", 0)
    monkeypatch.setattr(batched_module, "_N_THREADS", 2)
    np.testing.assert_allclose(model.f_affine(origin, directions, coords), values, rtol=1e-13)


def test_f_affine_validation() -> None:
    model = models.logistic_regression(X_CLS, Y_BIN)
    with pytest.raises(ValueError, match=r"origin must have 1 dimension\(s\), got shape \(1, 3\)"):
        model.f_affine(np.zeros((1, 3)), np.eye(3)[:2], np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"directions must have shape \(\.\.\., 3\), got shape \(2, 2\)"):
        model.f_affine(np.zeros(3), np.eye(2), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"coords must have shape \(\.\.\., 2\), got shape \(4, 3\)"):
        model.f_affine(np.zeros(3), np.eye(3)[:2], np.zeros((4, 3)))
    with pytest.raises(ValueError, match="directions must contain only finite numbers"):
        model.f_affine(np.zeros(3), np.full((2, 3), np.nan), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="dtype must be np.float64 or np.float32"):
        model.f_affine(np.zeros(3), np.eye(3)[:2], np.zeros((4, 2)), dtype=int)


def test_logistic_regression_float32_runs_the_loss_in_float32_on_the_benchmark_problem(monkeypatch) -> None:
    # The benchmark's data (10,000 samples, two weights, no intercept) on a coarser grid of weights.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10_000, 2))
    y = (rng.random(10_000) < 1 / (1 + np.exp(-X @ np.array([1.5, -2.0])))).astype(float)
    model = models.logistic_regression(X, y, fit_intercept=False)
    axis = np.linspace(-4.0, 4.0, 12)
    P = np.stack([g.ravel() for g in np.meshgrid(axis, axis)], axis=-1)

    # End to end: the softplus terms, where nearly all the time goes, must see float32 logits.
    received = []
    softplus = losses._softplus

    def spy(x):
        received.append(x.dtype)
        return softplus(x)

    monkeypatch.setattr(losses, "_softplus", spy)
    v32 = model.f(P, dtype=np.float32)
    assert received and set(received) == {np.dtype(np.float32)}
    monkeypatch.undo()

    assert v32.dtype == np.float64
    S = P @ X.T  # independent float64 reference: log(1 + e^s) - y s
    reference = np.mean(np.logaddexp(0.0, S) - y * S, axis=-1)
    np.testing.assert_allclose(v32, reference, rtol=1e-5)
    np.testing.assert_allclose(model.f(P), reference, rtol=1e-12)


# -- the MLP's float32 value path (MLP._values) ---------------------------------------------------------
# Against the float64 forward pass: the relative error measured on these networks is below 3e-7; the
# bound is the one test_float32_fast_path_agrees_with_float64 pins.
FLOAT32_RTOL = 2e-5


def float32_mlps():
    return [
        models.mlp(X_CLS, Y_BIN, hidden=(7, 6), activation="tanh"),  # two-class margin head
        models.mlp(X_CLS, Y_BIN, hidden=(5,), activation="relu",
                   loss="binary_cross_entropy_with_logits"),  # one-output margin head
        models.mlp(X_CLS, Y_3, hidden=(4, 4, 3), activation="sigmoid"),  # softmax cross-entropy, 3 classes
        models.mlp(X_REG, Y_REG, hidden=(6,), task="regression"),  # mse through the general head
        models.mlp(X_CLS, Y_BIN, hidden=()),  # no hidden layer: the first layer is the last
        models.mlp(X_CLS, Y_BIN, hidden=(3,), loss="hinge"),
    ]


@pytest.mark.parametrize("model", float32_mlps(), ids=lambda m: repr(m))
def test_mlp_float32_values_agree_with_float64_over_blocks_chunks_threads_and_batches(model, monkeypatch):
    P = 0.7 * np.random.default_rng(11).standard_normal((41, model.dim))
    reference = model.f(P)
    fast = model.f(P, dtype=np.float32)
    assert fast.dtype == np.float64
    np.testing.assert_allclose(fast, reference, rtol=FLOAT32_RTOL)
    np.testing.assert_allclose(model.f(P, batch=BATCH, dtype=np.float32), model.f(P, batch=BATCH),
                               rtol=FLOAT32_RTOL)
    # Blocks of 16 samples (23 = 2 x 12 with one padded column), layers merging blocks or not, chunks of
    # one row and two threads taking them as they come: the same values.
    widths, outputs = model.widths, 1 if model._margin_head else model.n_outputs
    products = [o * (i + 1) for i, o in itertools.pairwise(widths[:-1])] + [outputs * (widths[-2] + 1)]
    monkeypatch.setattr(batched_module, "SINGLE_THREAD_PRODUCT", 16 * max(products))
    data = batched_module._prepare(model, model.X, model.y)
    assert data.XT.shape[1] == 24 and data.rows == 12
    assert data.merge == tuple(2 if size * 24 <= 16 * max(products) else 1 for size in products)
    monkeypatch.setattr(batched_module, "_VALUE32_CHUNK_BYTES", 1)
    monkeypatch.setattr(batched_module, "_THREAD_MIN_WORK", 0)
    monkeypatch.setattr(batched_module, "_N_THREADS", 2)
    np.testing.assert_allclose(model.f(P, dtype=np.float32), fast, rtol=1e-6)
    np.testing.assert_allclose(model.f(P, batch=BATCH, dtype=np.float32), model.f(P, batch=BATCH),
                               rtol=FLOAT32_RTOL)


def test_mlp_float32_margin_head_is_the_two_class_cross_entropy_and_nan_where_scores_overflow():
    net = models.mlp(X_CLS, Y_BIN, hidden=(4,))
    assert net._margin_head
    good = net.init_params(seed=1)
    P = np.stack([good, np.full(net.dim, np.inf), np.full(net.dim, np.nan), good, good])
    # Saturated hidden units (tanh = 1) and last-layer weights of +-3e38: finite in float32, but the
    # float32 scores overflow to +-inf.
    W, b1 = net.layer_slices[-2], net.layer_slices[1]
    P[4, b1.slice] = 50.0
    P[4, W.slice] = np.tile([-3e38, 3e38], W.shape[0])
    values = net.f(P, dtype=np.float32)
    logits = net.decision_function(good)
    expected = float(losses.get("cross_entropy").value(Y_BIN, logits))
    assert values[0] == values[3] == pytest.approx(expected, rel=FLOAT32_RTOL)
    assert np.isnan(values[1]) and np.isnan(values[2]) and np.isnan(values[4])
    # The general float32 head (softmax cross-entropy on both scores) agrees, NaN rows included.
    general = models.DataModel._values(net, lambda rows: P[rows].astype(np.float32), len(P), None, np.float32)
    np.testing.assert_allclose(values, general, rtol=FLOAT32_RTOL)


# -- a model's gradient is the derivative of its own value, at any score ---------------------------------
def test_softmax_probabilities_gradient_of_a_badly_classified_sample_matches_torch() -> None:
    # Issue 13, defect 13: true-class probabilities of 9e-14, below the loss's 1e-12 gradient floor.
    X, y, p = np.array([[-1.0], [1.0]]), np.array([0, 1]), np.array([15.0, -15.0, 0.0, 0.0])
    model = models.softmax_regression(X, y, loss="cross_entropy_from_probabilities")
    w, logits = torch_linear_scores(X, p, 2)
    value = F.nll_loss(torch.log(torch.softmax(logits, dim=1)), torch.tensor(y))
    value.backward()
    assert model.f(p) == pytest.approx(value.item(), rel=1e-12)
    np.testing.assert_allclose(model.grad(p), w.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(model.grad(p), central_differences(model, p), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(model.grad(p)[:2], [1.0, -1.0], rtol=1e-10)


def test_sigmoid_probabilities_loss_is_continuous_where_one_minus_p_rounds_to_zero() -> None:
    # Through the probabilities, 1 - sigmoid(s) is 0 beyond s = 37 and the loss jumped to its clamp, 100.
    model = models.logistic_regression(np.array([[1.0]]), np.array([0]), loss="binary_cross_entropy")
    scores = np.array([30.0, 36.0, 38.0, 60.0])
    values = model.f(np.column_stack([scores, np.zeros(4)]))
    np.testing.assert_allclose(values, np.log1p(np.exp(scores)), rtol=1e-12)  # -log(1 - sigmoid(s))
    s = torch.tensor([60.0], dtype=torch.float64, requires_grad=True)
    F.binary_cross_entropy_with_logits(s, torch.tensor([0.0], dtype=torch.float64)).backward()
    np.testing.assert_allclose(model.grad([60.0, 0.0]), [s.grad.item(), s.grad.item()], rtol=1e-12)
    # Past the clamp (-log p = 100) the value is flat, and so is the gradient.
    assert model.f([120.0, 0.0]) == 100.0
    np.testing.assert_array_equal(model.grad([120.0, 0.0]), [0.0, 0.0])


def _extreme_models() -> list[tuple[str, object]]:
    cases: list[tuple[str, object]] = []
    for loss in REGRESSION_LOSSES:
        cases.append((f"linear-{loss}", lambda loss=loss: models.linear_regression(X_REG, Y_REG, loss=loss)))
    for loss, link in LOGISTIC_CASES:
        cases.append((f"logistic-{loss}-{link}", lambda loss=loss, link=link: models.logistic_regression(
            X_CLS, Y_BIN, loss=loss, link=link)))
    for loss in ("cross_entropy", "cross_entropy_from_probabilities"):
        for name, labels in (("3", Y_3), ("2", Y_BIN)):
            cases.append((f"softmax-{loss}-{name}", lambda loss=loss, labels=labels:
                          models.softmax_regression(X_CLS, labels, loss=loss)))
    for loss, labels in MLP_CLASSIFICATION + [("hinge", Y_BIN)]:
        cases.append((f"mlp-{loss}-{len(np.unique(labels))}",
                      lambda loss=loss, labels=labels: models.mlp(X_CLS, labels, hidden=(3,), loss=loss)))
    for loss in REGRESSION_LOSSES:
        cases.append((f"mlp-regression-{loss}",
                      lambda loss=loss: models.mlp(X_REG, Y_REG, hidden=(3,), loss=loss, task="regression")))
    return cases


EXTREME_MODELS = _extreme_models()


def _scores_of(model, p: np.ndarray) -> np.ndarray:
    s = np.asarray(model.decision_function(p))
    return s[..., None] if s.ndim == 1 else s


def _log_probability_clamps_near(model, p: np.ndarray) -> bool:
    """Whether -log p of a true class is within 1 of the losses' clamp at 100 (a kink of the value)."""
    if model.loss.name not in ("binary_cross_entropy", "cross_entropy_from_probabilities"):
        return False
    s = _scores_of(model, p)
    y = model.y.astype(int)
    if s.shape[-1] == 1:
        u = np.where(y == 1, -s[:, 0], s[:, 0])
        minus_log_p = np.maximum(u, 0) + np.log1p(np.exp(-np.abs(u)))
    else:
        shifted = s - s.max(axis=1, keepdims=True)
        minus_log_p = np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(y)), y]
    return bool(np.any(np.abs(minus_log_p - 100.0) < 1.0))


def _value_kink_near(model, s: np.ndarray, margin: float = 1e-4) -> bool:
    """Whether a sample sits within ``margin`` of a kink of the loss as a function of its score.

    Huber is continuously differentiable (its gradient clips), and through a sigmoid the absolute error's
    kink (p = y) lies at infinity, so neither has a kink to avoid.
    """
    name = model.loss.name
    kinked = ("mae", "hinge", "squared_hinge", "zero_one")
    if model.n_outputs > 1 or model.link == "sigmoid" or name not in kinked:
        return False
    if name == "mae":
        return bool(np.any(np.abs(s[:, 0] - model.y) < margin))
    m = np.where(model.y > 0, 1.0, -1.0) * s[:, 0]
    return bool(np.any(np.abs(m - 1.0) < margin) or np.any(np.abs(m) < margin))


@pytest.mark.parametrize("name, build", EXTREME_MODELS, ids=[name for name, _ in EXTREME_MODELS])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_gradient_is_the_derivative_of_the_value_at_extreme_parameters(name: str, build, data) -> None:
    # Scores of tens (probabilities of 1e-20 and 1 - 1e-20, saturated hidden units), where a loss's
    # clamps and gradient floors live; only kinks of the value itself are left out.
    model = build()
    p = data.draw(params_strategy(model.dim, bound=25.0))
    s = _scores_of(model, p)
    assume(np.abs(s).max() > 10.0)
    assume(not _value_kink_near(model, s))
    assume(not _log_probability_clamps_near(model, p))
    hidden = getattr(model, "hidden", ())
    if hidden:
        h = model.X @ model.unflatten(p)[0][0] + model.unflatten(p)[0][1]
        assume(np.abs(h).min() > 1e-3)
    fd = central_differences(model, p, h=1e-6)
    g = model.grad(p)
    np.testing.assert_allclose(g, fd, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(fd).max()))


# -- exact Hessian-vector products ------------------------------------------------------------------------
def torch_hessian(model, p: np.ndarray, criterion) -> np.ndarray:
    shapes = [(s.slice, s.shape) for s in model.layer_slices]
    X = torch.tensor(model.X)
    activation = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[model.activation]

    def loss(flat: torch.Tensor) -> torch.Tensor:
        h = X
        for layer in range(len(shapes) // 2):
            (w, w_shape), (b, _) = shapes[2 * layer], shapes[2 * layer + 1]
            h = h @ flat[w].reshape(w_shape) + flat[b]
            if layer < len(shapes) // 2 - 1:
                h = activation(h)
        return criterion(h)

    return torch.autograd.functional.hessian(loss, torch.tensor(p)).numpy()


HESSIAN_CASES = {
    "cross_entropy-3": (Y_3, {}, lambda out: F.cross_entropy(out, torch.tensor(Y_3))),
    "cross_entropy-2": (Y_BIN, {}, lambda out: F.cross_entropy(out, torch.tensor(Y_BIN))),
    "bce-logits": (Y_BIN, {"loss": "binary_cross_entropy_with_logits"},
                   lambda out: F.binary_cross_entropy_with_logits(out[:, 0],
                                                                  torch.tensor(Y_BIN, dtype=torch.float64))),
    "probabilities-3": (Y_3, {"loss": "cross_entropy_from_probabilities"},
                        lambda out: F.nll_loss(torch.log_softmax(out, dim=1), torch.tensor(Y_3))),
    "bce-probabilities": (Y_BIN, {"loss": "binary_cross_entropy"},
                          lambda out: F.binary_cross_entropy(torch.sigmoid(out[:, 0]),
                                                             torch.tensor(Y_BIN, dtype=torch.float64))),
    "hinge": (Y_BIN, {"loss": "squared_hinge"},
              lambda out: (torch.clamp(1 - torch.tensor(2.0 * Y_BIN - 1) * out[:, 0], min=0) ** 2).mean()),
}


@pytest.mark.parametrize("activation", models.ACTIVATIONS)
@pytest.mark.parametrize("case", HESSIAN_CASES)
def test_mlp_hessian_operator_equals_torch_dense_hessian(activation: str, case: str) -> None:
    labels, extra, criterion = HESSIAN_CASES[case]
    model = models.mlp(X_CLS, labels, hidden=(4, 3), activation=activation, **extra)
    p = model.init_params(seed=5) * 1.3 + 0.05
    if activation == "relu":
        assume_ok = relu_far_from_zero(model, p)
        assert assume_ok, "pick a draw away from ReLU's kink"
    expected = torch_hessian(model, p, criterion)
    operator = model.hessian_operator(p[None])
    H = np.stack([operator(e)[0] for e in np.eye(model.dim)], axis=1)
    np.testing.assert_allclose(H, expected, rtol=1e-9, atol=1e-11 * np.abs(expected).max())


def test_mlp_hessian_operator_on_many_points_and_regression() -> None:
    model = models.mlp(X_REG, Y_REG, hidden=(5,), activation="sigmoid", loss="log_cosh", task="regression")
    rng = np.random.default_rng(3)
    P = rng.standard_normal((3, model.dim))
    V = rng.standard_normal((3, model.dim))
    together = model.hessian_operator(P)(V)
    for i in range(3):
        dense = analysis.hessian(model, P[i], method="finite_difference")
        np.testing.assert_allclose(together[i], dense @ V[i], rtol=1e-5, atol=1e-7 * np.abs(dense).max())
        np.testing.assert_allclose(model.hvp(P[i], V[i]), together[i], rtol=1e-12, atol=1e-14)
    # One point, several vectors; and the same products again (buffers reused between calls).
    operator = model.hessian_operator(P[:1])
    np.testing.assert_allclose(model.hvp(P[0], V), np.stack([operator(v)[0] for v in V]), rtol=1e-12)
    np.testing.assert_array_equal(operator(V[0])[0], operator(V[0])[0])
    with pytest.raises(ValueError, match=rf"params must have shape \(\.\.\., {model.dim}\)"):
        model.hessian_operator(np.zeros((2, 3)))


# -- one forward pass, several answers; reused workspaces -----------------------------------------------
def test_value_and_grad_labels_and_value_and_labels_are_those_of_separate_calls() -> None:
    for model in (models.mlp(X_CLS, Y_3, hidden=(4,)), models.logistic_regression(X_CLS, Y_BIN),
                  models.mlp(X_CLS, Y_BIN, hidden=(3,), loss="binary_cross_entropy_with_logits")):
        P = np.random.default_rng(2).standard_normal((4, model.dim))
        value, grad, labels = model.value_and_grad(P, labels=True)
        np.testing.assert_allclose(value, model.f(P), rtol=1e-13)
        np.testing.assert_allclose(grad, model.grad(P), rtol=1e-13)
        np.testing.assert_array_equal(labels, model.predict_labels(P))
        value, labels = model.value_and_labels(P[0])
        assert value == pytest.approx(model.f(P[0]), rel=1e-13)
        np.testing.assert_array_equal(labels, model.predict_labels(P[0]))
        _, _, batch_labels = model.value_and_grad(P, batch=BATCH, labels=True)
        np.testing.assert_array_equal(batch_labels, model.predict_labels(P)[:, BATCH])
    regression = models.linear_regression(X_REG, Y_REG)
    with pytest.raises(ValueError, match="labels need a classification model"):
        regression.value_and_grad([0.0, 0.0, 0.0], labels=True)
    with pytest.raises(ValueError, match="labels need a classification model"):
        regression.value_and_labels([0.0, 0.0, 0.0])


def test_reused_workspaces_give_the_values_of_fresh_ones_across_shapes_and_threads() -> None:
    import threading

    model = models.mlp(X_CLS, Y_3, hidden=(6, 5))
    P = np.random.default_rng(4).standard_normal((5, model.dim))
    expected = [model.value_and_grad(P[i]) for i in range(5)]
    # Alternating shapes (one vector, three, a batch) in one thread, then two threads at once.
    for _ in range(2):
        np.testing.assert_allclose(model.value_and_grad(P[:3])[1], np.stack([e[1] for e in expected[:3]]),
                                   rtol=1e-13)
        np.testing.assert_allclose(model.value_and_grad(P[4])[0], expected[4][0], rtol=1e-13)
        subset = models.mlp(X_CLS[BATCH], Y_3[BATCH], hidden=(6, 5), n_classes=3)
        np.testing.assert_allclose(model.grad(P[1], batch=BATCH), subset.grad(P[1]), rtol=1e-12)
    results: dict[int, list] = {}

    def work(index: int) -> None:
        results[index] = [model.value_and_grad(P[index])[1] for _ in range(20)]

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index in (0, 2):
        for grad in results[index]:
            np.testing.assert_allclose(grad, expected[index][1], rtol=1e-13)
