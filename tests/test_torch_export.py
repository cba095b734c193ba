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
    # Looser only where the reference is not float64 throughout (Muon's bfloat16, SAM's float32 norm).
    rtol: float = 1e-10


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
    # Issue 17: every new optimizer (with its reference package) and schedule.
    Case("rprop-constant-factor", optimizers.get("rprop", lr=1e-3, etas=(0.4, 1.3)),
         schedules.get("constant_factor", base_lr=1e-3, factor=0.5, total_iters=30), "rosenbrock",
         [-1.2, 1.0], 200),
    Case("asgd-averaging", optimizers.get("asgd", lr=1e-3, t0=20.0, lambd=1e-3), None, "rosenbrock",
         [-1.2, 1.0], 200),
    Case("adafactor-wsd-cosine", optimizers.get("adafactor", lr=0.05, weight_decay=0.01),
         schedules.get("wsd", base_lr=0.05, num_warmup_steps=20, num_stable_steps=80, num_decay_steps=100),
         "himmelblau", [0.5, -1.0], 200),
    # Fixed-step L-BFGS multiplies round-off over its 20 inner steps (see test_optimizers_parity).
    Case("lbfgs-fixed-clip-norm", optimizers.get("lbfgs", lr=0.5, clip_norm=20.0), None, "rosenbrock",
         [-1.2, 1.0], 40, rtol=1e-7),
    Case("lbfgs-strong-wolfe", optimizers.get("lbfgs", line_search_fn="strong_wolfe", history_size=5), None,
         "beale", [1.0, 1.0], 30),
    Case("muon-bfloat16", optimizers.get("muon", lr=3e-3, weight_decay=0.0), None, "quadratic", [2.0, -1.5],
         100, rtol=2e-2),
    Case("lion-decoupled-chain",
         optimizers.get("lion", lr=3e-3, weight_decay=0.1, decoupled_weight_decay=True),
         schedules.get("chain", base_lr=3e-3, schedules=[("linear", {"start_factor": 0.1, "total_iters": 20}),
                                                         ("exponential", {"gamma": 0.99})]),
         "rosenbrock", [-1.2, 1.0], 200),
    Case("signsgd-plateau", optimizers.get("signsgd", lr=1e-2, momentum=0.5),
         schedules.get("reduce_on_plateau", base_lr=1e-2, patience=3, factor=0.5), "booth", [-4.0, 3.0], 200),
    Case("sam-adam-adaptive", optimizers.get("sam", base_optimizer="adam", rho=0.1, adaptive=True, lr=0.01),
         None, "rosenbrock", [-1.2, 1.0], 200, rtol=1e-6),
    Case("sam-sgd-clip-value", optimizers.get("sam", rho=0.05, lr=1e-3, momentum=0.9, clip_value=5.0), None,
         "rosenbrock", [-1.2, 1.0], 100, rtol=1e-6),
    Case("schedule-free-sgd",
         optimizers.get("schedule_free_sgd", lr=1e-3, warmup_steps=10, weight_decay=0.01),
         None, "rosenbrock", [-1.2, 1.0], 200),
    Case("schedule-free-adamw-wsd-1-sqrt", optimizers.get("schedule_free_adamw", lr=0.02, r=0.5),
         schedules.get("wsd", base_lr=0.02, num_stable_steps=100, num_decay_steps=100, decay_type="1-sqrt",
                       warmup_type="cosine", num_warmup_steps=10, min_lr_ratio=0.1),
         "himmelblau", [0.5, -1.0], 210),
    Case("newton-saddle-free-damped", optimizers.get("newton", lr=0.5, damping=1.0, saddle_free=True), None,
         "rosenbrock", [-1.2, 1.0], 50),
    Case("newton-plateau", optimizers.get("newton", lr=0.5, damping=0.5),
         schedules.get("reduce_on_plateau", base_lr=0.5, patience=2), "beale", [1.0, 1.0], 40),
    Case("newton-generic", optimizers.get("newton", lr=0.5), None, None, [1.0, -2.0, 0.5], 10),
    Case("muon-generic", optimizers.get("muon", lr=0.05, weight_decay=0.0), None, None, [1.0, -2.0, 0.5], 20,
         rtol=2e-2),
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
    done = subprocess.run([sys.executable, "-c", RUNNER, *paths], capture_output=True, text=True, timeout=120,
                          check=False)
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
    np.testing.assert_allclose(torch_final, ours, rtol=case.rtol, atol=case.rtol)


def test_clip_order_matters():
    first, second = (next(c for c in CASES if c.id == name) for name in
                     ("sgd-value-clip-then-norm-clip", "sgd-norm-clip-then-value-clip"))
    assert np.linalg.norm(_lossviz_final(first) - _lossviz_final(second)) > 1e-3
    assert _code(first).index("clip_grad_value_") < _code(first).index("clip_grad_norm_")
    assert _code(second).index("clip_grad_norm_") < _code(second).index("clip_grad_value_")


def _required_schedule_args(name: str) -> dict:
    values = {"base_lr": 0.01, "step_size": 3, "milestones": [2, 4], "gamma": 0.9, "decay": 0.1, "T_max": 5,
              "T_0": 4, "max_lr": 0.1, "total_steps": 50, "num_stable_steps": 10, "num_decay_steps": 20,
              "schedules": [("exponential", {"gamma": 0.9}), ("step", {"step_size": 5})]}
    return {k: values[k] for k, v in schedules.parameters(name).items() if v is schedules.REQUIRED}


@pytest.mark.parametrize("optimizer_name", optimizers.names())
def test_every_optimizer_and_schedule_gives_valid_python(optimizer_name):
    for clip in ({}, {"clip_norm": 1.0}, {"clip_value": 0.5}):
        optimizer = optimizers.get(optimizer_name, **clip)
        for schedule_name in [None, *schedules.names()]:
            takes_warmup = schedule_name is None or "warmup_steps" in schedules.parameters(schedule_name)
            for warmup in (0, 3) if takes_warmup else (0,):
                schedule = None
                if schedule_name is not None:
                    schedule = schedules.get(schedule_name, **_required_schedule_args(schedule_name),
                                             **({"warmup_steps": warmup} if takes_warmup else {}))
                for expr, x0 in (("(1 - x)**2 + 100*(y - x**2)**2", [0.0, 1.0]), (None, [1.0, 2.0, 3.0])):
                    code = torch_code(optimizer, schedule, steps=40, x0=x0, objective_expr=expr)
                    tree = ast.parse(code)
                    calls = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
                    assert (optimizer.reference or "torch.optim.SGD") in calls
                    package = (optimizer.reference or "torch").split(".")[0]
                    assert f"import {package}" in code
                    if schedule is not None and schedule.torch_name is not None:
                        assert f"torch.optim.lr_scheduler.{schedule.torch_name}" in calls
                    if schedule is not None and warmup and schedule_name != "constant":
                        assert "torch.optim.lr_scheduler.SequentialLR" in calls
                    if schedule_name == "reduce_on_plateau":
                        assert "scheduler.step(loss.item())" in code


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
         (r"torch_code writes one run, but the optimizer has per-run values: lr \(2 values\); "
          "pass run=<index>")),
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


# ---------------------------------------------------------------------------------------------------------
# Hardening: only whitelisted syntax from objective_expr, only dotted names and literals from the rest


@pytest.mark.parametrize("expression", [
    "__import__('os').system('echo hacked')",
    "x.__class__",
    "open('secret').read()",
    "[x, y][0]",
    "(lambda: x)()",
    "x if y else 1",
    "'text' + x",
    "torch.nn.functional.relu(x)",
    "torch.load('model.pt')",
    "torch.exp(x, out=y)",
    "x @ y",
    "np.exp(x)",
    "z + x",
    "x < y",
    "True + x",
    "1j * x",
    "torch.exp(x).backward()",
    "(yield x)",
    "x.sum()",
    "torch.__dict__",
])
def test_objective_expr_outside_the_whitelist_is_refused(expression):
    refused = r"objective_expr may only contain x, y, numbers, arithmetic .* is not allowed"
    with pytest.raises(ValueError, match=refused):
        torch_code(optimizers.get("sgd"), None, steps=2, x0=[0.0, 1.0], objective_expr=expression)


def test_every_surface_and_typed_formula_passes_the_whitelist():
    from lossviz import expr

    for name in surfaces.names():
        torch_code(optimizers.get("sgd"), None, steps=1, x0=[0.0, 1.0],
                   objective_expr=surfaces.get(name).torch_expr)
    formulas = ("max(x, 0.5) + min(y, -1) * ln(2)", "sqrt(x**2 + 1) - arctan(y) / pi", "abs(x) + exp(-y)")
    for formula in formulas:
        typed = expr.parse(formula).torch_expr
        assert "torch." in typed
        torch_code(optimizers.get("sgd"), None, steps=1, x0=[0.0, 1.0], objective_expr=typed)
    torch_code(optimizers.get("sgd"), None, steps=1, x0=[0.0, 1.0],
               objective_expr="torch.maximum(x, torch.as_tensor(0.5, dtype=torch.float64)) + torch.pi * y")


def test_an_optimizer_class_that_is_not_a_dotted_name_is_refused():
    class Hostile:
        name, title, torch_name = "sgd", "SGD", "SGD"
        reference = "torch.optim.SGD([params]); import os; os.system('echo hacked')  #"

        def __init__(self) -> None:
            self.hyperparameters = {"lr": 0.1}

    with pytest.raises(ValueError, match="the optimizer's class must be a dotted Python name"):
        torch_code(Hostile(), None, steps=2, x0=[0.0, 1.0], objective_expr="x**2 + y**2")


def test_every_line_of_code_holds_only_known_names_numbers_and_literals():
    """The scripts' code (comments aside) parses, and every string in it is a repr'd literal that came from
    a validated setting (no user text is spliced in as code)."""
    optimizer = optimizers.get("muon", adjust_lr_fn="match_rms_adamw")
    code = torch_code(optimizer, schedules.get("reduce_on_plateau", base_lr=0.01, threshold_mode="abs"),
                      steps=5, x0=[0.0, 1.0], objective_expr="x**2 + y**2")
    tree = ast.parse(code)
    strings = {node.value for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert strings <= {"match_rms_adamw", "abs", "min", "lr", "rel"}
    starts = ("#", " ", "import", "torch", "params", "optimizer", "scheduler", "for", "print", "def",
              "warmup", "main", "")
    assert all(line.startswith(starts) for line in code.splitlines())


def test_trusted_loss_lets_lossviz_call_what_it_defined_and_is_never_checked_as_user_text():
    code = torch_code(optimizers.get("sgd", lr=0.1), None, steps=2, x0=[0.0, 1.0],
                      trusted_loss="loss_fn(x, y, batches[step])")
    assert "    loss = loss_fn(x, y, batches[step])" in code
    with pytest.raises(ValueError, match="give objective_expr or trusted_loss, not both"):
        torch_code(optimizers.get("sgd"), None, steps=2, x0=[0.0, 1.0], objective_expr="x", trusted_loss="x")
    with pytest.raises(ValueError, match="trusted_loss must be one Python expression"):
        torch_code(optimizers.get("sgd"), None, steps=2, x0=[0.0, 1.0], trusted_loss="a = 1")


def test_a_row_of_data_is_written_exactly_and_a_non_finite_value_refused():
    from lossviz.torch_export import literal

    rng = np.random.default_rng(7)
    rows = (rng.standard_normal((5, 40)) * 10.0 ** rng.integers(-300, 300, (5, 40))).tolist()
    rows[0][:4] = [-0.0, 0.0, 5e-324, 1.7976931348623157e308]
    text = literal(rows)
    assert ast.literal_eval(text) == rows
    assert [repr(v) for v in ast.literal_eval(text)[0][:2]] == ["-0.0", "0.0"]  # the sign of zero kept
    assert literal([1.5, 2, True]) == "[1.5, 2, True]"  # mixed rows keep each value's own type
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="non-finite"):
            literal([1.0, bad])
