"""Tests for lossviz.optimizers: torch.optim's rules, defaults and checks, vectorized over runs.

References used here, none of them the module's own code: torch.optim itself (float64, single-tensor code
path, gradients by autograd), scalar re-statements of each algorithm box written out below, literal hand
calculations, and the closed form of gradient descent / heavy ball on a diagonal quadratic.
"""
from __future__ import annotations

import glob
import json
import math
import os
import shutil
import subprocess

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz import optimizers
from lossviz.optimizers import clip_by_norm, clip_by_value

torch.set_default_dtype(torch.float64)

# The nine torch.optim optimizers this file is the contract for; the others are tested in
# test_optimizers_parity.py (against their references) and test_optimizers_table.py (generic properties).
CLASSIC = ["sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam", "radam", "adamax"]

# ------------------------------------------------------------------------------------------ objectives
# f(x) = 1/2 x^T A x - b^T x, written once for NumPy (analytic gradient) and once for torch (autograd).
A = np.array([[3.0, 0.5], [0.5, 1.0]])
B = np.array([1.0, -2.0])
QUADRATIC_MIN = np.linalg.solve(A, B)
QUADRATIC_START = np.array([1.5, -0.7])
ROSENBROCK_MIN = np.array([1.0, 1.0])
ROSENBROCK_START = np.array([-1.2, 1.0])


def quadratic_grad(x: np.ndarray) -> np.ndarray:
    return x @ A - B


def quadratic_torch(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x @ torch.tensor(A) @ x - torch.tensor(B) @ x


def rosenbrock_grad(x: np.ndarray) -> np.ndarray:
    u, v = x[..., 0], x[..., 1]
    return np.stack([-2 * (1 - u) - 400 * u * (v - u**2), 200 * (v - u**2)], axis=-1)


def rosenbrock_torch(x: torch.Tensor) -> torch.Tensor:
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


PROBLEMS = {
    "quadratic": (quadratic_grad, quadratic_torch, QUADRATIC_START),
    "rosenbrock": (rosenbrock_grad, rosenbrock_torch, ROSENBROCK_START),
}


def trajectory(optimizer: optimizers.Optimizer, grad_fn, x0: np.ndarray, steps: int, lr=None) -> np.ndarray:
    """Params after every step, shape (steps, R, d)."""
    params = np.atleast_2d(np.array(x0, dtype=float))
    state = optimizer.init(params)
    out = []
    for _ in range(steps):
        params, state = optimizer.update(grad_fn(params), state, params, lr)
        out.append(params)
    return np.array(out)


def torch_trajectory(torch_name: str, kwargs: dict, loss_fn, x0, steps: int, clip=None) -> np.ndarray:
    """torch.optim iterates after every step, shape (steps, d); ``clip(x)`` runs after backward."""
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    kwargs = {k: tuple(v) if k == "betas" else v for k, v in kwargs.items()}
    optimizer = getattr(torch.optim, torch_name)([x], foreach=False, **kwargs)
    out = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(x).backward()
        if clip is not None:
            clip(x)
        optimizer.step()
        out.append(x.detach().numpy().copy())
    return np.array(out)


# ------------------------------------------------------------------------------------- torch agreement
# (name, settings without lr, lr on the quadratic, lr on Rosenbrock): every flag and non-default value
# torch exposes, each at least once, with learning rates that move far in 50 steps without diverging.
TORCH_CASES = [
    ("sgd", {}, 0.1, 1e-3),
    ("sgd", {"momentum": 0.9}, 0.1, 1e-3),
    ("sgd", {"momentum": 0.9, "dampening": 0.5}, 0.1, 1e-3),
    ("sgd", {"momentum": 0.9, "nesterov": True}, 0.1, 1e-3),
    ("sgd", {"momentum": 0.5, "nesterov": True, "weight_decay": 0.1}, 0.1, 1e-3),
    ("sgd", {"weight_decay": 0.3, "dampening": 0.2}, 0.1, 1e-3),
    ("adagrad", {}, 0.5, 0.1),
    ("adagrad", {"lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.3, "eps": 1e-6},
     0.5, 0.1),
    ("rmsprop", {}, 0.01, 1e-3),
    ("rmsprop", {"centered": True}, 0.01, 1e-3),
    ("rmsprop", {"momentum": 0.8}, 0.01, 1e-3),
    ("rmsprop", {"momentum": 0.8, "centered": True, "weight_decay": 0.1, "alpha": 0.9, "eps": 1e-4},
     0.01, 1e-3),
    ("adadelta", {}, 1.0, 1.0),
    ("adadelta", {"rho": 0.5, "eps": 1e-3, "weight_decay": 0.1}, 0.5, 0.5),
    ("adam", {}, 0.05, 0.01),
    ("adam", {"amsgrad": True}, 0.05, 0.01),
    ("adam", {"weight_decay": 0.1}, 0.05, 0.01),
    ("adam", {"weight_decay": 0.1, "decoupled_weight_decay": True}, 0.05, 0.01),
    ("adam", {"betas": (0.5, 0.9), "eps": 1e-4, "amsgrad": True, "weight_decay": 0.05}, 0.05, 0.01),
    ("adamw", {}, 0.05, 0.01),
    ("adamw", {"amsgrad": True, "weight_decay": 0.1, "betas": (0.8, 0.95)}, 0.05, 0.01),
    ("nadam", {}, 0.05, 0.01),
    ("nadam", {"momentum_decay": 0.01, "weight_decay": 0.1, "eps": 1e-6}, 0.05, 0.01),
    ("nadam", {"weight_decay": 0.1, "decoupled_weight_decay": True, "betas": (0.8, 0.99)}, 0.05, 0.01),
    ("radam", {}, 0.05, 1e-3),
    ("radam", {"weight_decay": 0.1}, 0.05, 1e-3),
    ("radam", {"weight_decay": 0.1, "decoupled_weight_decay": True}, 0.05, 1e-3),
    ("radam", {"betas": (0.9, 0.9)}, 0.05, 1e-3),  # rho_inf = 19: rectified from step 6 on, like the default
    ("radam", {"betas": (0.9, 0.6)}, 0.05, 1e-3),  # rho_inf = 4: never rectified
    ("adamax", {}, 0.05, 0.01),
    ("adamax", {"betas": (0.5, 0.9), "weight_decay": 0.1, "eps": 1e-3}, 0.05, 0.01),
]


@pytest.mark.parametrize("problem", ["quadratic", "rosenbrock"])
@pytest.mark.parametrize(("name", "kwargs", "lr_quadratic", "lr_rosenbrock"), TORCH_CASES)
def test_every_step_matches_torch(name, kwargs, lr_quadratic, lr_rosenbrock, problem) -> None:
    grad_fn, loss_fn, x0 = PROBLEMS[problem]
    settings_ = {**kwargs, "lr": lr_quadratic if problem == "quadratic" else lr_rosenbrock}
    optimizer = optimizers.get(name, **settings_)
    ours = trajectory(optimizer, grad_fn, x0, 50)[:, 0]
    theirs = torch_trajectory(optimizer.torch_name, settings_, loss_fn, x0, 50)
    assert np.all(np.isfinite(theirs))
    assert np.linalg.norm(theirs[-1] - x0) > 1e-2  # the comparison covers real motion
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_the_radam_cases_cover_both_branches() -> None:
    def rho(t: int, beta2: float) -> float:
        rho_inf = 2 / (1 - beta2) - 1
        return rho_inf - 2 * t * beta2**t / (1 - beta2**t)

    assert next(t for t in range(1, 51) if rho(t, 0.999) > 5) == 6
    assert next(t for t in range(1, 51) if rho(t, 0.9) > 5) == 6
    assert not any(rho(t, 0.6) > 5 for t in range(1, 51))


@pytest.mark.parametrize("name", CLASSIC)
def test_defaults_are_torchs(name: str) -> None:
    optimizer = optimizers.get(name)
    reference = getattr(torch.optim, optimizer.torch_name)([torch.zeros(2, requires_grad=True)])
    for key, value in optimizer.hyperparameters.items():
        expected = reference.defaults[key]
        assert value == (tuple(expected) if key == "betas" else expected), key
    assert type(optimizer.hyperparameters.get("nesterov", False)) is bool


STATE_CASES = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("adagrad", {}),
    ("rmsprop", {}),
    ("rmsprop", {"momentum": 0.5, "centered": True}),
    ("adadelta", {}),
    ("adam", {}),
    ("adam", {"amsgrad": True}),
    ("adamw", {}),
    ("nadam", {}),
    ("radam", {}),
    ("adamax", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), STATE_CASES)
def test_state_fields_carry_torchs_state_names_and_values(name: str, kwargs: dict) -> None:
    optimizer = optimizers.get(name, lr=0.01, **kwargs)
    params = ROSENBROCK_START[None].copy()
    state = optimizer.init(params)
    x = torch.tensor(ROSENBROCK_START, requires_grad=True)
    reference = getattr(torch.optim, optimizer.torch_name)([x], lr=0.01, foreach=False, **kwargs)
    for _ in range(3):
        params, state = optimizer.update(rosenbrock_grad(params), state, params)
        reference.zero_grad()
        rosenbrock_torch(x).backward()
        reference.step()
    torch_state = {k: v for k, v in reference.state[x].items() if v is not None}
    ours = {k: v for k, v in state._asdict().items() if v is not None}
    assert set(ours) - {"step"} == set(torch_state) - {"step"}
    assert ours["step"] == 3
    for key in set(torch_state) - {"step"}:
        expected = torch_state[key].numpy()
        np.testing.assert_allclose(ours[key], np.broadcast_to(expected, ours[key].shape), rtol=1e-12)


# ------------------------------------------------------------------------------------ hand calculations
def run_1d(name: str, steps: int = 3, x0: float = 1.0, **kwargs) -> list[float]:
    """Iterates of optimizer ``name`` on f(x) = x^2 (gradient 2x) in one dimension."""
    return list(trajectory(optimizers.get(name, **kwargs), lambda p: 2 * p, [x0], steps)[:, 0, 0])


def test_sgd_momentum_dampening_by_hand() -> None:
    # f = x^2, x0 = 1, lr 0.1, momentum 0.9, dampening 0.1; the first buffer is the raw gradient.
    # step 1: g = 2,     b = 2                          x = 1 - 0.2      = 0.8
    # step 2: g = 1.6,   b = 0.9*2 + 0.9*1.6 = 3.24      x = 0.8 - 0.324  = 0.476
    # step 3: g = 0.952, b = 0.9*3.24 + 0.9*0.952 = 3.7728  x = 0.476 - 0.37728 = 0.09872
    xs = run_1d("sgd", lr=0.1, momentum=0.9, dampening=0.1)
    np.testing.assert_allclose(xs, [0.8, 0.476, 0.09872], rtol=1e-14)


def test_sgd_nesterov_weight_decay_by_hand() -> None:
    # lr 0.1, momentum 0.5, nesterov, weight_decay 0.5: g = 2x + 0.5x = 2.5x, direction g + 0.5 b.
    # step 1: g = 2.5,       b = 2.5,       d = 2.5 + 1.25 = 3.75              x = 0.625
    # step 2: g = 1.5625,    b = 2.8125,    d = 1.5625 + 1.40625 = 2.96875     x = 0.328125
    # step 3: g = 0.8203125, b = 2.2265625, d = 0.8203125 + 1.11328125 = 1.93359375  x = 0.134765625
    xs = run_1d("sgd", lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.5)
    np.testing.assert_allclose(xs, [0.625, 0.328125, 0.134765625], rtol=1e-14)


def test_adagrad_by_hand() -> None:
    # lr 0.5, lr_decay 0.1, initial_accumulator_value 1, eps 0: step size lr / (1 + (t-1) 0.1).
    x1 = 1 - 0.5 * 2 / math.sqrt(1 + 4)  # s = 5
    s2 = 5 + (2 * x1) ** 2
    x2 = x1 - 0.5 / 1.1 * (2 * x1) / math.sqrt(s2)
    s3 = s2 + (2 * x2) ** 2
    x3 = x2 - 0.5 / 1.2 * (2 * x2) / math.sqrt(s3)
    xs = run_1d("adagrad", lr=0.5, lr_decay=0.1, initial_accumulator_value=1.0, eps=0.0)
    np.testing.assert_allclose(xs, [x1, x2, x3], rtol=1e-14)
    assert x1 == pytest.approx(0.5527864045000421)


def test_rmsprop_centered_momentum_by_hand() -> None:
    # lr 0.01, alpha 0.9, eps 0.1, momentum 0.5, centered.
    x, v, gbar, b, xs = 1.0, 0.0, 0.0, 0.0, []
    for _ in range(3):
        g = 2 * x
        v = 0.9 * v + 0.1 * g * g
        gbar = 0.9 * gbar + 0.1 * g
        b = 0.5 * b + g / (math.sqrt(v - gbar**2) + 0.1)
        x = x - 0.01 * b
        xs.append(x)
    # first step by hand: v = 0.4, gbar = 0.2, sqrt(0.4 - 0.04) = 0.6, b = 2 / 0.7, x = 1 - 0.02 / 0.7
    assert xs[0] == pytest.approx(1 - 0.02 / 0.7, rel=1e-15)
    got = run_1d("rmsprop", lr=0.01, alpha=0.9, eps=0.1, momentum=0.5, centered=True)
    np.testing.assert_allclose(got, xs, rtol=1e-14)


def test_adadelta_by_hand() -> None:
    # lr 1, rho 0.9, eps 1e-2 (large, so the first steps are not vanishingly small).
    x, v, u, xs = 1.0, 0.0, 0.0, []
    for _ in range(3):
        g = 2 * x
        v = 0.9 * v + 0.1 * g * g
        delta = math.sqrt(u + 1e-2) / math.sqrt(v + 1e-2) * g
        u = 0.9 * u + 0.1 * delta * delta
        x = x - delta
        xs.append(x)
    # first step: v = 0.4, delta = 0.1 / sqrt(0.41) * 2
    assert xs[0] == pytest.approx(1 - 0.2 / math.sqrt(0.41), rel=1e-15)
    np.testing.assert_allclose(run_1d("adadelta", lr=1.0, rho=0.9, eps=1e-2), xs, rtol=1e-14)


def test_adam_by_hand() -> None:
    x, m, v, xs = 1.0, 0.0, 0.0, []
    for t in range(1, 4):
        g = 2 * x
        m = 0.9 * m + 0.1 * g
        v = 0.99 * v + 0.01 * g * g
        x = x - 0.1 * (m / (1 - 0.9**t)) / (math.sqrt(v / (1 - 0.99**t)) + 1e-8)
        xs.append(x)
    # the first step of Adam is lr * sign(g) up to eps: m_hat = g, v_hat = g^2
    assert xs[0] == pytest.approx(1 - 0.1 * 2 / (2 + 1e-8), rel=1e-15)
    np.testing.assert_allclose(run_1d("adam", lr=0.1, betas=(0.9, 0.99)), xs, rtol=1e-14)


def test_adam_amsgrad_and_l2_decay_by_hand() -> None:
    # x^2 with weight_decay 0.5 is the gradient 2.5 x; gradients shrink, so max(v) differs from v.
    xs = []
    x, m, v, vmax = 1.0, 0.0, 0.0, 0.0
    for t in range(1, 4):
        g = 2.5 * x
        m = 0.5 * m + 0.5 * g
        v = 0.6 * v + 0.4 * g * g
        vmax = max(vmax, v)
        x = x - 0.3 * (m / (1 - 0.5**t)) / (math.sqrt(vmax / (1 - 0.6**t)) + 1e-8)
        xs.append(x)
    got = run_1d("adam", lr=0.3, betas=(0.5, 0.6), amsgrad=True, weight_decay=0.5)
    np.testing.assert_allclose(got, xs, rtol=1e-14)
    plain = run_1d("adam", lr=0.3, betas=(0.5, 0.6), weight_decay=0.5)
    assert abs(plain[2] - got[2]) > 1e-3  # the running max changed the third step


def test_adamw_by_hand() -> None:
    # decoupled decay: x <- x (1 - lr wd) first, then the Adam step with the gradient taken at the old x.
    x, m, v, xs = 1.0, 0.0, 0.0, []
    for t in range(1, 4):
        g = 2 * x
        x = x * (1 - 0.1 * 0.5)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        x = x - 0.1 * (m / (1 - 0.9**t)) / (math.sqrt(v / (1 - 0.999**t)) + 1e-8)
        xs.append(x)
    np.testing.assert_allclose(run_1d("adamw", lr=0.1, weight_decay=0.5), xs, rtol=1e-14)
    np.testing.assert_allclose(
        run_1d("adam", lr=0.1, weight_decay=0.5, decoupled_weight_decay=True), xs, rtol=1e-14
    )


def test_nadam_by_hand() -> None:
    # mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay)), Dozat's Nesterov-style blend of m and g.
    lr, beta1, beta2, eps, psi = 0.1, 0.9, 0.999, 1e-8, 0.004
    x, m, v, product, xs = 1.0, 0.0, 0.0, 1.0, []
    for t in range(1, 4):
        g = 2 * x
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        product *= mu
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        blend = mu_next * m / (1 - product * mu_next) + (1 - mu) * g / (1 - product)
        x = x - lr * blend / (math.sqrt(v / (1 - beta2**t)) + eps)
        xs.append(x)
    np.testing.assert_allclose(run_1d("nadam", lr=0.1), xs, rtol=1e-14)
    optimizer = optimizers.get("nadam")
    params = np.ones((1, 1))
    _, state = optimizer.update(2 * params, optimizer.init(params), params)
    assert state.mu_product[0] == pytest.approx(0.9 * (1 - 0.5 * 0.96**0.004), rel=1e-15)  # about 0.45


def test_radam_by_hand_before_and_after_rectification() -> None:
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    rho_inf = 2 / (1 - beta2) - 1  # 1999
    x, m, v, xs = 1.0, 0.0, 0.0, []
    for t in range(1, 8):
        g = 2 * x
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho > 5:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            x = x - lr * m_hat * r * math.sqrt(1 - beta2**t) / (math.sqrt(v) + eps)
        else:
            x = x - lr * m_hat
        xs.append(x)
    # the first three steps are momentum SGD on m_hat: step 1 moves by lr * g = 0.02
    assert xs[0] == pytest.approx(0.98, rel=1e-15)
    np.testing.assert_allclose(run_1d("radam", steps=7, lr=0.01), xs, rtol=1e-14)


def test_adamax_by_hand() -> None:
    # u_t = max(beta2 u, |g| + eps); step lr / (1 - beta1^t) * m / u.
    x, m, u, xs = 1.0, 0.0, 0.0, []
    for t in range(1, 4):
        g = 2 * x
        m = 0.9 * m + 0.1 * g
        u = max(0.999 * u, abs(g) + 1e-8)
        x = x - 0.1 / (1 - 0.9**t) * m / u
        xs.append(x)
    assert xs[0] == pytest.approx(1 - 0.1 * 2 / (2 + 1e-8), rel=1e-15)
    np.testing.assert_allclose(run_1d("adamax", lr=0.1), xs, rtol=1e-14)


# --------------------------------------------------------------------------------------- closed forms
def test_gradient_descent_on_a_diagonal_quadratic_follows_its_closed_form() -> None:
    # f = 1/2 sum(lam_i x_i^2): each coordinate contracts by (1 - lr lam_i) per step.
    lam, lr, x0 = np.array([0.5, 2.0, 3.5]), 0.3, np.array([1.0, -2.0, 0.5])
    xs = trajectory(optimizers.get("sgd", lr=lr), lambda p: lam * p, x0, 40)[:, 0]
    t = np.arange(1, 41)[:, None]
    np.testing.assert_allclose(xs, x0 * (1 - lr * lam) ** t, rtol=1e-12, atol=1e-300)


def test_heavy_ball_on_a_diagonal_quadratic_follows_its_companion_matrix() -> None:
    # With b_t = mu b_{t-1} + g_t and x_t = x_{t-1} - lr b_t, each coordinate obeys
    # x_{t+1} = (1 + mu - lr lam) x_t - mu x_{t-1} with x_1 = (1 - lr lam) x_0: powers of a 2x2 matrix.
    lam, lr, mu, x0 = np.array([0.5, 2.0]), 0.2, 0.7, np.array([1.0, -1.0])
    xs = trajectory(optimizers.get("sgd", lr=lr, momentum=mu), lambda p: lam * p, x0, 60)[:, 0]
    for i in range(2):
        companion = np.array([[1 + mu - lr * lam[i], -mu], [1.0, 0.0]])
        pair = np.array([(1 - lr * lam[i]) * x0[i], x0[i]])
        expected = [pair[0]]
        for _ in range(59):
            pair = companion @ pair
            expected.append(pair[0])
        np.testing.assert_allclose(xs[:, i], expected, rtol=1e-10, atol=1e-14)
    # the theoretical rate sqrt(mu) of the underdamped case (complex eigenvalues here)
    rate = np.abs(xs[-1]) ** (1 / 60)
    assert np.all(rate <= math.sqrt(mu) * 1.05)


# ------------------------------------------------------------------------------------ convergence table
# optimizer, problem, settings, steps, tolerance on the distance to the minimizer. Quadratic from
# (1.5, -0.7), Rosenbrock from (-1.2, 1). RMSprop and Adadelta keep normalized steps of size ~lr near
# the minimum, so they settle into a small limit cycle instead of converging exactly: looser tolerances.
# AdamW runs with weight_decay=0 because decay moves the fixed point away from the minimizer of f.
CONVERGENCE_TABLE = [
    ("sgd", "quadratic", {"lr": 0.2, "momentum": 0.5}, 2000, 1e-8),
    ("adagrad", "quadratic", {"lr": 0.5}, 2000, 1e-8),
    ("rmsprop", "quadratic", {"lr": 1e-3, "momentum": 0.9}, 2000, 1e-2),
    ("adadelta", "quadratic", {"lr": 1.0, "eps": 1e-7}, 2000, 2e-2),
    ("adam", "quadratic", {"lr": 0.05}, 2000, 1e-8),
    ("adamw", "quadratic", {"lr": 0.05, "weight_decay": 0.0}, 2000, 1e-8),
    ("nadam", "quadratic", {"lr": 0.05}, 2000, 1e-8),
    ("radam", "quadratic", {"lr": 0.05}, 2000, 1e-8),
    ("adamax", "quadratic", {"lr": 0.05}, 2000, 1e-8),
    ("sgd", "rosenbrock", {"lr": 1e-3, "momentum": 0.9}, 5000, 1e-8),
    ("adagrad", "rosenbrock", {"lr": 1.0}, 10000, 3e-3),
    ("rmsprop", "rosenbrock", {"lr": 1e-3, "momentum": 0.9}, 5000, 3e-3),
    ("adadelta", "rosenbrock", {"lr": 0.1, "eps": 1e-7}, 10000, 3e-2),
    ("adam", "rosenbrock", {"lr": 0.02}, 5000, 1e-5),
    ("adamw", "rosenbrock", {"lr": 0.02, "weight_decay": 0.0}, 5000, 1e-5),
    ("nadam", "rosenbrock", {"lr": 0.01}, 10000, 5e-3),
    ("radam", "rosenbrock", {"lr": 3e-3}, 10000, 5e-3),
    ("adamax", "rosenbrock", {"lr": 0.02}, 5000, 1e-4),
]


@pytest.mark.parametrize(("name", "problem", "kwargs", "steps", "tolerance"), CONVERGENCE_TABLE)
def test_convergence_table(name, problem, kwargs, steps, tolerance) -> None:
    grad_fn, _, x0 = PROBLEMS[problem]
    minimizer = QUADRATIC_MIN if problem == "quadratic" else ROSENBROCK_MIN
    optimizer = optimizers.get(name, **kwargs)
    params = x0[None].copy()
    state = optimizer.init(params)
    for _ in range(steps):
        params, state = optimizer.update(grad_fn(params), state, params)
    start_distance = np.linalg.norm(x0 - minimizer)
    assert np.linalg.norm(params[0] - minimizer) < tolerance < start_distance


def test_convergence_table_covers_every_optimizer_on_both_problems() -> None:
    covered = {(name, problem) for name, problem, *_ in CONVERGENCE_TABLE}
    assert covered == {(n, p) for n in CLASSIC for p in PROBLEMS}


# ------------------------------------------------------------------------------------------ vectorized
def _drawn(low: float, high: float, zero: bool = False) -> st.SearchStrategy[float]:
    values = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return st.one_of(st.just(0.0), values) if zero else values


PER_RUN = {
    "sgd": {"lr": _drawn(1e-3, 0.2), "momentum": _drawn(0.0, 0.95, zero=True),
            "dampening": _drawn(0.0, 0.9, zero=True), "weight_decay": _drawn(0.0, 0.5, zero=True)},
    "adagrad": {"lr": _drawn(1e-3, 1.0), "lr_decay": _drawn(0.0, 0.1, zero=True),
                "weight_decay": _drawn(0.0, 0.5, zero=True), "initial_accumulator_value": _drawn(0.0, 1.0),
                "eps": _drawn(1e-10, 1e-3)},
    "rmsprop": {"lr": _drawn(1e-4, 0.05), "alpha": _drawn(0.5, 0.999), "eps": _drawn(1e-8, 1e-3),
                "weight_decay": _drawn(0.0, 0.5, zero=True), "momentum": _drawn(0.0, 0.9, zero=True)},
    "adadelta": {"lr": _drawn(0.1, 2.0), "rho": _drawn(0.5, 0.99), "eps": _drawn(1e-8, 1e-3),
                 "weight_decay": _drawn(0.0, 0.5, zero=True)},
    "adam": {"lr": _drawn(1e-3, 0.1), "beta1": _drawn(0.0, 0.95), "beta2": _drawn(0.5, 0.999),
             "eps": _drawn(1e-8, 1e-3), "weight_decay": _drawn(0.0, 0.5, zero=True)},
    "nadam": {"lr": _drawn(1e-3, 0.1), "beta1": _drawn(0.0, 0.95), "beta2": _drawn(0.5, 0.999),
              "eps": _drawn(1e-8, 1e-3), "weight_decay": _drawn(0.0, 0.5, zero=True),
              "momentum_decay": _drawn(0.0, 0.05)},
    "radam": {"lr": _drawn(1e-3, 0.05), "beta1": _drawn(0.0, 0.95), "beta2": _drawn(0.5, 0.999),
              "eps": _drawn(1e-8, 1e-3), "weight_decay": _drawn(0.0, 0.5, zero=True)},
    "adamax": {"lr": _drawn(1e-3, 0.1), "beta1": _drawn(0.0, 0.95), "beta2": _drawn(0.5, 0.999),
               "eps": _drawn(1e-8, 1e-3), "weight_decay": _drawn(0.0, 0.5, zero=True)},
}
PER_RUN["adamw"] = PER_RUN["adam"]
FLAGS = {
    "sgd": [],
    "adagrad": [],
    "rmsprop": ["centered"],
    "adadelta": [],
    "adam": ["amsgrad", "decoupled_weight_decay"],
    "adamw": ["amsgrad"],
    "nadam": ["decoupled_weight_decay"],
    "radam": ["decoupled_weight_decay"],
    "adamax": [],
}


def _pack(values: dict) -> dict:
    values = dict(values)
    if "beta1" in values:
        values["betas"] = (values.pop("beta1"), values.pop("beta2"))
    return values


@pytest.mark.parametrize("name", CLASSIC)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_per_run_hyperparameters_equal_separate_runs(name: str, data) -> None:
    n_runs = data.draw(st.integers(2, 4), label="R")
    runs = [{key: data.draw(draw, label=key) for key, draw in PER_RUN[name].items()} for _ in range(n_runs)]
    flags = {flag: data.draw(st.booleans(), label=flag) for flag in FLAGS[name]}
    lr_in_update = data.draw(st.booleans(), label="lr given to update")
    starts = np.array([QUADRATIC_START + 0.3 * i for i in range(n_runs)])
    stacked = {key: np.array([run[key] for run in runs]) for key in PER_RUN[name]}
    lrs = stacked.pop("lr")
    batch = optimizers.get(name, **_pack(stacked), **flags, lr=1.0 if lr_in_update else lrs)
    together = trajectory(batch, quadratic_grad, starts, 25, lr=lrs if lr_in_update else None)
    for i, run in enumerate(runs):
        alone = optimizers.get(name, **_pack(run), **flags)
        np.testing.assert_allclose(together[:, i], trajectory(alone, quadratic_grad, starts[i], 25)[:, 0],
                                   rtol=1e-12, atol=1e-14)


def test_nesterov_per_run_equals_separate_runs() -> None:
    momenta, lrs = np.array([0.3, 0.6, 0.9]), np.array([0.05, 0.1, 0.02])
    together = trajectory(optimizers.get("sgd", lr=lrs, momentum=momenta, nesterov=True), quadratic_grad,
                          np.tile(QUADRATIC_START, (3, 1)), 30)
    for i in range(3):
        alone = optimizers.get("sgd", lr=lrs[i], momentum=momenta[i], nesterov=True)
        expected = trajectory(alone, quadratic_grad, QUADRATIC_START, 30)[:, 0]
        np.testing.assert_allclose(together[:, i], expected, rtol=1e-13)


@pytest.mark.parametrize("name", ["adam", "nadam", "radam", "adamax"])
def test_a_grid_of_betas_with_repeated_values_equals_separate_runs(name: str) -> None:
    beta1, beta2 = (grid.ravel() for grid in np.meshgrid([0.5, 0.9, 0.0], [0.9, 0.999]))
    together = trajectory(optimizers.get(name, lr=1e-3, betas=(beta1, beta2)), rosenbrock_grad,
                          np.tile(ROSENBROCK_START, (6, 1)), 30)
    for i in range(6):
        alone = optimizers.get(name, lr=1e-3, betas=(beta1[i], beta2[i]))
        expected = trajectory(alone, rosenbrock_grad, ROSENBROCK_START, 30)[:, 0]
        np.testing.assert_allclose(together[:, i], expected, rtol=1e-13)


def test_a_sweep_shares_one_state_with_a_leading_run_axis() -> None:
    lrs, momenta = np.meshgrid(np.geomspace(1e-3, 1e-1, 8), np.linspace(0, 0.9, 8))
    optimizer = optimizers.get("sgd", lr=lrs.ravel(), momentum=momenta.ravel())
    params = np.tile(QUADRATIC_START, (64, 1))
    state = optimizer.init(params)
    params, state = optimizer.update(quadratic_grad(params), state, params)
    assert optimizer.n_runs == 64
    assert state.momentum_buffer.shape == params.shape == (64, 2)
    nadam = optimizers.get("nadam", betas=(np.full(5, 0.9), 0.999))
    state = nadam.init(np.zeros((5, 3)))
    assert state.mu_product.shape == (5,) and state.exp_avg.shape == (5, 3)


# ------------------------------------------------------------------------------------------- clipping
CLIP_CASES = [
    ("sgd", {"lr": 1e-3, "momentum": 0.9}),
    ("adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("rmsprop", {"lr": 1e-3, "centered": True}),
    ("radam", {"lr": 1e-3}),
]


@pytest.mark.parametrize("problem", ["quadratic", "rosenbrock"])
@pytest.mark.parametrize(("name", "kwargs"), CLIP_CASES)
@pytest.mark.parametrize("kind", ["norm", "value"])
def test_clipping_matches_torch(name, kwargs, kind, problem) -> None:
    grad_fn, loss_fn, x0 = PROBLEMS[problem]
    bound = 1.5 if problem == "quadratic" else 20.0  # below the first gradient, so clipping engages
    assert np.linalg.norm(grad_fn(x0)) > bound and np.abs(grad_fn(x0)).max() > bound
    if kind == "norm":
        optimizer = clip_by_norm(optimizers.get(name, **kwargs), bound)

        def clip(x):
            torch.nn.utils.clip_grad_norm_([x], bound, foreach=False)
    else:
        optimizer = clip_by_value(optimizers.get(name, **kwargs), bound)

        def clip(x):
            torch.nn.utils.clip_grad_value_([x], bound, foreach=False)
    ours = trajectory(optimizer, grad_fn, x0, 50)[:, 0]
    theirs = torch_trajectory(optimizer.torch_name, kwargs, loss_fn, x0, 50, clip=clip)
    assert np.all(np.isfinite(theirs))
    unclipped = torch_trajectory(optimizer.torch_name, kwargs, loss_fn, x0, 50)
    assert np.abs(unclipped - theirs).max() > 1e-6  # clipping changed the path
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_clip_norm_is_per_run_and_per_run_bounds_equal_separate_runs() -> None:
    starts = np.array([[-1.2, 1.0], [0.9, 0.8], [2.0, -1.0]])
    bounds = np.array([5.0, 1e-3, 50.0])
    together = trajectory(clip_by_norm(optimizers.get("sgd", lr=1e-3), bounds), rosenbrock_grad, starts, 20)
    for i in range(3):
        alone = clip_by_norm(optimizers.get("sgd", lr=1e-3), bounds[i])
        np.testing.assert_allclose(together[:, i], trajectory(alone, rosenbrock_grad, starts[i], 20)[:, 0],
                                   rtol=1e-13)
    # first step of each run by hand: the step has length lr * min(|g|, bound) (up to the 1e-6 guard)
    g = rosenbrock_grad(starts)
    step = np.linalg.norm(together[0] - starts, axis=1)
    np.testing.assert_allclose(step, 1e-3 * np.minimum(np.linalg.norm(g, axis=1), bounds), rtol=1e-6)


def test_get_with_clipping_equals_composition() -> None:
    for key, wrap in (("clip_norm", clip_by_norm), ("clip_value", clip_by_value)):
        via_get = optimizers.get("adam", lr=0.01, **{key: 10.0})
        composed = wrap(optimizers.get("adam", lr=0.01), 10.0)
        np.testing.assert_array_equal(trajectory(via_get, rosenbrock_grad, ROSENBROCK_START, 20),
                                      trajectory(composed, rosenbrock_grad, ROSENBROCK_START, 20))
        assert via_get.hyperparameters[key] == 10.0
        assert via_get.name == "adam" and via_get.torch_name == "Adam"
        assert "min" in via_get.latex


def test_value_then_norm_composition_applies_the_outer_clip_first() -> None:
    optimizer = clip_by_value(clip_by_norm(optimizers.get("sgd", lr=1.0), 1.0), 0.5)
    params = np.zeros((1, 2))
    new, _ = optimizer.update(np.array([[3.0, 0.1]]), optimizer.init(params), params)
    clipped = np.array([0.5, 0.1])  # value clip, whose norm is below 1, so the norm clip keeps it
    np.testing.assert_allclose(-new[0], clipped * min(1.0, 1.0 / (np.linalg.norm(clipped) + 1e-6)))


# ------------------------------------------------------------------------------- interface properties
def test_names_and_metadata() -> None:
    assert optimizers.names()[: len(CLASSIC)] == CLASSIC
    for name in CLASSIC:
        optimizer = optimizers.get(name)
        assert optimizer.name == name
        assert hasattr(torch.optim, optimizer.torch_name)
        assert optimizer.title and optimizer.latex.startswith(r"\begin{aligned}")
        assert optimizers.hyperparameter_names(name) == list(optimizer.hyperparameters)


@pytest.mark.parametrize(("name", "kwargs"), [(n, {}) for n in CLASSIC] + [
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("rmsprop", {"centered": True, "momentum": 0.9}),
    ("adam", {"amsgrad": True, "weight_decay": 0.1}),
    ("nadam", {"decoupled_weight_decay": True, "weight_decay": 0.1}),
])
def test_hyperparameters_rebuild_the_same_optimizer(name: str, kwargs: dict) -> None:
    optimizer = clip_by_norm(optimizers.get(name, **kwargs), 30.0)
    rebuilt = optimizers.get(optimizer.name, **optimizer.hyperparameters)
    assert rebuilt.latex == optimizer.latex
    np.testing.assert_array_equal(trajectory(rebuilt, rosenbrock_grad, ROSENBROCK_START, 10),
                                  trajectory(optimizer, rosenbrock_grad, ROSENBROCK_START, 10))


@pytest.mark.parametrize("name", CLASSIC)
def test_update_is_pure(name: str) -> None:
    optimizer = optimizers.get(name, **({"momentum": 0.9} if name in ("sgd", "rmsprop") else {}))
    params = np.array([[0.3, -0.4], [1.0, 2.0]])
    state = optimizer.init(params)
    for _ in range(2):  # the first step of SGD's buffer is special: cover it and the next
        grad = quadratic_grad(params)
        before = (params.copy(), grad.copy(), [None if v is None else np.copy(v) for v in state])
        new_params, new_state = optimizer.update(grad, state, params)
        np.testing.assert_array_equal(params, before[0])
        np.testing.assert_array_equal(grad, before[1])
        for old, kept in zip(state, before[2]):
            np.testing.assert_array_equal(old, kept)
        grad[...] = np.nan  # a caller reusing its gradient buffer must not reach the new state
        assert all(np.all(np.isfinite(v)) for v in new_state if v is not None)
        params, state = new_params, new_state


def test_per_run_arrays_are_copied() -> None:
    lrs = np.array([0.1, 0.2])
    optimizer = optimizers.get("sgd", lr=lrs)
    lrs[:] = 100.0
    params = np.ones((2, 1))
    new, _ = optimizer.update(np.ones((2, 1)), optimizer.init(params), params)
    np.testing.assert_allclose(new[:, 0], [0.9, 0.8])
    assert not optimizer.hyperparameters["lr"].flags.writeable


def test_lr_given_to_update_overrides_the_hyperparameter() -> None:
    optimizer = optimizers.get("sgd", lr=0.5)
    params = np.ones((2, 1))
    state = optimizer.init(params)
    np.testing.assert_allclose(optimizer.update(np.ones((2, 1)), state, params)[0][:, 0], [0.5, 0.5])
    np.testing.assert_allclose(optimizer.update(np.ones((2, 1)), state, params, 0.25)[0][:, 0], [0.75, 0.75])
    np.testing.assert_allclose(
        optimizer.update(np.ones((2, 1)), state, params, np.array([0.1, 0.3]))[0][:, 0], [0.9, 0.7]
    )
    from_list = optimizer.update(np.ones((2, 1)), state, params, [0.1, 0.3])[0]
    np.testing.assert_allclose(from_list[:, 0], [0.9, 0.7])


# ------------------------------------------------------------------------------------------ effective lr
def _run_steps(optimizer, steps, grad_fn=rosenbrock_grad, x0=ROSENBROCK_START):
    params = np.atleast_2d(x0).astype(float)
    state = optimizer.init(params)
    for _ in range(steps - 1):
        params, state = optimizer.update(grad_fn(params), state, params)
    grad = grad_fn(params)
    new_params, new_state = optimizer.update(grad, state, params)
    return params, grad, state, new_params, new_state


@pytest.mark.parametrize("steps", [3, 12])  # RAdam: before and after rectification
@pytest.mark.parametrize("name", ["adam", "adamw", "radam", "adamax"])
def test_effective_lr_times_m_hat_is_the_step(name: str, steps: int) -> None:
    optimizer = optimizers.get(name, lr=1e-3, betas=(0.8, 0.99))
    params, _, _, new_params, state = _run_steps(optimizer, steps)
    m_hat = state.exp_avg / (1 - 0.8**steps)
    decayed = params * (1 - 1e-3 * 1e-2) if name == "adamw" else params
    np.testing.assert_allclose(decayed - new_params, optimizer.effective_lr(state) * m_hat, rtol=1e-12)


def test_effective_lr_of_amsgrad_uses_the_running_max() -> None:
    optimizer = optimizers.get("adam", lr=1e-2, amsgrad=True)
    params, _, _, new_params, state = _run_steps(optimizer, 30, quadratic_grad, QUADRATIC_START)
    m_hat = state.exp_avg / (1 - 0.9**30)
    np.testing.assert_allclose(params - new_params, optimizer.effective_lr(state) * m_hat, rtol=1e-12)
    expected = 1e-2 / (np.sqrt(state.max_exp_avg_sq / (1 - 0.999**30)) + 1e-8)
    np.testing.assert_allclose(optimizer.effective_lr(state), expected, rtol=1e-14)


@pytest.mark.parametrize(("name", "kwargs"), [
    ("adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("rmsprop", {"lr": 1e-3}),
    ("rmsprop", {"lr": 1e-3, "centered": True}),
])
def test_effective_lr_times_gradient_is_the_step(name: str, kwargs: dict) -> None:
    optimizer = optimizers.get(name, **kwargs)
    params, grad, _, new_params, state = _run_steps(optimizer, 5)
    np.testing.assert_allclose(params - new_params, optimizer.effective_lr(state) * grad, rtol=1e-12)


def test_effective_lr_of_nadam_scales_its_blend() -> None:
    optimizer = optimizers.get("nadam", lr=1e-3)
    params, grad, old, new_params, state = _run_steps(optimizer, 4)
    mu = 0.9 * (1 - 0.5 * 0.96 ** (4 * 0.004))
    mu_next = 0.9 * (1 - 0.5 * 0.96 ** (5 * 0.004))
    blend = (mu_next * state.exp_avg / (1 - state.mu_product[:, None] * mu_next)
             + (1 - mu) * grad / (1 - state.mu_product[:, None]))
    np.testing.assert_allclose(old.mu_product * mu, state.mu_product, rtol=1e-15)
    np.testing.assert_allclose(params - new_params, optimizer.effective_lr(state) * blend, rtol=1e-12)


def test_effective_lr_of_sgd_and_adadelta() -> None:
    sgd = optimizers.get("sgd", lr=np.array([0.1, 0.2]), momentum=0.9)
    state = sgd.init(np.zeros((2, 2)))
    np.testing.assert_array_equal(np.broadcast_to(sgd.effective_lr(state), (2, 2)), [[0.1, 0.1], [0.2, 0.2]])
    assert sgd.effective_lr(state, 0.5) == 0.5
    # Adadelta's factor with the previous acc_delta is the one applied; effective_lr reports the updated one.
    optimizer = optimizers.get("adadelta", lr=0.5)
    params, grad, old, new_params, state = _run_steps(optimizer, 6)
    applied = optimizer.effective_lr(state._replace(acc_delta=old.acc_delta))
    np.testing.assert_allclose(params - new_params, applied * grad, rtol=1e-12)
    np.testing.assert_allclose(optimizer.effective_lr(state),
                               0.5 * np.sqrt(state.acc_delta + 1e-6) / np.sqrt(state.square_avg + 1e-6))


def test_effective_lr_accepts_a_per_run_lr() -> None:
    optimizer = optimizers.get("adam")
    _, _, _, _, state = _run_steps(optimizer, 3, x0=np.tile(ROSENBROCK_START, (2, 1)))
    both = optimizer.effective_lr(state, np.array([1.0, 2.0]))
    np.testing.assert_allclose(both[1], 2 * both[0], rtol=1e-15)


# ----------------------------------------------------------------------------------------------- LaTeX
def _katex_module() -> str | None:
    import streamlit

    bundle = os.path.join(os.path.dirname(streamlit.__file__), "static", "static", "js")
    found = glob.glob(os.path.join(bundle, "katex.*.js"))
    return found[0] if found else None


LATEX_CASES = [(n, {}) for n in CLASSIC] + [
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("sgd", {"momentum": 0.9}),
    ("adagrad", {"weight_decay": 0.1}),
    ("rmsprop", {"centered": True, "momentum": 0.9, "weight_decay": 0.1}),
    ("adam", {"amsgrad": True, "weight_decay": 0.1}),
    ("adam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("nadam", {"weight_decay": 0.1}),
    ("radam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("adam", {"clip_norm": 1.0}),
    ("sgd", {"clip_value": 1.0}),
]


def test_latex_renders_in_katex(tmp_path) -> None:
    """Parse every rule with the KaTeX that Streamlit ships, as st.latex will (display mode)."""
    node, katex = shutil.which("node"), _katex_module()
    if node is None or katex is None:
        pytest.skip("needs node and Streamlit's bundled KaTeX")
    module = tmp_path / "katex.mjs"
    shutil.copy(katex, module)
    script = tmp_path / "check.mjs"
    script.write_text(
        "import { readFileSync } from 'fs';\n"
        "const katex = (await import(process.argv[2])).default;\n"
        "const inputs = JSON.parse(readFileSync(0, 'utf8'));\n"
        "const errors = [];\n"
        "for (const s of inputs) {\n"
        "  try { katex.renderToString(s, {throwOnError: true, displayMode: true}); errors.push(''); }\n"
        "  catch (e) { errors.push(e.message); }\n"
        "}\n"
        "console.log(JSON.stringify(errors));\n"
    )
    latex = [optimizers.get(name, **kwargs).latex for name, kwargs in LATEX_CASES]
    # a broken formula goes along and must fail, or this test proves nothing
    done = subprocess.run([node, str(script), module.as_uri()], input=json.dumps([*latex, r"\frac{1}{"]),
                          capture_output=True, text=True, timeout=60, check=True)
    *errors, broken = json.loads(done.stdout)
    assert errors == [""] * len(latex), [(case, e) for case, e in zip(LATEX_CASES, errors) if e]
    assert broken.startswith("KaTeX parse error")


def test_latex_follows_the_settings() -> None:
    assert "b_t" not in optimizers.get("sgd").latex
    assert r"\mu\, b_t" in optimizers.get("sgd", momentum=0.9, nesterov=True).latex
    assert r"\lambda" not in optimizers.get("adam").latex
    assert r"\gamma \lambda" in optimizers.get("adamw").latex
    assert r"g_t + \lambda" in optimizers.get("adam", weight_decay=0.1).latex
    assert r"\max" in optimizers.get("adam", amsgrad=True).latex
    assert r"\bar g" in optimizers.get("rmsprop", centered=True).latex


# ------------------------------------------------------------------------------------------ validation
def test_unknown_optimizer_lists_the_valid_names() -> None:
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamm'; valid names: sgd, adagrad, .*adamax"):
        optimizers.get("adamm")


def test_unknown_hyperparameter_lists_the_valid_ones() -> None:
    valid = "lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay, clip_norm, clip_value"
    message = rf"unknown hyperparameter 'beta1' for optimizer 'adam'; valid names: {valid}$"
    with pytest.raises(ValueError, match=message):
        optimizers.get("adam", beta1=0.9)
    message = "unknown hyperparameter 'decoupled_weight_decay' for optimizer 'adamw'"
    with pytest.raises(ValueError, match=message):
        optimizers.get("adamw", decoupled_weight_decay=False)
    with pytest.raises(ValueError, match="unknown hyperparameter 'maximize'"):
        optimizers.get("sgd", maximize=True)


@pytest.mark.parametrize("name", CLASSIC)
def test_negative_lr_and_weight_decay_are_refused_everywhere(name: str) -> None:
    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\), got -0.1"):
        optimizers.get(name, lr=-0.1)
    with pytest.raises(ValueError, match=r"weight_decay must be in \[0, inf\), got -1"):
        optimizers.get(name, weight_decay=-1.0)
    with pytest.raises(ValueError, match=r"lr must be a finite number in \[0, inf\), got nan"):
        optimizers.get(name, lr=float("nan"))
    with pytest.raises(TypeError, match=r"lr must be a real number or an array of shape \(R,\), got 'fast'"):
        optimizers.get(name, lr="fast")
    with pytest.raises(TypeError, match="lr must be a real number, got True"):
        optimizers.get(name, lr=True)


@pytest.mark.parametrize(("name", "key", "value", "message"), [
    ("sgd", "momentum", -0.5, r"momentum must be in \[0, inf\), got -0.5"),
    ("sgd", "dampening", float("inf"), r"dampening must be a finite number in \(-inf, inf\), got inf"),
    ("adagrad", "lr_decay", -1e-3, r"lr_decay must be in \[0, inf\), got -0.001"),
    ("adagrad", "initial_accumulator_value", -1.0,
     r"initial_accumulator_value must be in \[0, inf\), got -1"),
    ("adagrad", "eps", -1e-10, r"eps must be in \[0, inf\), got -1e-10"),
    ("rmsprop", "alpha", -0.1, r"alpha must be in \[0, inf\), got -0.1"),
    ("rmsprop", "momentum", -0.1, r"momentum must be in \[0, inf\), got -0.1"),
    ("rmsprop", "eps", -1.0, r"eps must be in \[0, inf\), got -1"),
    ("adadelta", "rho", 1.5, r"rho must be in \[0, 1\], got 1.5"),
    ("adadelta", "rho", -0.5, r"rho must be in \[0, 1\], got -0.5"),
    ("adadelta", "eps", -1.0, r"eps must be in \[0, inf\), got -1"),
    ("adam", "eps", -1.0, r"eps must be in \[0, inf\), got -1"),
    ("adam", "betas", (1.0, 0.999), r"betas\[0\] must be in \[0, 1\), got 1"),
    ("adam", "betas", (0.9, -0.1), r"betas\[1\] must be in \[0, 1\), got -0.1"),
    ("adamw", "betas", (0.9, 1.0), r"betas\[1\] must be in \[0, 1\), got 1"),
    ("nadam", "betas", (-0.1, 0.9), r"betas\[0\] must be in \[0, 1\), got -0.1"),
    ("nadam", "momentum_decay", -1.0, r"momentum_decay must be in \[0, inf\), got -1"),
    ("radam", "betas", (0.9, 1.0), r"betas\[1\] must be in \[0, 1\), got 1"),
    ("radam", "eps", -1.0, r"eps must be in \[0, inf\), got -1"),
    ("adamax", "betas", (0.9, 1.5), r"betas\[1\] must be in \[0, 1\), got 1.5"),
    ("adamax", "eps", -1.0, r"eps must be in \[0, inf\), got -1"),
    ("adam", "betas", (0.9,), r"betas must be a pair \(beta1, beta2\), got \(0.9,\)"),
    ("adam", "betas", 0.9, r"betas must be a pair \(beta1, beta2\), got 0.9"),
])
def test_out_of_range_values_are_refused(name, key, value, message) -> None:
    with pytest.raises(ValueError, match=message):
        optimizers.get(name, **{key: value})


@pytest.mark.parametrize(("name", "flag"), [
    ("sgd", "nesterov"), ("rmsprop", "centered"), ("adam", "amsgrad"), ("adam", "decoupled_weight_decay"),
    ("adamw", "amsgrad"), ("nadam", "decoupled_weight_decay"), ("radam", "decoupled_weight_decay"),
])
def test_flags_must_be_booleans(name: str, flag: str) -> None:
    with pytest.raises(TypeError, match=f"{flag} must be True or False, got 1 of type int"):
        optimizers.get(name, **{flag: 1, **({"momentum": 0.9} if flag == "nesterov" else {})})


def test_nesterov_requires_momentum_and_no_dampening() -> None:
    message = (
        r"nesterov=True requires momentum in \(0, inf\) and dampening = 0 in "
        r"every run, got momentum=0.0, dampening=0.0"
    )
    with pytest.raises(ValueError, match=message):
        optimizers.get("sgd", nesterov=True)
    with pytest.raises(ValueError, match="nesterov=True requires .* got momentum=0.9, dampening=0.1"):
        optimizers.get("sgd", nesterov=True, momentum=0.9, dampening=0.1)
    with pytest.raises(ValueError, match="nesterov=True requires momentum in"):
        optimizers.get("sgd", nesterov=True, momentum=np.array([0.9, 0.0]))
    with pytest.raises(ValueError, match="nesterov=True requires momentum in"):
        optimizers.get("sgd", nesterov=True, momentum=0.9, dampening=np.array([0.0, 0.5]))


def test_per_run_arrays_are_checked_element_by_element() -> None:
    message = r"momentum must be in \[0, inf\) for every run, got -0.1 at index 2"
    with pytest.raises(ValueError, match=message):
        optimizers.get("sgd", momentum=np.array([0.0, 0.5, -0.1]))
    with pytest.raises(ValueError, match=r"betas\[1\] must be in \[0, 1\) for every run, got 1.0 at index 1"):
        optimizers.get("adam", betas=(0.9, [0.99, 1.0]))
    with pytest.raises(ValueError, match=r"rho must be in \[0, 1\] for every run, got 2.0 at index 0"):
        optimizers.get("adadelta", rho=[2.0, 0.5])
    with pytest.raises(ValueError, match=r"lr must contain only finite numbers"):
        optimizers.get("sgd", lr=[0.1, np.nan])
    message = (
        r"lr must be a scalar or a non-empty array of shape \(R,\) \(one value "
        r"per run\), got shape \(2, 2\)"
    )
    with pytest.raises(ValueError, match=message):
        optimizers.get("sgd", lr=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"lr must be a scalar or a non-empty array .* got shape \(0,\)"):
        optimizers.get("sgd", lr=[])
    with pytest.raises(TypeError, match="eps must be an array of numbers"):
        optimizers.get("adam", eps=[1e-8, "tiny"])


def test_per_run_arrays_must_agree_on_the_run_count() -> None:
    with pytest.raises(ValueError, match=r"per-run hyperparameters must all have the same length R, got "
                                         r"lr: 3, momentum: 2"):
        optimizers.get("sgd", lr=[0.1, 0.2, 0.3], momentum=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"same length R, got lr: 2, betas\[0\]: 3"):
        optimizers.get("adam", lr=[0.1, 0.2], betas=([0.9, 0.8, 0.7], 0.999))
    optimizer = optimizers.get("sgd", lr=[0.1, 0.2, 0.3])
    message = (
        r"params has 2 runs \(shape \(2, 2\)\) but the per-run hyperparameters "
        r"have R = 3"
    )
    with pytest.raises(ValueError, match=message):
        optimizer.init(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="clip_norm has 2 values but the optimizer's per-run hyperparameters "
                                         "have R = 3"):
        clip_by_norm(optimizer, [1.0, 2.0])


def test_params_must_have_a_run_axis() -> None:
    optimizer = optimizers.get("adam")
    with pytest.raises(ValueError, match=r"params must have 2 dimension\(s\), got shape \(2,\)"):
        optimizer.init(np.zeros(2))
    with pytest.raises(ValueError, match="params must contain only finite numbers"):
        optimizer.init(np.array([[np.inf, 0.0]]))


def test_lr_given_to_update_is_checked() -> None:
    optimizer = optimizers.get("sgd")
    params = np.zeros((2, 2))
    state = optimizer.init(params)
    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\), got -0.1"):
        optimizer.update(params, state, params, -0.1)
    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\), got nan"):
        optimizer.update(params, state, params, float("nan"))
    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\) for every run, got -1.0 at index 1"):
        optimizer.update(params, state, params, np.array([0.1, -1.0]))
    with pytest.raises(ValueError, match="lr must contain only finite numbers"):
        optimizer.update(params, state, params, np.array([0.1, np.inf]))
    with pytest.raises(ValueError, match=r"lr has 3 values \(shape \(R,\)\) but there are 2 runs"):
        optimizer.update(params, state, params, np.array([0.1, 0.2, 0.3]))


def test_clipping_is_checked() -> None:
    with pytest.raises(ValueError, match=r"max_norm must be in \(0, inf\), got 0"):
        clip_by_norm(optimizers.get("sgd"), 0.0)
    with pytest.raises(ValueError, match=r"clip_value must be in \(0, inf\), got -1"):
        clip_by_value(optimizers.get("sgd"), -1.0)
    with pytest.raises(ValueError, match=r"clip_norm must be in \(0, inf\), got -2"):
        optimizers.get("sgd", clip_norm=-2.0)
    message = r"clip_value must be in \(0, inf\) for every run, got 0.0 at index 0"
    with pytest.raises(ValueError, match=message):
        optimizers.get("sgd", clip_value=[0.0, 1.0])
    with pytest.raises(ValueError, match="give at most one of clip_norm and clip_value"):
        optimizers.get("sgd", clip_norm=1.0, clip_value=1.0)
    with pytest.raises(ValueError, match=r"the optimizer is already clipped \(clip_norm=1.0\)"):
        clip_by_norm(optimizers.get("sgd", clip_norm=1.0), 2.0)
