"""The equivalent PyTorch code for a lossviz run, as text the user can copy and run.

:func:`torch_code` writes a self-contained script: float64 parameters, the ``torch.optim`` optimizer and
``torch.optim.lr_scheduler`` scheduler with exactly the settings of the lossviz :class:`Optimizer` and
:class:`Schedule` (floats written with ``repr`` so torch receives the same numbers), gradient clipping
where the optimizer is clipped, and the usual loop (``optimizer.step()`` then ``scheduler.step()``). For
a 2-D surface (``objective_expr``, e.g. ``surface.torch_expr``) it prints the final parameters, which
equal ``lossviz.run.run``'s to float64 round-off. Without an objective it writes a placeholder loss and
says where the model and its loss go.

Optimizers whose reference is a package are written with it (``import lion_pytorch``,
``pytorch_optimizer``, ``schedulefree``); L-BFGS and SAM step with a closure, as their references need;
Newton's method, which torch has no class for, is written out with ``torch.autograd.functional.hessian``
and ``torch.linalg.eigh``. ``reduce_on_plateau`` is stepped with the step's loss.

Only numbers and validated names reach the script as code: ``objective_expr`` is checked against a
whitelist of its syntax (``x``, ``y``, numbers, arithmetic, ``torch.<function>(...)``), and any other text
goes in through :func:`literal` (a string literal) or :func:`comment`.

The code is only generated here, never run. This module imports neither torch nor anything outside the
core.

    >>> from lossviz import optimizers, schedules
    >>> from lossviz.torch_export import torch_code
    >>> code = torch_code(optimizers.get("sgd", lr=0.01, momentum=0.9),
    ...                   schedules.get("step", base_lr=0.01, step_size=50), steps=200, x0=[-1.5, 2.0],
    ...                   objective_expr="(1 - x)**2 + 100*(y - x**2)**2")
    >>> "torch.optim.lr_scheduler.StepLR(optimizer, step_size=50, gamma=0.1)" in code
    True
"""
from __future__ import annotations

import ast
import math
import numbers
import re
import unicodedata
from typing import Any

import numpy as np

from lossviz import _ast
from lossviz import schedules as _schedules
from lossviz._validation import check_array, check_int

__all__ = ["comment", "literal", "torch_code"]

# Keys of Optimizer.hyperparameters that are not torch.optim arguments but gradient clipping applied
# before the step (see lossviz.optimizers.clip_by_norm / clip_by_value).
_CLIP_CALLS = {
    "clip_norm": "torch.nn.utils.clip_grad_norm_([params], max_norm={})",
    "clip_value": "torch.nn.utils.clip_grad_value_([params], clip_value={})",
}

# Scheduler arguments in torch's order; values come from Schedule.params under the same names.
_SCHEDULER_ARGS = {
    "step": ["step_size", "gamma"],
    "multistep": ["milestones", "gamma"],
    "exponential": ["gamma"],
    "polynomial": ["total_iters", "power"],
    "cosine": ["T_max", "eta_min"],
    "cosine_warm_restarts": ["T_0", "T_mult", "eta_min"],
    "linear": ["start_factor", "end_factor", "total_iters"],
    "cyclic": ["base_lr", "max_lr", "step_size_up", "step_size_down", "mode", "gamma"],
    "onecycle": ["max_lr", "total_steps", "pct_start", "anneal_strategy", "div_factor", "final_div_factor",
                 "three_phase"],
    "constant_factor": ["factor", "total_iters"],
    "reduce_on_plateau": ["mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr",
                          "eps"],
}

# transformers' warmup-stable-decay multiplier, written into the script for torch's LambdaLR.
_WSD_SHAPES = {
    ("warmup", "linear"): "progress",
    ("warmup", "cosine"): "0.5 * (1.0 - math.cos(math.pi * progress))",
    ("warmup", "1-sqrt"): "1.0 - math.sqrt(1.0 - progress)",
    ("decay", "linear"): "1.0 - progress",
    ("decay", "cosine"): "0.5 * (1.0 + math.cos(math.pi * progress))",
    ("decay", "1-sqrt"): "1.0 - math.sqrt(progress)",
}

_LINE_LENGTH = 100

_PLACEHOLDER_LOSS = [
    "    # Put your model and loss here: compute `loss` from `params`, or build the optimizer on",
    "    # model.parameters() and use e.g. loss = loss_fn(model(inputs), targets) for a batch.",
    "    # The placeholder below is a quadratic bowl so the script runs as it is.",
    "    loss = (params ** 2).sum()",
]


# Characters that end a line for Python's tokenizer or for an editor (\n, \r, \x0b, \x0c, \x1c-\x1e, \x85,
# U+2028, U+2029), and every other control or format character: none may reach a comment.
_UNSAFE_IN_COMMENT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
COMMENT_LIMIT = 120


def comment(text: object, limit: int = COMMENT_LIMIT) -> str:
    """``# text`` on one line, safe to put in generated code whatever ``text`` holds.

    Every line break and control or format character becomes a space, so text from a user (a column
    name, a label) cannot end the comment and start a statement; long text is cut with an ellipsis.

    >>> comment("weight\\nimport os")
    '# weight import os'
    """
    cleaned = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in str(text))
    cleaned = _UNSAFE_IN_COMMENT.sub(" ", cleaned).strip()
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return f"# {cleaned}" if cleaned else "#"


def literal(value: object) -> str:
    """Python source for ``value``: user text only ever as a string literal (``repr``), numbers exactly.

    >>> print(literal("a'b"))
    "a'b"
    """
    return _literal(value)


def _literal(value: object) -> str:
    """Python source that evaluates to ``value`` exactly (floats through repr, so no digit is lost)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if value is None or isinstance(value, (bool, np.bool_, str)):
        return repr(value if not isinstance(value, np.bool_) else bool(value))
    if isinstance(value, numbers.Integral):
        return repr(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if not np.isfinite(number):
            raise ValueError(f"cannot export the non-finite value {number!r}")
        return repr(number)
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        if all(type(v) is float for v in value) and all(map(math.isfinite, value)):
            return "[" + ", ".join(map(repr, value)) + "]"  # a row of data: the same text, at once
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} of type {type(value).__name__} as a torch argument")


def _call(target: str, function: str, arguments: list[str]) -> list[str]:
    """``target = function(arguments)`` on one line, or one argument per line when that is too long."""
    line = f"{target} = {function}({', '.join(arguments)})"
    if len(line) <= _LINE_LENGTH:
        return [line]
    return [f"{target} = {function}(", *(f"    {argument}," for argument in arguments), ")"]


# What objective_expr may contain: x and y, numbers, arithmetic, and calls of these torch functions
# (with torch.as_tensor(..., dtype=torch.float64) as lossviz's formulas spell a constant tensor).
_EXPR_FUNCTIONS = frozenset({
    "abs", "acos", "acosh", "as_tensor", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "clamp", "cos",
    "cosh", "erf", "erfc", "exp", "expm1", "floor", "hypot", "log", "log10", "log1p", "log2", "maximum",
    "minimum", "pow", "relu", "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "square", "tan",
    "tanh",
})
_EXPR_CONSTANTS = frozenset({"pi", "e", "float64"})
_EXPR_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv, ast.Mod, ast.USub, ast.UAdd)


def _check_objective_expr(tree: ast.Expression, text: str) -> None:
    """Refuse any syntax outside the whitelist, naming what was found and where."""

    def refuse(node: ast.AST, what: str) -> ValueError:
        where = f" at column {node.col_offset + 1}" if hasattr(node, "col_offset") else ""
        return ValueError(
            f"objective_expr may only contain x, y, numbers, arithmetic (+ - * / ** // %) and calls of "
            f"torch functions; {what} is not allowed{where} in {text!r}"
        )

    def torch_attribute(node: ast.AST, allowed: frozenset) -> bool:
        return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id == "torch" and node.attr in allowed)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Expression):
            visit(node.body)
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, _EXPR_OPERATORS):
                raise refuse(node, f"the operator {type(node.op).__name__}")
            visit(node.left)
            visit(node.right)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, _EXPR_OPERATORS):
                raise refuse(node, f"the operator {type(node.op).__name__}")
            visit(node.operand)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise refuse(node, f"the constant {node.value!r}")
        elif isinstance(node, ast.Name):
            if node.id not in ("x", "y"):
                raise refuse(node, f"the name {node.id!r}")
        elif isinstance(node, ast.Attribute):
            if not torch_attribute(node, _EXPR_CONSTANTS):
                raise refuse(node, f"the attribute {ast.unparse(node)!r}")
        elif isinstance(node, ast.Call):
            if not torch_attribute(node.func, _EXPR_FUNCTIONS):
                raise refuse(node, f"calling {ast.unparse(node.func)!r}")
            for keyword in node.keywords:
                if keyword.arg != "dtype" or not torch_attribute(keyword.value, frozenset({"float64"})):
                    raise refuse(node, f"the keyword argument {ast.unparse(keyword)!r}")
            for argument in node.args:
                visit(argument)
        else:
            raise refuse(node, f"{type(node).__name__}")

    visit(tree)


# How each optimizer is written: the class to call (a package's when the reference is one) and the loop it
# needs. Keys of Optimizer.hyperparameters that are lossviz's own, not the class's arguments, are dropped.
_NOT_ARGUMENTS = {"muon": {"adamw_lr", "adamw_betas", "adamw_eps", "adamw_weight_decay"}}
_SAM_OWN = ("rho", "adaptive", "perturb_eps")


_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _reference(optimizer: Any) -> str:
    """The class the script calls, e.g. ``torch.optim.Adam``; refused unless it is a dotted name, since it
    is the one piece of an optimizer written into the code as code."""
    reference = getattr(optimizer, "reference", None)
    if not (isinstance(reference, str) and reference):
        reference = f"torch.optim.{optimizer.torch_name}"
    if not _DOTTED.fullmatch(reference):
        raise ValueError(f"the optimizer's class must be a dotted Python name, got {reference!r}")
    return reference


def _loop_kind(optimizer: Any) -> str:
    return {"lbfgs": "closure", "sam": "sam", "newton": "newton"}.get(getattr(optimizer, "name", ""), "step")


def _run_sizes(named: dict[str, Any]) -> dict[str, int]:
    sizes = {}
    for key, value in named.items():
        for part in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(part, np.ndarray) and part.ndim == 1 and part.size > 1:
                sizes[key] = part.shape[0]
    return sizes


def _pick_run(value: object, run: int) -> object:
    if isinstance(value, tuple):
        return tuple(_pick_run(v, run) for v in value)
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return float(value[run if value.size > 1 else 0])
    return value


def _single_run(named: dict[str, Any], run: int | None, what: str) -> dict[str, Any]:
    sizes = _run_sizes(named)
    if not sizes:
        return {key: _pick_run(value, 0) for key, value in named.items()}
    if run is None:
        listing = ", ".join(f"{key} ({n} values)" for key, n in sizes.items())
        raise ValueError(
            f"torch_code writes one run, but the {what} has per-run values: {listing}; pass run=<index>"
        )
    for key, n in sizes.items():
        if not 0 <= run < n:
            raise ValueError(
                f"run must be an integer in [0, {n - 1}] ({what} {key} has {n} values), got {run}"
            )
    return {key: _pick_run(value, run) for key, value in named.items()}


def _optimizer_lines(optimizer: Any, lr: float | None, run: int | None
                     ) -> tuple[list[str], list[str], set[str]]:
    """The ``optimizer = ...`` line(s), the clipping calls in the order the gradient meets them, and the
    packages the script must import."""
    torch_name = getattr(optimizer, "torch_name", None)
    hyperparameters = getattr(optimizer, "hyperparameters", None)
    if not isinstance(torch_name, str) or not isinstance(hyperparameters, dict):
        raise TypeError(
            "optimizer must have torch_name (str) and hyperparameters (dict), as lossviz.optimizers.get "
            f"returns; got {type(optimizer).__name__}"
        )
    settings = _single_run(hyperparameters, run, "optimizer")
    if lr is not None:
        settings["lr"] = lr
    # clip_by_* wraps the optimizer it gets, so the last clip added (last key) sees the gradient first.
    clip_keys = [key for key in settings if key in _CLIP_CALLS]
    clips = [_CLIP_CALLS[key].format(_literal(settings[key])) for key in reversed(clip_keys)]
    name = getattr(optimizer, "name", "")
    dropped = set(_CLIP_CALLS) | _NOT_ARGUMENTS.get(name, set())
    arguments = {key: value for key, value in settings.items() if key not in dropped}
    imports: set[str] = set()
    if name == "newton":
        # No torch class: the loop below does the step; an SGD only holds the lr for a scheduler.
        holder = _call("optimizer", "torch.optim.SGD", ["[params]", f"lr={_literal(arguments['lr'])}"])
        return holder, clips, imports
    reference = _reference(optimizer)
    leading = ["[params]"]
    if name == "sam":
        from lossviz import optimizers as _optimizers  # the base's class, from the registry

        base = _optimizers.get(str(arguments.pop("base_optimizer")))
        base_reference = _reference(base)
        imports.add(base_reference.split(".")[0])
        leading.append(base_reference)
        arguments = {key: value for key, value in arguments.items()
                     if key in _SAM_OWN or key not in _NOT_ARGUMENTS.get(base.name, set())}
    imports.add(reference.split(".")[0])
    written = [f"{key}={_literal(value)}" for key, value in arguments.items()]
    lines = _call("optimizer", reference, leading + written)
    if reference.startswith("schedulefree."):
        lines.append("optimizer.train()  # schedule-free optimizers step in train mode; params hold y")
    return lines, clips, imports


_SCHEDULERS = "torch.optim.lr_scheduler."


def _wsd_function(params: dict[str, Any]) -> list[str]:
    warm, stable, decay = (int(params[k]) for k in ("num_warmup_steps", "num_stable_steps",
                                                     "num_decay_steps"))
    ratio = _literal(float(params["min_lr_ratio"]))
    rising = _WSD_SHAPES["warmup", str(params["warmup_type"])]
    falling = _WSD_SHAPES["decay", str(params["decay_type"])]
    return [
        "def wsd_factor(step):",
        "    # Warmup-stable-decay, as transformers' get_wsd_schedule.",
        f"    if step < {warm}:",
        f"        progress = step / {max(1, warm)}",
        f"        return max(0.0, ({rising}) * (1.0 - {ratio}) + {ratio})",
        f"    if step < {warm + stable}:",
        "        return 1.0",
        f"    if step < {warm + stable + decay}:",
        f"        progress = (step - {warm + stable}) / {max(1, decay)}",
        f"        return max(0.0, ({falling}) * (1.0 - {ratio}) + {ratio})",
        f"    return {ratio}",
        "",
    ]


def _member_call(name: str, params: dict[str, Any]) -> str:
    arguments = ["optimizer"] + [
        f"{key}={_literal(list(params[key]) if key == 'milestones' else params[key])}"
        for key in _SCHEDULER_ARGS[name]
    ]
    return f"{_SCHEDULERS}{_schedules._SPECS[name].torch_name}({', '.join(arguments)})"


def _scheduler_call(schedule: _schedules.Schedule, params: dict[str, Any]
                    ) -> tuple[str, list[str], list[str]]:
    """The main scheduler's class, its arguments, and lines the script needs before it (a function)."""
    name = schedule.name
    if name == "inverse_time":
        decay = _literal(params["decay"])
        return _SCHEDULERS + "LambdaLR", ["optimizer", f"lr_lambda=lambda t: 1.0 / (1.0 + {decay} * t)"], []
    if name == "wsd":
        return _SCHEDULERS + "LambdaLR", ["optimizer", "lr_lambda=wsd_factor"], _wsd_function(params)
    if name == "chain":
        members = [_member_call(member, dict(member_params)) for member, member_params in params["schedules"]
                   if member != "constant"] or [f"{_SCHEDULERS}LambdaLR(optimizer, lambda t: 1.0)"]
        return _SCHEDULERS + "ChainedScheduler", ["[" + ", ".join(members) + "]", "optimizer=optimizer"], []
    arguments = ["optimizer"] + [
        f"{key}={_literal(list(params[key]) if key == 'milestones' else params[key])}"
        for key in _SCHEDULER_ARGS[name]
    ]
    if name in ("cyclic", "onecycle"):
        # lossviz schedules the learning rate only; torch would also cycle momentum / beta1.
        arguments.append("cycle_momentum=False")
    return _SCHEDULERS + str(schedule.torch_name), arguments, []


def _scheduler_lines(schedule: _schedules.Schedule, params: dict[str, Any]) -> list[str]:
    warmup = int(params.get("warmup_steps", 0))
    ramp = [
        "optimizer",
        f"start_factor={_literal(params.get('warmup_start_factor', 1 / 3))}",
        "end_factor=1.0",
        f"total_iters={warmup}",
    ]
    if schedule.name == "constant":
        return [] if warmup == 0 else _call("scheduler", _SCHEDULERS + "LinearLR", ramp)
    function, arguments, preamble = _scheduler_call(schedule, params)
    if warmup == 0:
        return [*preamble, *_call("scheduler", function, arguments)]
    # The ramp is built first: it records the optimizer's lr as initial_lr before CyclicLR / OneCycleLR
    # change the param group, which is the order lossviz's warm-up reproduces.
    return [
        *preamble,
        *_call("warmup_scheduler", _SCHEDULERS + "LinearLR", ramp),
        *_call("main_scheduler", function, arguments),
        *_call(
            "scheduler",
            _SCHEDULERS + "SequentialLR",
            ["optimizer", "schedulers=[warmup_scheduler, main_scheduler]", f"milestones=[{warmup}]"],
        ),
    ]


def torch_code(
    optimizer: Any,
    schedule: _schedules.Schedule | None = None,
    *,
    steps: int,
    x0: object,
    objective_expr: str | None = None,
    run: int | None = None,
    trusted_loss: str | None = None,
) -> str:
    """PyTorch source reproducing ``optimizer`` (and ``schedule``) for ``steps`` steps from ``x0``.

    Parameters
    ----------
    optimizer : Optimizer
        From :func:`lossviz.optimizers.get`, possibly clipped (``hyperparameters`` then holds
        ``clip_norm`` / ``clip_value``, written as ``torch.nn.utils.clip_grad_norm_`` /
        ``clip_grad_value_`` between ``loss.backward()`` and ``optimizer.step()``).
    schedule : Schedule, optional
        From :func:`lossviz.schedules.get`. The optimizer is then built with ``lr=schedule.base_lr``
        (torch's ``initial_lr``), since the schedule, not the optimizer's ``lr``, sets every step's rate.
    steps : int
        Number of optimizer steps, >= 0 (at most ``schedule.last_step`` for ``onecycle``: torch refuses
        to step ``OneCycleLR`` further).
    x0 : array_like, shape (d,) (or (R, d) with ``run``)
        Starting point; ``d == 2`` when ``objective_expr`` is given.
    objective_expr : str, optional
        A Python expression in ``x`` and ``y`` using torch functions (``surface.torch_expr``). Without
        it the loop has a placeholder loss and a comment saying where the model and loss go.
    run : int, optional
        Which run to write when hyperparameters, the schedule's rates or ``x0`` hold one value per run.
    trusted_loss : str, optional
        Instead of ``objective_expr``: one expression in ``x`` and ``y`` written by lossviz itself, never
        from user text, that may call what the caller adds to the script (a lesson's ``loss_fn`` over
        its data). It is only checked to be one expression.

    Returns
    -------
    str
        A runnable script that prints the final parameters as a list of floats.

    Raises
    ------
    ValueError
        Per-run values without ``run``, ``run`` out of range, ``steps`` past a bounded schedule, an
        ``objective_expr`` that is not a Python expression, or ``x0`` of the wrong shape.
    TypeError
        An object that is not a lossviz Optimizer / Schedule.
    """
    steps = check_int(steps, "steps", low=0)
    if run is not None:
        run = check_int(run, "run", low=0)
    start = check_array(x0, "x0")
    if start.ndim == 2:
        if run is None and start.shape[0] > 1:
            raise ValueError(f"torch_code writes one run, but x0 has shape {start.shape}; pass run=<index>")
        index = 0 if start.shape[0] == 1 else run
        if not 0 <= index < start.shape[0]:  # type: ignore[operator]
            raise ValueError(f"run must be an integer in [0, {start.shape[0] - 1}] (x0 rows), got {run}")
        start = start[index]
    if start.ndim != 1 or start.size == 0:
        raise ValueError(f"x0 must have shape (d,) or (R, d), got shape {np.shape(x0)}")
    if objective_expr is not None and trusted_loss is not None:
        raise ValueError("give objective_expr or trusted_loss, not both")
    trusted = trusted_loss is not None
    if trusted:
        objective_expr = trusted_loss
    if objective_expr is not None:
        what = "trusted_loss" if trusted else "objective_expr"
        if not isinstance(objective_expr, str):
            raise TypeError(f"{what} must be a string, got {type(objective_expr).__name__}")
        try:
            tree = _ast.parse(objective_expr.strip(), mode="eval")
        except SyntaxError as exc:
            raise ValueError(f"{what} must be one Python expression in x and y, got "
                             f"{objective_expr!r}: {exc.msg}") from None
        if not trusted:
            _check_objective_expr(tree, objective_expr)
        # A expression spread over lines would break the loop's indentation; unparse keeps it on one.
        expression = ast.unparse(tree) if "\n" in objective_expr.strip() else objective_expr.strip()
        if start.size != 2:
            raise ValueError(
                f"objective_expr is a function of x and y, so x0 must have 2 entries, got {start.size}"
            )

    lr = None
    scheduler_lines: list[str] = []
    if schedule is not None:
        if not isinstance(schedule, _schedules.Schedule):
            raise TypeError(f"schedule must be a lossviz.schedules.Schedule, got {type(schedule).__name__}")
        params = _single_run(schedule.params, run, "schedule")
        single = _schedules.get(schedule.name, **params)
        if single.last_step is not None and steps > single.last_step:
            raise ValueError(
                f"steps={steps} is past what torch's {schedule.torch_name} can step: at most "
                f"{single.last_step} (total_steps + warmup_steps); raise total_steps"
            )
        lr = float(single.base_lr)
        scheduler_lines = _scheduler_lines(single, params)
    optimizer_lines, clip_lines, imports = _optimizer_lines(optimizer, lr, run)
    name = getattr(optimizer, "name", "")
    kind = _loop_kind(optimizer)
    # torch's Muon takes matrices only: a point (or a placeholder vector) is written as one 1 x d row.
    row = name == "muon" or (name == "sam" and optimizer.hyperparameters.get("base_optimizer") == "muon")
    reads_loss = schedule is not None and schedule.reads_loss
    if schedule is not None and schedule.name == "wsd":
        imports.add("math")

    described = f"{getattr(optimizer, 'title', optimizer.torch_name)} ({_reference(optimizer)})"
    if schedule is not None:
        described += f", {schedule.title.lower()}"
        described += f" ({schedule.torch_name})" if schedule.torch_name else ""
    title = comment(f"{described}, {steps} steps.")
    values = _literal([[float(v) for v in start]] if row else [float(v) for v in start])
    if objective_expr is not None:
        loss_lines = ["x, y = params.reshape(-1)", f"loss = {expression}"]
    else:
        loss_lines = [line.strip() for line in _PLACEHOLDER_LOSS]
    evaluate = ["optimizer.zero_grad()", *loss_lines, "loss.backward()", *clip_lines]
    step_scheduler = []
    if scheduler_lines:
        step_scheduler = ["scheduler.step(loss.item())" if reads_loss else "scheduler.step()"]
    lines = [
        "# Generated by lossviz: the same run in PyTorch, in float64.",
        title,
        *(f"import {module}" for module in sorted(imports | {"torch"})),
        "",
        "torch.set_default_dtype(torch.float64)  # optimizer state too (ASGD keeps its step size in it)",
        f"params = torch.tensor({values}, dtype=torch.float64, requires_grad=True)",
        *optimizer_lines,
        *scheduler_lines,
        "",
    ]
    if kind in ("closure", "sam"):
        lines += ["def closure():", *(f"    {line}" for line in evaluate), "    return loss", "", ""]
        body = ["loss = optimizer.step(closure)"] if kind == "closure" else [
            "loss = closure()  # the gradient at the point, which sets the perturbation",
            "optimizer.step(closure)  # the gradient at the perturbed point, then the base step",
        ]
    elif kind == "newton":
        settings = _single_run(optimizer.hyperparameters, run, "optimizer")
        objective_body = ["    return (p ** 2).sum()"]
        if objective_expr is not None:
            objective_body = ["    x, y = p.reshape(-1)", f"    return {expression}"]
        curvature = "values.abs()" if settings.get("saddle_free") else "values"
        lines += ["def objective(p):", *objective_body, "", ""]
        body = [*evaluate,
                "hessian = torch.autograd.functional.hessian(objective, params.detach())",
                "values, vectors = torch.linalg.eigh(hessian)",
                f"curvature = {curvature} + {_literal(float(settings['damping']))}",
                "with torch.no_grad():",
                "    direction = vectors @ ((vectors.T @ params.grad) / curvature)",
                "    params -= optimizer.param_groups[0]['lr'] * direction"]
    else:
        body = [*evaluate, "optimizer.step()"]
    lines += [f"for step in range({steps}):", *(f"    {line}" for line in [*body, *step_scheduler])]
    lines += ["", "print(params.detach().reshape(-1).tolist())", ""]
    return "\n".join(lines)
