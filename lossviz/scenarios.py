"""Named classroom scenarios for the Surface Explorer: every setting at once, and the lesson.

A scenario is plain data (surface, start, steps, optimizers with torch-named hyperparameters), so the
page, the URL and the tests read the same thing; the tests run each one and check that what its text
claims really happens.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["OptimizerSetting", "Scenario", "SCENARIOS", "get", "names"]


@dataclass(frozen=True)
class OptimizerSetting:
    """One optimizer in a scenario: registry name, hyperparameters, optional schedule."""

    name: str
    hyperparameters: dict = field(default_factory=dict)
    schedule: str = "constant"
    schedule_params: dict = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class Scenario:
    title: str
    surface: str
    start: tuple[float, float]
    steps: int
    optimizers: tuple[OptimizerSetting, ...]
    explanation: str
    surface_params: dict = field(default_factory=dict)


SCENARIOS: dict[str, Scenario] = {
    "ravine": Scenario(
        title="Ravine: plain GD zig-zags, momentum glides",
        surface="quadratic",
        surface_params={"condition_number": 50.0, "rotation": 0.0},
        start=(-2.8, 2.0),
        steps=60,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 1.8}, label="GD"),
            OptimizerSetting("sgd", {"lr": 1.8, "momentum": 0.5}, label="GD + momentum 0.5"),
        ),
        explanation=(
            "The bowl is 50 times steeper across the ravine than along it. With a learning rate near "
            "the stability limit across (2/λ_max = 2), plain gradient descent bounces from wall to wall "
            "while it crawls along the floor. Momentum averages the bounces away and keeps the speed "
            "along the floor: after 60 steps its loss is hundreds of times lower."
        ),
    ),
    "too_large_lr": Scenario(
        title="Too large a learning rate diverges",
        surface="quadratic",
        surface_params={"condition_number": 10.0, "rotation": 30.0},
        start=(-2.5, 2.0),
        steps=40,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 1.9}, label="lr 1.9 (below 2/λ_max = 2)"),
            OptimizerSetting("sgd", {"lr": 2.1}, label="lr 2.1 (above 2/λ_max = 2)"),
        ),
        explanation=(
            "Gradient descent on a quadratic is stable only while lr × λ_max < 2; here λ_max = 1, so "
            "lr < 2. Just below, each step overshoots the valley less than the last; just above, each "
            "step overshoots more, and the path flies off."
        ),
    ),
    "adam_banana": Scenario(
        title="Adam in Rosenbrock's banana valley",
        surface="rosenbrock",
        start=(-1.5, 2.0),
        steps=1000,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 0.001}, label="GD"),
            OptimizerSetting("sgd", {"lr": 0.0005, "momentum": 0.9}, label="GD + momentum"),
            OptimizerSetting("adam", {"lr": 0.1}, label="Adam"),
        ),
        explanation=(
            "The valley floor is easy to find and hard to follow: its curvature across is hundreds of "
            "times its curvature along. Gradient descent must use a tiny step and creeps; Adam divides "
            "each coordinate by its own gradient scale and follows the curve to (1, 1)."
        ),
    ),
    "saddle": Scenario(
        title="Saddle point: GD stalls",
        surface="saddle",
        start=(-2.0, 1e-4),
        steps=60,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 0.05}, label="GD"),
            OptimizerSetting("sgd", {"lr": 0.05, "momentum": 0.9}, label="GD + momentum"),
            OptimizerSetting("adam", {"lr": 0.05}, label="Adam"),
        ),
        explanation=(
            "Started almost exactly on the ridge, gradient descent slides into the saddle at the origin "
            "where the gradient vanishes, and waits there for the tiny y component to grow. The surface "
            "has no minimum at all: every path eventually leaves down the y direction."
        ),
    ),
    "himmelblau_starts": Scenario(
        title="Many minima: the start decides (Himmelblau)",
        surface="himmelblau",
        start=(0.0, -3.0),
        steps=200,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 0.01}, label="GD"),
            OptimizerSetting("sgd", {"lr": 0.005, "momentum": 0.9}, label="GD + momentum"),
            OptimizerSetting("adam", {"lr": 0.1}, label="Adam"),
        ),
        explanation=(
            "Himmelblau's function has four equally deep minima. From this start, three optimizers "
            "settle in three different ones: momentum and Adam's step sizes carry them over ridges that "
            "plain GD follows. Click elsewhere on the contour to move the start and watch the basins change."
        ),
    ),
    "rastrigin_trap": Scenario(
        title="Rastrigin: local minima trap every optimizer",
        surface="rastrigin",
        start=(3.2, -2.3),
        steps=300,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 0.002}, label="GD"),
            OptimizerSetting("sgd", {"lr": 0.002, "momentum": 0.9}, label="GD + momentum"),
            OptimizerSetting("adam", {"lr": 0.05}, label="Adam"),
            OptimizerSetting("rmsprop", {"lr": 0.01}, label="RMSprop"),
        ),
        explanation=(
            "A bowl covered in ripples: a local minimum near every integer point. Local methods follow "
            "the nearest ripple down, and none of them reaches the global minimum at the origin."
        ),
    ),
}


def names() -> list[str]:
    return list(SCENARIOS)


def get(name: str) -> Scenario:
    from lossviz._validation import check_choice

    return SCENARIOS[check_choice(name, "scenario", SCENARIOS)]
