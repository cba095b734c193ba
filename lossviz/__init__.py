"""lossviz: loss landscapes and the optimizers that descend them, in NumPy.

``import lossviz as lv`` gives the library in a few names: constructors by registry name
(:func:`surface`, :func:`optimizer`, :func:`schedule`, :func:`dataset`, :func:`model`, :func:`loss`,
:func:`regularizer`, with :func:`names` listing each registry), ``lv.run(...)`` (the step loop),
:func:`race` and :func:`model_landscape`, and ``lv.plot`` (Plotly figures, loaded on first use). The core
imports only NumPy and pandas (scikit-learn and SymPy where a dataset or a formula needs them), so it runs
in a notebook, a script or a test with nothing else; plotly is imported by ``lv.plot`` alone.

    >>> import lossviz as lv
    >>> traj = lv.run(lv.surface("rosenbrock"), lv.optimizer("adam", lr=0.1), [-1.5, 2.0], 500)
    >>> traj.params.shape, bool(traj.loss[-1] < 1e-3 * traj.loss[0])
    ((501, 2), True)

``lossviz.run`` is both things a user may mean by it: the module (``from lossviz.run import run,
Trajectory`` and ``import lossviz.run`` work as they always did) and, since that module is callable, the
function: ``lv.run(objective, optimizer, x0, steps)`` is ``lossviz.run.run(...)``.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import types
from typing import Any

from lossviz import run as _run_module
from lossviz.api import (
    MODELS, ModelLandscape, Race, dataset, loss, model, model_landscape, names, optimizer, race, regularizer,
    schedule, surface,
)
from lossviz.run import Trajectory

__version__ = "0.1.0"

__all__ = [
    "surface", "optimizer", "schedule", "dataset", "model", "loss", "regularizer", "names", "MODELS",
    "run", "Trajectory", "race", "Race", "model_landscape", "ModelLandscape", "plot", "__version__",
]


class _CallableModule(types.ModuleType):
    """The module ``lossviz.run``, callable as its function :func:`lossviz.run.run`.

    The module stays the module (its attributes, ``import lossviz.run as m``, pickling of a Trajectory,
    patching ``lossviz.run.X`` in a test), so nothing that imports it changes.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Trajectory:
        """``lossviz.run.run(objective, optimizer, x0, steps, schedule=None, ...)``: see that function.

        >>> import lossviz as lv
        >>> lv.run(lv.surface("quadratic"), lv.optimizer("sgd", lr=0.1), [1.0, 1.0], 20).loss.shape
        (21,)
        """
        return self.run(*args, **kwargs)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self.run)

    def __repr__(self) -> str:
        return f"<module 'lossviz.run', callable as lossviz.run.run{inspect.signature(self.run)}>"


_run_module.__class__ = _CallableModule
# The package attribute stays the module, as `import lossviz.run` expects; calling it runs the function.
run = _run_module


def __getattr__(name: str) -> Any:
    # lv.plot (lossviz.viz.plot, a figure builder of the viz layer) imports plotly: load it the first time
    # it is asked for, never with the core.
    if name == "plot":
        return importlib.import_module("lossviz.viz.plot")
    raise AttributeError(f"module 'lossviz' has no attribute {name!r}")


def __dir__() -> list[str]:
    # Listed only where it can load, so tab completion and inspect.getmembers never trip on it.
    return sorted({*globals(), *(["plot"] if importlib.util.find_spec("plotly") else [])})
