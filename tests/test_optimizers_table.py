"""Properties every registered optimizer has, old and new: the test table on a parabola and on Rosenbrock,
the spec table against what the constructor accepts and refuses, defaults equal to the reference's,
validation messages, per-run arrays, purity, rebuilding, and KaTeX-renderable rules."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import lion_pytorch
import numpy as np
import pytest
import pytorch_optimizer
import schedulefree
import torch

from lossviz import models, optimizers, surfaces
from lossviz.run import StepObjective, run
from tests.test_optimizers import _katex_module

torch.set_num_threads(1)

PARABOLA = surfaces.get("quadratic", condition_number=10.0, rotation=30.0)
ROSENBROCK = surfaces.get("rosenbrock")
PARABOLA_START = np.array([1.5, -0.7])
ROSENBROCK_START = np.array([-1.2, 1.0])
NEW = [
    "rprop",
    "asgd",
    "adafactor",
    "lbfgs",
    "muon",
    "lion",
    "signsgd",
    "sam",
    "schedule_free_sgd",
    "schedule_free_adamw",
    "newton",
]


def test_the_registry_lists_the_nine_then_the_new_ones() -> None:
    assert optimizers.names() == [
        "sgd",
        "adagrad",
        "rmsprop",
        "adadelta",
        "adam",
        "adamw",
        "nadam",
        "radam",
        "adamax",
        *NEW,
    ]
    for name in optimizers.names():
        optimizer = optimizers.get(name)
        assert optimizer.name == name and optimizer.title
        assert optimizer.latex.startswith(r"\begin{aligned}")
        assert optimizer.needs <= {"objective", "layout"}


# ----------------------------------------------------------------------------------------- test table
# optimizer, surface, settings, steps, the largest allowed final / initial loss. Thresholds leave about
# a factor of ten to what the rules reach; the sign-based ones (Lion, sign descent, Rprop's first
# steps) and RMSprop / Adadelta settle into a cycle of size ~lr instead of converging exactly.
TABLE = [
    ("sgd", "parabola", {"lr": 0.1}, 300, 1e-3),
    ("sgd", "rosenbrock", {"lr": 1e-3, "momentum": 0.9}, 2000, 1e-6),
    ("adagrad", "parabola", {"lr": 0.5}, 300, 1e-6),
    ("adagrad", "rosenbrock", {"lr": 0.5}, 2000, 1e-2),
    ("rmsprop", "parabola", {"lr": 0.01}, 300, 1e-2),
    ("rmsprop", "rosenbrock", {"lr": 1e-3}, 2000, 0.1),
    ("adadelta", "parabola", {"lr": 1.0}, 300, 0.1),
    ("adadelta", "rosenbrock", {"lr": 1.0}, 2000, 0.1),
    ("adam", "parabola", {"lr": 0.05}, 300, 1e-6),
    ("adam", "rosenbrock", {"lr": 0.02}, 2000, 1e-3),
    ("adamw", "parabola", {"lr": 0.05, "weight_decay": 0.0}, 300, 1e-6),
    ("adamw", "rosenbrock", {"lr": 0.02, "weight_decay": 0.0}, 2000, 1e-3),
    ("nadam", "parabola", {"lr": 0.05}, 300, 1e-6),
    ("nadam", "rosenbrock", {"lr": 0.01}, 2000, 1e-2),
    ("radam", "parabola", {"lr": 0.05}, 300, 0.05),
    ("radam", "rosenbrock", {"lr": 3e-3}, 2000, 0.2),
    ("adamax", "parabola", {"lr": 0.05}, 300, 1e-2),
    ("adamax", "rosenbrock", {"lr": 0.02}, 2000, 0.1),
    ("rprop", "parabola", {"lr": 0.01}, 300, 1e-6),
    ("rprop", "rosenbrock", {"lr": 1e-3}, 2000, 1e-3),
    ("asgd", "parabola", {"lr": 0.1}, 300, 1e-3),
    ("asgd", "rosenbrock", {"lr": 1e-3}, 2000, 1e-2),
    ("adafactor", "parabola", {"lr": 0.1}, 300, 1e-3),
    ("adafactor", "rosenbrock", {"lr": 0.01}, 2000, 0.1),
    ("lbfgs", "parabola", {}, 10, 1e-6),
    ("lbfgs", "rosenbrock", {"line_search_fn": "strong_wolfe"}, 20, 1e-6),
    ("muon", "parabola", {"lr": 0.02, "weight_decay": 0.0}, 300, 1e-3),
    ("muon", "rosenbrock", {"lr": 3e-3, "weight_decay": 0.0}, 2000, 1e-3),
    ("lion", "parabola", {"lr": 0.01}, 300, 0.1),
    ("lion", "rosenbrock", {"lr": 1e-3}, 2000, 0.1),
    ("signsgd", "parabola", {"lr": 0.01}, 300, 1e-3),
    ("signsgd", "rosenbrock", {"lr": 1e-3}, 2000, 0.1),
    ("sam", "parabola", {"lr": 0.1, "rho": 0.05}, 300, 1e-3),
    ("sam", "rosenbrock", {"lr": 1e-3, "momentum": 0.9, "rho": 0.05}, 2000, 0.1),
    ("schedule_free_sgd", "parabola", {"lr": 0.1}, 300, 1e-2),
    ("schedule_free_sgd", "rosenbrock", {"lr": 1e-3}, 2000, 0.1),
    ("schedule_free_adamw", "parabola", {"lr": 0.05}, 300, 1e-2),
    ("schedule_free_adamw", "rosenbrock", {"lr": 0.02}, 2000, 1e-3),
    ("newton", "parabola", {}, 1, 1e-20),
    ("newton", "rosenbrock", {}, 10, 1e-20),
]


@pytest.mark.parametrize(
    ("name", "surface", "settings", "steps", "fraction"), TABLE, ids=[f"{t[0]}-{t[1]}" for t in TABLE]
)
def test_every_optimizer_descends_the_parabola_and_rosenbrock(
    name, surface, settings, steps, fraction
) -> None:
    objective, x0 = (PARABOLA, PARABOLA_START) if surface == "parabola" else (ROSENBROCK, ROSENBROCK_START)
    traj = run(objective, optimizers.get(name, **settings), x0, steps)
    assert traj.diverged_at == -1 and np.all(np.isfinite(traj.loss))
    assert traj.loss[-1] <= fraction * traj.loss[0]
    # a sane rate: it descends from the start, not only by the end (Newton may overshoot once first)
    assert traj.loss[1 : max(2, steps // 4) + 1].min() < traj.loss[0]


def test_the_table_covers_every_optimizer_on_both_surfaces() -> None:
    assert {(t[0], t[1]) for t in TABLE} == {
        (n, s) for n in optimizers.names() for s in ("parabola", "rosenbrock")
    }


# ------------------------------------------------------------------------------------------ spec table
def _all_specs() -> list[tuple[str, optimizers.HyperSpec]]:
    return [(name, row) for name in optimizers.names() for row in optimizers.spec(name).values()]


# Settings that keep every other argument valid while one is pushed to an edge.
CONTEXT = {"sgd": {"momentum": 0.5}, "sam": {"momentum": 0.5}}


# The other component of a pair while one is at an edge, where the default would break a cross-check.
PARTS = {("rprop", "step_sizes"): [0.0, 50.0]}


def _with(name: str, row: optimizers.HyperSpec, value) -> dict:
    """The keyword arguments that set ``row`` to ``value`` (a tuple argument keeps its other defaults)."""
    kwargs = dict(CONTEXT.get(name, {})) if row.name != "base_optimizer" else {}
    if row.index is None:
        kwargs[row.argument] = value
        return kwargs
    parts = list(
        PARTS.get(
            (name, row.argument),
            [r.default for r in optimizers.spec(name).values() if r.argument == row.argument],
        )
    )
    parts[row.index] = value
    kwargs[row.argument] = tuple(parts)
    return kwargs


def _outside(bound: float, direction: float) -> float:
    return float(np.nextafter(bound, direction * np.inf))


@pytest.mark.parametrize(("name", "row"), _all_specs(), ids=[f"{n}-{r.name}" for n, r in _all_specs()])
def test_every_spec_row_is_what_the_constructor_checks(name: str, row: optimizers.HyperSpec) -> None:
    def build(**kw):
        return optimizers.get(name, **kw)
    if row.kind in ("float", "fraction", "eps"):
        for bound, included, outward in ((row.low, row.include_low, -1), (row.high, row.include_high, 1)):
            if bound is None:  # unbounded: a far value (within what the other arguments allow)
                far = row.soft[1] if outward > 0 and row.soft else outward * 1e300
                build(**_with(name, row, far))
                continue
            if included:
                build(**_with(name, row, float(bound)))
            else:
                with pytest.raises(
                    ValueError, match=rf"^{re.escape(row.name)} must be in {re.escape(row.range)}"
                ):
                    build(**_with(name, row, float(bound)))
            bad = _outside(bound, outward)
            with pytest.raises(ValueError) as refused:
                build(**_with(name, row, bad))
            message = str(refused.value)
            assert message.startswith(f"{row.name} must be in {row.range}") and repr(bad) in message
        with pytest.raises(
            ValueError,
            match=rf"{re.escape(row.name)} must be a finite number in "
            rf"{re.escape(row.range)}, got nan",
        ):
            build(**_with(name, row, float("nan")))
        if row.per_run:
            inside = float(row.default) if row.default is not None else float(row.low or 0.0)
            bad = _outside(row.low, -1) if row.low is not None else None
            if bad is not None and row.include_low:
                with pytest.raises(
                    ValueError,
                    match=rf"{re.escape(row.name)} must be in {re.escape(row.range)} for "
                    r"every run, got .* at index 1",
                ):
                    build(**_with(name, row, np.array([inside, bad])))
        else:
            with pytest.raises(
                TypeError, match=f"{re.escape(row.name)} must be one number shared by all runs"
            ):
                build(**_with(name, row, np.array([row.default, row.default])))
    elif row.kind == "int":
        build(**_with(name, row, int(row.low)))
        with pytest.raises(
            ValueError,
            match=rf"{row.name} must be an integer in {re.escape(row.range)}, "
            rf"got {int(row.low) - 1}",
        ):
            build(**_with(name, row, int(row.low) - 1))
        if row.high is not None:
            build(**_with(name, row, int(row.high)))
            with pytest.raises(ValueError, match=f"{row.name} must be an integer in"):
                build(**_with(name, row, int(row.high) + 1))
        with pytest.raises(TypeError, match=f"{row.name} must be an integer, got 1.5"):
            build(**_with(name, row, 1.5))
    elif row.kind == "flag":
        for value in (True, False):
            build(**_with(name, row, value))
        with pytest.raises(TypeError, match=f"{row.name} must be True or False, got 1 of type int"):
            build(**_with(name, row, 1))
    else:
        for choice in row.choices:
            build(**_with(name, row, choice))
        with pytest.raises(ValueError) as refused:
            build(**_with(name, row, "nope"))
        assert f"unknown {row.name} 'nope'" in str(refused.value)
        assert all(str(choice) in str(refused.value) for choice in row.choices)
    if row.optional:
        build(**_with(name, row, None))


def test_every_argument_has_a_spec_row_except_the_hidden_ones() -> None:
    hidden = {("muon", "ns_coefficients")}
    for name in optimizers.names():
        arguments = {r.argument for r in optimizers.spec(name).values()}
        if name == "sam":
            arguments -= set(optimizers.hyperparameter_names("sgd"))
        own = set(optimizers.hyperparameter_names(name)) - (
            set(optimizers.hyperparameter_names("sgd")) if name == "sam" else set()
        )
        assert own - arguments == {a for n, a in hidden if n == name}, name


def test_spec_rows_carry_labels_kinds_and_sliders_inside_their_range() -> None:
    for name, row in _all_specs():
        assert row.label and row.kind in ("float", "fraction", "eps", "flag", "int", "choice")
        if row.kind == "fraction":
            assert row.low is not None and row.low >= 0 and row.high is not None and row.high <= 1, (
                name,
                row,
            )
        if row.soft is not None:
            low, high = row.soft
            assert low <= high
            for value in (low, high):
                if row.kind != "int" and not (row.low == value and not row.include_low):
                    row.check(float(value))


def test_spec_of_sam_adds_its_base_optimizers_rows() -> None:
    rows = optimizers.spec("sam", base_optimizer="adam")
    assert list(rows)[:4] == ["base_optimizer", "rho", "adaptive", "perturb_eps"]
    assert "betas[0]" in rows and "momentum" not in rows
    assert optimizers.hyperparameter_names("sam", "adam")[4:] == optimizers.hyperparameter_names("adam")


# ------------------------------------------------------------------------------- reference defaults
def _reference(name: str):
    point = torch.zeros(2, requires_grad=True)
    matrix = torch.zeros(2, 2, requires_grad=True)
    if name == "lion":
        return lion_pytorch.Lion([point])
    if name == "signsgd":
        return pytorch_optimizer.SignSGD([point])
    if name == "sam":
        return pytorch_optimizer.SAM([point], torch.optim.SGD)
    if name == "schedule_free_sgd":
        return schedulefree.SGDScheduleFree([point])
    if name == "schedule_free_adamw":
        return schedulefree.AdamWScheduleFree([point])
    if name == "muon":
        return torch.optim.Muon([matrix])
    return getattr(torch.optim, optimizers.get(name).torch_name)([point])


@pytest.mark.parametrize("name", [n for n in optimizers.names() if n != "newton"])
def test_spec_defaults_are_the_references(name: str) -> None:
    reference = _reference(name)
    defaults = dict(reference.defaults)
    defaults.setdefault("decoupled_weight_decay", getattr(reference, "decoupled_wd", None))
    defaults.setdefault("perturb_eps", getattr(reference, "perturb_eps", None))
    if name == "lbfgs":
        defaults["max_eval"] = None  # torch stores max_iter * 5 // 4; the signature says "derived"
    checked = 0
    for row in optimizers.spec(name).values():
        if row.argument in ("adamw_lr", "adamw_betas", "adamw_eps", "adamw_weight_decay", "base_optimizer"):
            continue  # Muon's AdamW for biases (torch.optim.AdamW's defaults) and SAM's own choice
        if name == "sam" and row.argument in optimizers.hyperparameter_names("sgd"):
            expected = torch.optim.SGD([torch.zeros(1, requires_grad=True)]).defaults[row.argument]
        else:
            expected = defaults[row.argument]
        if row.index is not None:
            expected = expected[row.index]
        assert row.default == expected, (name, row.name)
        checked += 1
    assert checked >= 2
    assert (
        optimizers.spec("muon")["adamw_weight_decay"].default
        == torch.optim.AdamW([torch.zeros(1)]).defaults["weight_decay"]
    )


# --------------------------------------------------------------------------------- generic properties
def _varied(name: str, n_runs: int = 3) -> dict:
    """Per-run arrays for every per-run spec row: the default and values nearby inside the range."""
    kwargs: dict = {}
    tuples: dict[str, list] = {}
    for row in optimizers.spec(name).values():
        if row.argument == "lr":
            value = np.array([1e-4, 3e-4, 1e-3][:n_runs])
        elif not row.per_run or row.default is None or row.argument.startswith("adamw"):
            value = row.default
        else:
            base = float(row.default)
            candidates = [base, base * 0.9 if base else 0.05, base * 0.8 if base else 0.01]
            value = np.array([v if _ok(row, v) else base for v in candidates[:n_runs]])
        if row.index is None:
            kwargs[row.argument] = value
        else:
            tuples.setdefault(row.argument, []).append(value)
    kwargs.update({k: tuple(v) for k, v in tuples.items()})
    return kwargs


def _ok(row: optimizers.HyperSpec, value: float) -> bool:
    try:
        row.check(float(value))
    except (ValueError, TypeError):
        return False
    return True


@pytest.mark.parametrize("name", NEW)
def test_per_run_arrays_equal_separate_runs(name: str) -> None:
    settings = _varied(name)
    if name == "sgd":
        settings["nesterov"] = False
    together = run(ROSENBROCK, optimizers.get(name, **settings), ROSENBROCK_START, 40)
    assert together.params.shape == (3, 41, 2)
    for r in range(3):
        single = {
            k: (
                tuple(c[r] if isinstance(c, np.ndarray) else c for c in v)
                if isinstance(v, tuple)
                else v[r]
                if isinstance(v, np.ndarray)
                else v
            )
            for k, v in settings.items()
        }
        alone = run(ROSENBROCK, optimizers.get(name, **single), ROSENBROCK_START, 40)
        np.testing.assert_allclose(together.params[r], alone.params, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", optimizers.names())
def test_update_is_pure(name: str) -> None:
    optimizer = optimizers.get(name, lr=1e-3)
    params = np.array([[0.3, -0.4], [1.0, 2.0]])
    state = optimizer.init(params)
    objective = StepObjective(ROSENBROCK)
    for _ in range(2):
        grad = ROSENBROCK.grad(params)
        before = (params.copy(), grad.copy(), _copies(state))
        new_params, new_state = optimizer.update(grad, state, params, objective=objective)
        np.testing.assert_array_equal(params, before[0])
        np.testing.assert_array_equal(grad, before[1])
        for old, kept in zip(_copies(state), before[2], strict=True):
            np.testing.assert_array_equal(old, kept)
        params, state = new_params, new_state


def _copies(state) -> list[np.ndarray]:
    return [np.array(v, dtype=float) for _, v in _leaves(state)]


def _leaves(state, prefix=""):
    fields = getattr(state, "_fields", None)
    if fields is not None:
        for f in fields:
            yield from _leaves(getattr(state, f), f"{prefix}.{f}")
    elif isinstance(state, tuple):
        for i, item in enumerate(state):
            yield from _leaves(item, f"{prefix}.{i}")
    elif state is not None:
        yield prefix, state


@pytest.mark.parametrize("name", NEW)
def test_hyperparameters_rebuild_the_same_optimizer(name: str) -> None:
    optimizer = optimizers.get(name, clip_norm=30.0, **({"lr": 1e-3} if name != "lbfgs" else {}))
    rebuilt = optimizers.get(optimizer.name, **optimizer.hyperparameters)
    assert rebuilt.latex == optimizer.latex and rebuilt.title == optimizer.title
    np.testing.assert_array_equal(
        run(ROSENBROCK, rebuilt, ROSENBROCK_START, 10).params,
        run(ROSENBROCK, optimizer, ROSENBROCK_START, 10).params,
    )


class ClippedRosenbrock:
    """Rosenbrock whose gradient oracle clips every coordinate to [-1, 1]."""

    dim = 2

    def f(self, p):
        return ROSENBROCK.f(p)

    def grad(self, p):
        return np.clip(ROSENBROCK.grad(p), -1.0, 1.0)

    def hessian(self, p):
        return ROSENBROCK.hessian(p)


@pytest.mark.parametrize("name", NEW)
def test_clipping_composes_with_every_new_optimizer(name: str) -> None:
    """clip_value around an optimizer equals the optimizer fed clipped gradients, including the gradients
    it evaluates itself (L-BFGS's closure, SAM's second gradient)."""
    settings = {"lr": 0.1} if name == "lbfgs" else {"lr": 1e-3}
    clipped = run(ROSENBROCK, optimizers.get(name, clip_value=1.0, **settings), ROSENBROCK_START, 20)
    fed = run(ClippedRosenbrock(), optimizers.get(name, **settings), ROSENBROCK_START, 20)
    np.testing.assert_allclose(clipped.params, fed.params, rtol=1e-13, atol=1e-15)
    assert r"\min(\max(g_t, -c), c)" in optimizers.get(name, clip_value=1.0).latex


def test_sign_methods_move_the_same_distance_every_step() -> None:
    """Lion and sign descent: every coordinate moves by exactly lr per step (without decay)."""
    for name in ("lion", "signsgd"):
        traj = run(ROSENBROCK, optimizers.get(name, lr=1e-2), ROSENBROCK_START, 50)
        moves = np.abs(np.diff(traj.params, axis=0))
        np.testing.assert_allclose(moves, 1e-2, rtol=1e-12)


def test_muon_on_a_surface_moves_along_the_momentum_by_a_fixed_length() -> None:
    """A 1 x 2 row has one singular value: Newton-Schulz keeps only the direction, so every step has the
    same length, lr times the quintic's value at 1 after five iterations."""
    optimizer = optimizers.get("muon", lr=1e-2, weight_decay=0.0, nesterov=False, momentum=0.5)
    traj = run(ROSENBROCK, optimizer, ROSENBROCK_START, 30, record_state=True)
    lengths = np.linalg.norm(np.diff(traj.params, axis=0), axis=1)
    s = 1.0
    for _ in range(5):  # the scalar quintic a s + b s^3 + c s^5 on the normalized singular value
        s = 3.4445 * s - 4.7750 * s**3 + 2.0315 * s**5
    np.testing.assert_allclose(lengths, 1e-2 * s, rtol=1e-12)
    buffers = traj.states["momentum_buffer"][1:]
    directions = np.diff(traj.params, axis=0) / lengths[:, None]
    np.testing.assert_allclose(directions, -buffers / np.linalg.norm(buffers, axis=1)[:, None], rtol=1e-10)


def test_newton_solves_a_bowl_in_one_step_and_plain_newton_walks_into_the_saddle() -> None:
    bowl = surfaces.get("quadratic", condition_number=100.0, rotation=20.0)
    one = run(bowl, optimizers.get("newton"), np.array([2.0, -1.5]), 1)
    np.testing.assert_allclose(one.params[1], [0.0, 0.0], atol=1e-12)
    saddle = surfaces.get("saddle") if "saddle" in surfaces.names() else None
    if saddle is None:
        pytest.fail("the saddle scenario needs the saddle surface")
    start = np.array([0.5, 0.3])
    plain = run(saddle, optimizers.get("newton"), start, 5)
    free = run(saddle, optimizers.get("newton", saddle_free=True, lr=0.5), start, 5)
    assert np.linalg.norm(plain.params[-1]) < 1e-6  # attracted to the saddle at the origin
    assert free.loss[-1] < free.loss[0] - 0.1 and np.linalg.norm(free.params[-1]) > 1.0  # escapes downhill


def test_newton_refuses_more_than_fifty_parameters() -> None:
    rng = np.random.default_rng(0)
    wide = models.logistic_regression(rng.normal(size=(20, 60)), rng.integers(0, 2, 20))
    with pytest.raises(ValueError, match="d must be at most 50, got d=61"):
        run(wide, optimizers.get("newton"), np.zeros(61), 2)


def test_optimizers_that_evaluate_the_objective_say_so_when_it_is_missing() -> None:
    for name in ("lbfgs", "sam", "newton"):
        optimizer = optimizers.get(name)
        params = ROSENBROCK_START[None].copy()
        with pytest.raises(ValueError, match="evaluates the objective during its step; pass objective="):
            optimizer.update(ROSENBROCK.grad(params), optimizer.init(params), params)


def test_sam_refuses_bases_it_cannot_wrap() -> None:
    for base in ("sam", "lbfgs", "newton"):
        with pytest.raises(ValueError, match=f"unknown base_optimizer '{base}'; valid names: sgd, "):
            optimizers.get("sam", base_optimizer=base)
    from lossviz.optimizers.sam import build_sam

    with pytest.raises(ValueError, match="SAM cannot wrap L-BFGS"):
        build_sam(optimizers.get("lbfgs"), 0.05, False, 1e-12, {})
    with pytest.raises(ValueError, match="unknown hyperparameter 'betas' for optimizer 'sam'"):
        optimizers.get("sam", betas=(0.9, 0.99))
    assert optimizers.get("sam", base_optimizer="adam", betas=(0.8, 0.9)).hyperparameters["betas"] == (
        0.8,
        0.9,
    )


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "message"),
    [
        ("rprop", {"etas": (1.2, 0.5)}, ValueError, r"etas\[0\] must be in \(0, 1\), got 1.2"),
        ("rprop", {"etas": 0.5}, ValueError, r"etas must be a pair \(etaminus, etaplus\), got 0.5"),
        ("rprop", {"step_sizes": (1.0, 0.1)}, ValueError, r"step_sizes must be \(min, max\) with min <= max"),
        ("asgd", {"t0": -1.0}, ValueError, r"t0 must be in \[0, inf\), got -1"),
        ("adafactor", {"beta2_decay": 0.5}, ValueError, r"beta2_decay must be in \(-inf, 0\], got 0.5"),
        ("adafactor", {"d": 0.5}, ValueError, r"d must be in \[1, inf\), got 0.5"),
        ("adafactor", {"eps": (None, -1.0)}, ValueError, r"eps\[1\] must be in \[0, inf\), got -1"),
        (
            "lbfgs",
            {"line_search_fn": "armijo"},
            ValueError,
            r"unknown line_search_fn 'armijo'; valid names: None, strong",
        ),
        ("lbfgs", {"history_size": 0}, ValueError, r"history_size must be an integer in \[1, inf\), got 0"),
        ("muon", {"adjust_lr_fn": "rms"}, ValueError, r"unknown adjust_lr_fn 'rms'"),
        ("muon", {"ns_steps": 100}, ValueError, r"ns_steps must be an integer in \[0, 99\], got 100"),
        ("muon", {"ns_coefficients": (1.0, 2.0)}, ValueError, r"ns_coefficients must be three numbers"),
        ("lion", {"lr": 0.0}, ValueError, r"lr must be in \(0, inf\), got 0"),
        ("lion", {"betas": (0.9, 1.5)}, ValueError, r"betas\[1\] must be in \[0, 1\], got 1.5"),
        ("signsgd", {"momentum": 1.0}, ValueError, r"momentum must be in \[0, 1\), got 1"),
        ("sam", {"rho": -0.1}, ValueError, r"rho must be in \[0, inf\), got -0.1"),
        ("sam", {"base_optimizer": "adamm"}, ValueError, r"unknown base_optimizer 'adamm'"),
        ("schedule_free_sgd", {"momentum": 0.0}, ValueError, r"momentum must be in \(0, 1\), got 0"),
        (
            "schedule_free_adamw",
            {"betas": (0.0, 0.999)},
            ValueError,
            r"betas\[0\] must be in \(0, 1\), got 0",
        ),
        (
            "schedule_free_adamw",
            {"warmup_steps": -1},
            ValueError,
            r"warmup_steps must be an integer in \[0, inf\)",
        ),
        ("newton", {"damping": -1.0}, ValueError, r"damping must be in \[0, inf\), got -1"),
        ("newton", {"saddle_free": "yes"}, TypeError, r"saddle_free must be True or False, got 'yes'"),
    ],
)
def test_validation_messages_name_the_parameter_the_value_and_the_range(name, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        optimizers.get(name, **kwargs)


# ----------------------------------------------------------------------------------------------- LaTeX
LATEX_CASES = [(n, {}) for n in NEW] + [
    ("lion", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("signsgd", {"momentum": 0.0, "weight_decay": 0.1, "weight_decouple": False}),
    ("lbfgs", {"line_search_fn": "strong_wolfe"}),
    ("muon", {"nesterov": False, "weight_decay": 0.0}),
    ("sam", {"base_optimizer": "adam", "adaptive": True}),
    ("asgd", {"weight_decay": 0.1}),
    ("adafactor", {"weight_decay": 0.1}),
    ("newton", {"saddle_free": True}),
    ("schedule_free_adamw", {"weight_decay": 0.1}),
    ("lbfgs", {"clip_norm": 1.0}),
]


def test_latex_renders_in_katex(tmp_path) -> None:
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
    done = subprocess.run(
        [node, str(script), module.as_uri()],
        input=json.dumps([*latex, r"\frac{1}{"]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    *errors, broken = json.loads(done.stdout)
    assert errors == [""] * len(latex), [(case, e) for case, e in zip(LATEX_CASES, errors, strict=True) if e]
    assert broken.startswith("KaTeX parse error")


def test_latex_follows_the_settings() -> None:
    assert r"\operatorname{sign}(g_t)" in optimizers.get("signsgd", momentum=0.0).latex
    assert "b_t" in optimizers.get("signsgd").latex
    assert r"\lvert\Lambda\rvert" in optimizers.get("newton", saddle_free=True).latex
    assert "Wolfe" in optimizers.get("lbfgs", line_search_fn="strong_wolfe").latex
    assert r"\tilde B_t &\leftarrow B_t" in optimizers.get("muon", nesterov=False).latex
