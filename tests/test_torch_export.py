"""lossviz.torch_export: the generated scripts run in torch and land where lossviz's run does.

Every script is executed in ONE subprocess (importing torch costs seconds), each file through
``runpy.run_path(path, run_name="__main__")``, which gives it a fresh namespace, so each script must
stand alone (import torch itself) just as with ``python file.py``. The code run is only what torch_code
generated from our own settings.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import numpy as np
import pytest

from lossviz import optimizers, schedules, surfaces
from lossviz.run import run
from lossviz.torch_export import torch_code

pytest.importorskip("torch")


class SumOfSquares:
    """f(p) = sum(p**2) in any dimension: what the generic script's placeholder loss computes."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def f(self, params: np.ndarray) -> np.ndarray:
        return np.sum(np.asarray(params) ** 2, axis=-1)

    def grad(self, params: np.ndarray) -> np.ndarray:
        return 2 * np.asarray(params)


@dataclass
class Case:
    id: str
    optimizer: optimizers.Optimizer
    schedule: schedules.Schedule | None
    surface: str | None  # None: generic script with the placeholder loss
    x0: list
    steps: int
    run: int | None = None


CASES = [
    Case("sgd-nesterov-step", optimizers.get("sgd", lr=1e-3, momentum=0.9, nesterov=True),
         schedules.get("step", base_lr=3e-4, step_size=30, gamma=0.5), "rosenbrock", [-1.5, 2.0], 200),
    Case("adam-amsgrad-clipnorm-cosine-warmup", optimizers.get("adam", lr=0.05, amsgrad=True, clip_norm=1.0),
         schedules.get("cosine", base_lr=0.05, T_max=150, eta_min=1e-3, warmup_steps=10), "rosenbrock",
         [-1.5, 2.0], 200),
    Case("rmsprop-centered-exponential", optimizers.get("rmsprop", lr=0.01, centered=True, momentum=0.5),
         schedules.get("exponential", base_lr=0.01, gamma=0.99), "himmelblau", [0.5, -1.0], 150),
    Case("adagrad-polynomial",
         optimizers.get("adagrad", lr=0.5, lr_decay=0.01, initial_accumulator_value=0.1),
         schedules.get("polynomial", base_lr=0.5, total_iters=150, power=2.0), "booth", [-4.0, 3.0], 160),
    Case("adadelta-constant-warmup", optimizers.get("adadelta", weight_decay=0.01),
         schedules.get("constant", base_lr=1.0, warmup_steps=20, warmup_start_factor=0.1), "beale",
         [1.0, 1.0], 150),
    Case("adamw-multistep", optimizers.get("adamw", lr=0.02, weight_decay=0.1),
         schedules.get("multistep", base_lr=0.02, milestones=[50, 120], gamma=0.3), "himmelblau", [0.0, 0.0],
         200),
    Case("nadam-decoupled-cyclic-warmup",
         optimizers.get("nadam", weight_decay=0.01, decoupled_weight_decay=True),
         schedules.get("cyclic", base_lr=0.01, max_lr=0.1, step_size_up=20, step_size_down=30,
                       mode="triangular2", warmup_steps=5, warmup_start_factor=0.5),
         "rosenbrock", [-1.0, 1.5], 200),
    Case("radam-onecycle-three-phase-warmup", optimizers.get("radam"),
         schedules.get("onecycle", max_lr=0.1, total_steps=200, three_phase=True, warmup_steps=10),
         "six_hump_camel", [1.5, 0.8], 210),
    Case("adamax-warm-restarts", optimizers.get("adamax", lr=0.01),
         schedules.get("cosine_warm_restarts", base_lr=0.05, T_0=20, T_mult=2, eta_min=1e-3),
         "six_hump_camel", [-1.0, -0.5], 200),
    Case("sgd-clipvalue-inverse-time", optimizers.get("sgd", lr=1e-3, momentum=0.5, clip_value=0.5),
         schedules.get("inverse_time", base_lr=5e-3, decay=0.05), "rastrigin", [0.3, -0.2], 150),
    Case("sgd-dampening-linear",
         optimizers.get("sgd", lr=0.01, momentum=0.9, dampening=0.1, weight_decay=0.01),
         schedules.get("linear", base_lr=0.01, start_factor=0.1, total_iters=50), "ackley", [0.7, -0.4], 150),
    # Both clips active (the value clip changes the direction, the norm clip the length), so the order
    # the gradient meets them matters; test_clip_order_matters checks the two runs differ.
    Case("sgd-value-clip-then-norm-clip", optimizers.clip_by_value(optimizers.clip_by_norm(
        optimizers.get("sgd", lr=0.05, momentum=0.5), 0.2), 0.15), None, "booth", [-4.0, 3.0], 100),
    Case("sgd-norm-clip-then-value-clip", optimizers.clip_by_norm(optimizers.clip_by_value(
        optimizers.get("sgd", lr=0.05, momentum=0.5), 0.15), 0.2), None, "booth", [-4.0, 3.0], 100),
    Case("rmsprop-no-schedule", optimizers.get("rmsprop", lr=0.005), None, "goldstein_price", [0.5, -0.5],
         100),
    Case("sgd-onecycle-linear", optimizers.get("sgd", lr=0.01, momentum=0.8),
         schedules.get("onecycle", max_lr=0.01, total_steps=120, anneal_strategy="linear", pct_start=0.25),
         "quadratic", [2.0, -1.5], 120),
    Case("adam-cyclic-exp-range-per-run", optimizers.get("adam", lr=np.array([0.01, 0.03])),
         schedules.get("cyclic", base_lr=np.array([0.005, 0.01]), max_lr=np.array([0.05, 0.08]),
                       step_size_up=15, mode="exp_range", gamma=0.995),
         "himmelblau", [[0.0, 0.0], [1.0, -2.0]], 150, run=1),
    Case("sgd-generic-placeholder", optimizers.get("sgd", lr=0.05, momentum=0.9),
         schedules.get("step", base_lr=0.05, step_size=20), None, [1.0, -2.0, 0.5], 80),
]


def _objective(case: Case):
    return SumOfSquares(len(case.x0)) if case.surface is None else surfaces.get(case.surface)


def _code(case: Case) -> str:
    expr = None if case.surface is None else surfaces.get(case.surface).torch_expr
    return torch_code(case.optimizer, case.schedule, steps=case.steps, x0=case.x0, objective_expr=expr,
                      run=case.run)


def _lossviz_final(case: Case) -> np.ndarray:
    x0 = np.asarray(case.x0, dtype=float)
    trajectory = run(_objective(case), case.optimizer, x0, case.steps, case.schedule)
    final = trajectory.params[..., -1, :]
    return final[case.run] if case.run is not None else final


RUNNER = textwrap.dedent(
    """
    import contextlib, io, json, runpy, sys, warnings
    warnings.simplefilter("ignore")
    outputs = []
    for path in sys.argv[1:]:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            runpy.run_path(path, run_name="__main__")
        outputs.append(buffer.getvalue())
    print(json.dumps(outputs))
    """
)


@pytest.fixture(scope="module")
def torch_outputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("torch_scripts")
    paths = []
    for case in CASES:
        path = folder / f"{case.id}.py"
        path.write_text(_code(case))
        paths.append(str(path))
    done = subprocess.run([sys.executable, "-c", RUNNER, *paths], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return dict(zip([case.id for case in CASES], json.loads(done.stdout.strip().splitlines()[-1])))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_torch_script_ends_where_lossviz_run_ends(case, torch_outputs):
    torch_final = np.array(json.loads(torch_outputs[case.id].strip()))
    ours = _lossviz_final(case)
    assert np.all(np.isfinite(ours))
    # A run that barely moves would make the comparison vacuous.
    start = np.asarray(case.x0, dtype=float)
    assert np.linalg.norm(ours - (start[case.run] if case.run is not None else start)) > 1e-3
    np.testing.assert_allclose(torch_final, ours, rtol=1e-10, atol=1e-10)


def test_clip_order_matters():
    first, second = (next(c for c in CASES if c.id == name) for name in
                     ("sgd-value-clip-then-norm-clip", "sgd-norm-clip-then-value-clip"))
    assert np.linalg.norm(_lossviz_final(first) - _lossviz_final(second)) > 1e-3
    assert _code(first).index("clip_grad_value_") < _code(first).index("clip_grad_norm_")
    assert _code(second).index("clip_grad_norm_") < _code(second).index("clip_grad_value_")


def _required_schedule_args(name: str) -> dict:
    values = {"base_lr": 0.01, "step_size": 3, "milestones": [2, 4], "gamma": 0.9, "decay": 0.1, "T_max": 5,
              "T_0": 4, "max_lr": 0.1, "total_steps": 50}
    return {k: values[k] for k, v in schedules.parameters(name).items() if v is schedules.REQUIRED}


@pytest.mark.parametrize("optimizer_name", optimizers.names())
def test_every_optimizer_and_schedule_gives_valid_python(optimizer_name):
    for clip in ({}, {"clip_norm": 1.0}, {"clip_value": 0.5}):
        optimizer = optimizers.get(optimizer_name, **clip)
        for schedule_name in [None, *schedules.names()]:
            for warmup in (0, 3):
                schedule = None
                if schedule_name is not None:
                    schedule = schedules.get(schedule_name, **_required_schedule_args(schedule_name),
                                             warmup_steps=warmup)
                for expr, x0 in (("(1 - x)**2 + 100*(y - x**2)**2", [0.0, 1.0]), (None, [1.0, 2.0, 3.0])):
                    code = torch_code(optimizer, schedule, steps=40, x0=x0, objective_expr=expr)
                    tree = ast.parse(code)
                    calls = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
                    assert f"torch.optim.{optimizer.torch_name}" in calls
                    if schedule is not None and schedule.torch_name is not None:
                        assert f"torch.optim.lr_scheduler.{schedule.torch_name}" in calls
                    if schedule is not None and warmup and schedule_name != "constant":
                        assert "torch.optim.lr_scheduler.SequentialLR" in calls


def test_values_are_written_so_torch_receives_the_same_numbers():
    lr = 0.1 + 0.2  # 0.30000000000000004: a short format would round it
    code = torch_code(optimizers.get("adam", lr=lr, betas=(0.8, 0.9 + 1e-12), eps=1e-12),
                      schedules.get("onecycle", max_lr=1 / 3, total_steps=100, pct_start=0.3),
                      steps=100, x0=[1 / 3, -2.0], objective_expr="x**2 + y**2")
    assert "betas=(0.8, 0.900000000001)" in code
    assert "eps=1e-12" in code
    assert "max_lr=0.3333333333333333" in code
    assert "pct_start=0.3," in code
    assert "cycle_momentum=False" in code
    assert "lr=0.013333333333333332," in code  # max_lr / div_factor, as OneCycleLR computes initial_lr
    assert "torch.tensor([0.3333333333333333, -2.0]" in code
    plain = torch_code(optimizers.get("sgd", lr=lr), None, steps=5, x0=[0.0, 0.0], objective_expr="x + y")
    assert "lr=0.30000000000000004" in plain
    assert "scheduler" not in plain


def test_schedule_base_lr_replaces_the_optimizer_lr():
    code = torch_code(optimizers.get("sgd", lr=0.5), schedules.get("step", base_lr=0.02, step_size=5),
                      steps=10, x0=[0.0, 0.0], objective_expr="x**2 + y**2")
    assert "lr=0.02" in code and "lr=0.5" not in code


def test_generic_script_says_where_the_model_goes():
    code = torch_code(optimizers.get("sgd"), None, steps=3, x0=[1.0, 2.0, 3.0, 4.0])
    assert "Put your model and loss here" in code
    assert "loss = (params ** 2).sum()" in code


def test_multiline_expression_is_written_on_one_line():
    code = torch_code(optimizers.get("sgd"), None, steps=3, x0=[1.0, 2.0], objective_expr="(x**2\n + y**2)")
    ast.parse(code)
    assert "    loss = x ** 2 + y ** 2" in code


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"optimizer": optimizers.get("sgd", lr=np.array([0.1, 0.2]))}, ValueError,
         r"torch_code writes one run, but the optimizer has per-run values: lr \(2 values\); "
         "pass run=<index>"),
        ({"optimizer": optimizers.get("sgd", lr=np.array([0.1, 0.2])), "run": 2}, ValueError,
         r"run must be an integer in \[0, 1\] \(optimizer lr has 2 values\), got 2"),
        ({"schedule": schedules.get("step", base_lr=np.array([0.1, 0.2]), step_size=3)}, ValueError,
         "the schedule has per-run values: base_lr"),
        ({"x0": [[0.0, 1.0], [1.0, 2.0]]}, ValueError, r"x0 has shape \(2, 2\); pass run=<index>"),
        ({"x0": [0.0, 1.0, 2.0]}, ValueError, "x0 must have 2 entries, got 3"),
        ({"x0": [[[0.0, 1.0]]]}, ValueError, r"x0 must have shape \(d,\) or \(R, d\)"),
        ({"objective_expr": "x +* y"}, ValueError, "objective_expr must be one Python expression in x and y"),
        ({"objective_expr": "loss = x"}, ValueError, "objective_expr must be one Python expression"),
        ({"objective_expr": 3}, TypeError, "objective_expr must be a string"),
        ({"steps": -1}, ValueError, r"steps must be an integer in \[0, inf\), got -1"),
        ({"schedule": schedules.get("onecycle", max_lr=0.1, total_steps=20, warmup_steps=5), "steps": 26},
         ValueError, r"steps=26 is past what torch's OneCycleLR can step: at most 25"),
        ({"schedule": lambda t: 0.1}, TypeError, "schedule must be a lossviz.schedules.Schedule"),
        ({"optimizer": object()}, TypeError, "optimizer must have torch_name"),
    ],
)
def test_validation_messages(kwargs, exc, match):
    arguments = {"optimizer": optimizers.get("sgd"), "schedule": None, "steps": 10, "x0": [0.0, 1.0],
                 "objective_expr": "x**2 + y**2", **kwargs}
    optimizer, schedule = arguments.pop("optimizer"), arguments.pop("schedule")
    with pytest.raises(exc, match=match):
        torch_code(optimizer, schedule, **arguments)
