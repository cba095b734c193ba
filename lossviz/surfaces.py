"""Two-dimensional test functions ("surfaces") with analytic gradients and Hessians.

A :class:`Surface` is an *objective*: ``f(p)`` maps points of shape ``(..., 2)`` to values of shape
``(...)``, ``grad(p)`` to ``(..., 2)`` and ``hessian(p)`` to ``(..., 2, 2)``; all broadcast over the
leading axes, so a whole grid or a batch of runs is one call. The point is ``p = (x, y)``.

Use :func:`names` to list the registered surfaces and :func:`get` to build one::

    >>> from lossviz import surfaces
    >>> s = surfaces.get("rosenbrock")
    >>> float(s.f([1.0, 1.0]))
    0.0
    >>> surfaces.get("quadratic", condition_number=100.0).constants["eigenvalues"]
    (0.01, 1.0)

Every registered surface states its global minimizers (to float64 precision) and minimum value, a
default view, a one-sentence lesson, its formula in LaTeX and the same formula as a PyTorch expression
in ``x`` and ``y`` (``torch_expr``), which the code export pastes into a runnable script.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lossviz._validation import check_array, check_choice, check_scalar

__all__ = ["Surface", "names", "get", "register"]

ArrayFn = Callable[[np.ndarray], np.ndarray]
Domain = tuple[tuple[float, float], tuple[float, float]]

_PI = math.pi
_TWO_PI = 2.0 * math.pi


@dataclass(frozen=True, eq=False)
class Surface:
    """A 2-D objective with value, gradient and Hessian.

    Attributes
    ----------
    name : str
        Registry name (or ``"custom"`` for a typed formula).
    title : str
        Human-readable name, e.g. ``"Rosenbrock"``.
    domain : ((xmin, xmax), (ymin, ymax))
        Default view.
    minima : ndarray, shape (m, 2)
        Known global minimizers (read-only); shape ``(0, 2)`` when there is none (a saddle).
    min_value : float or None
        Global minimum value, ``None`` when the function is unbounded below.
    lesson : str
        One sentence on what the surface teaches.
    latex : str
        The formula in LaTeX.
    params : dict
        The parameters it was built with, so ``get(s.name, **s.params)`` rebuilds it (URLs,
        reproducibility).
    log_scale : bool
        True when values span decades, so figures should use log-scaled colors.
    torch_expr : str
        The value as a Python expression in float64 torch tensors ``x`` and ``y`` using only operators
        and ``torch.`` functions, e.g. ``"(1.0 - x)**2 + 100.0*(y - x**2)**2"``; ``""`` when unknown.
    constants : dict
        Derived numbers a lesson quotes, e.g. the quadratic's Hessian ``eigenvalues`` (ascending) and
        ``max_stable_lr`` (``2 / lambda_max``). Not parameters: ``get`` does not take them.
    start : (x, y) or None
        The registered default start (see :attr:`default_start`).

    Notes
    -----
    ``f``, ``grad`` and ``hessian`` never raise or warn on non-finite points: a point at infinity may
    give ``inf`` or ``nan``.
    """

    name: str
    title: str
    _f: ArrayFn = field(repr=False)
    _grad: ArrayFn = field(repr=False)
    _hessian: ArrayFn = field(repr=False)
    domain: Domain
    minima: np.ndarray = field(repr=False)
    min_value: float | None
    lesson: str = field(repr=False)
    latex: str = field(default="", repr=False)
    params: dict = field(default_factory=dict)
    log_scale: bool = False
    torch_expr: str = field(default="", repr=False)
    constants: dict = field(default_factory=dict, repr=False)
    start: tuple[float, float] | None = None

    dim = 2

    @property
    def default_start(self) -> tuple[float, float]:
        """Where a race starts unless told otherwise: the registered start, else a point a fifth of the
        view in from its top-left corner."""
        if self.start is not None:
            return self.start
        (x_lo, x_hi), (y_lo, y_hi) = self.domain
        return (x_lo + 0.2 * (x_hi - x_lo), y_hi - 0.2 * (y_hi - y_lo))

    def __post_init__(self) -> None:
        minima = np.array(check_array(self.minima, "minima", ndim=2, last_dim=2), dtype=np.float64)
        minima.flags.writeable = False
        object.__setattr__(self, "minima", minima)
        (x_lo, x_hi), (y_lo, y_hi) = self.domain
        if not (x_lo < x_hi and y_lo < y_hi):
            raise ValueError(f"domain must be ((xmin, xmax), (ymin, ymax)) with min < max, got {self.domain}")

    def _points(self, p: object) -> np.ndarray:
        return check_array(p, "params", last_dim=2, finite=False)

    # Overflow at huge points and inf - inf at infinite ones are expected and give inf/nan, which is
    # the honest answer; the warnings would only turn into errors in callers' tests.
    def f(self, params: object) -> np.ndarray:
        """Value, shape ``(...)`` for ``params`` of shape ``(..., 2)``."""
        p = self._points(params)
        with np.errstate(all="ignore"):
            return self._f(p)

    def grad(self, params: object) -> np.ndarray:
        """Gradient, shape ``(..., 2)``."""
        p = self._points(params)
        with np.errstate(all="ignore"):
            return self._grad(p)

    def hessian(self, params: object) -> np.ndarray:
        """Hessian, shape ``(..., 2, 2)``."""
        p = self._points(params)
        with np.errstate(all="ignore"):
            return self._hessian(p)


_REGISTRY: dict[str, Callable[..., Surface]] = {}
_STARTS: dict[str, tuple[float, float]] = {}


def register(
    name: str, start: tuple[float, float] | None = None
) -> Callable[[Callable[..., Surface]], Callable[..., Surface]]:
    """Decorator adding a surface factory to the registry under ``name``, with its default ``start``
    (a point from which every optimizer at its default rate has somewhere to go)."""

    def deco(factory: Callable[..., Surface]) -> Callable[..., Surface]:
        _REGISTRY[name] = factory
        if start is not None:
            _STARTS[name] = (float(start[0]), float(start[1]))
        return factory

    return deco


def names() -> list[str]:
    """Registered surface names, in registry order."""
    return list(_REGISTRY)


def get(name: str, **params: object) -> Surface:
    """Build the surface ``name`` with its parameters (see each factory's docstring).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or an out-of-range parameter.
    TypeError
        For a parameter the surface does not take.
    """
    check_choice(name, "surface", _REGISTRY)
    factory = _REGISTRY[name]
    try:
        surface = factory(**params)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise TypeError(f"surface {name!r} got an unknown parameter: {exc}") from None
        raise
    if name in _STARTS and surface.start is None:
        object.__setattr__(surface, "start", _STARTS[name])
    return surface


# ----------------------------------------------------------------------------------------------------
# Helpers: every surface is written in terms of x = p[..., 0], y = p[..., 1].
#
# Powers other than squares are written as products (x * x * x, not x**3): NumPy's float power calls
# pow(), about 100x slower than a multiply for negative bases, which made x**3 alone 15 ms on a 500x500
# grid. x**2 is fine (NumPy turns it into a square).


def _xy(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return p[..., 0], p[..., 1]


# Filling an empty array costs one assignment per entry; np.stack of broadcast views plus astype cost about
# 10 us even for a single point, which made _vector most of a run step's time on a surface.
def _vector(p: np.ndarray, gx: object, gy: object) -> np.ndarray:
    """Two components as one array of shape ``p.shape`` (constants broadcast to the leading axes)."""
    out = np.empty(p.shape)
    out[..., 0] = gx
    out[..., 1] = gy
    return out


def _matrix(p: np.ndarray, hxx: object, hxy: object, hyy: object) -> np.ndarray:
    """Symmetric 2x2 matrices of shape ``p.shape[:-1] + (2, 2)`` from their three entries."""
    out = np.empty(p.shape[:-1] + (2, 2))
    out[..., 0, 0] = hxx
    out[..., 0, 1] = hxy
    out[..., 1, 0] = hxy
    out[..., 1, 1] = hyy
    return out


def _constant(p: np.ndarray, value: float) -> np.ndarray:
    return np.full(p.shape[:-1], value, dtype=np.float64)


def _no_minimum() -> np.ndarray:
    return np.empty((0, 2))


def _quadratic_form_expr(cxx: float, cxy: float, cyy: float) -> str:
    """``cxx*x**2 + cxy*x*y + cyy*y**2`` as Python source, leaving out zero terms."""
    terms = [(cxx, "x**2"), (cxy, "x*y"), (cyy, "y**2")]
    source = ""
    for coefficient, monomial in terms:
        if coefficient == 0:
            continue
        sign = "-" if coefficient < 0 else "+"
        source += f" {sign} {abs(coefficient)!r}*{monomial}"
    source = source.removeprefix(" + ").strip()
    return source or "0*x"


# ----------------------------------------------------------------------------------------------------
# Convex bowls


@register("quadratic", start=(-2.8, 2.0))
def quadratic(*, condition_number: float = 10.0, rotation: float = 30.0) -> Surface:
    r"""Ill-conditioned quadratic bowl :math:`f(p) = \tfrac12 p^\top A p`.

    :math:`A = R(\theta)\,\mathrm{diag}(1/\kappa, 1)\,R(\theta)^\top`, so the Hessian eigenvalues are
    :math:`\lambda_{\min} = 1/\kappa` (along :math:`(\cos\theta, \sin\theta)`, the valley floor) and
    :math:`\lambda_{\max} = 1` (across it). The sharp direction is fixed, so gradient descent is stable
    for ``lr < 2 / lambda_max = 2`` whatever the condition number, while progress along the floor
    shrinks like ``1 - lr / kappa`` per step.

    Parameters
    ----------
    condition_number : float in [1, 1e6]
        :math:`\kappa = \lambda_{\max} / \lambda_{\min}`.
    rotation : float in [-180, 180]
        :math:`\theta` in degrees: angle of the valley floor from the x axis.

    ``constants`` holds ``eigenvalues`` ``(1/kappa, 1.0)``, ``eigenvectors`` (columns, as ``A``'s
    ``R(theta)``) and ``max_stable_lr`` ``2.0``.
    """
    kappa = check_scalar(condition_number, "condition_number", low=1.0, high=1e6)
    degrees = check_scalar(rotation, "rotation", low=-180.0, high=180.0)
    theta = math.radians(degrees)
    c, s = math.cos(theta), math.sin(theta)
    if degrees % 90 == 0:
        # cos(pi/2) is 6e-17 in floating point; snap so axis-aligned bowls have an exactly diagonal A.
        c, s = float(round(c)), float(round(s))
    lam_min, lam_max = 1.0 / kappa, 1.0
    axx = lam_min * c * c + lam_max * s * s
    axy = (lam_min - lam_max) * c * s
    ayy = lam_min * s * s + lam_max * c * c

    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return 0.5 * (axx * x * x + 2.0 * axy * x * y + ayy * y * y)

    def grad(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return _vector(p, axx * x + axy * y, axy * x + ayy * y)

    def hessian(p: np.ndarray) -> np.ndarray:
        return _matrix(p, axx, axy, ayy)

    return Surface(
        name="quadratic",
        title="Ill-conditioned quadratic",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-3.0, 3.0), (-3.0, 3.0)),
        minima=np.zeros((1, 2)),
        min_value=0.0,
        lesson=(
            f"With Hessian eigenvalues 1/κ = {lam_min:.3g} and 1, gradient descent is stable only for "
            "lr < 2/λ_max = 2 and then crawls along the flat valley floor at a rate of about 1 - lr/κ "
            "per step, so the condition number κ, not the size of the bowl, sets the speed."
        ),
        latex=(
            r"f(p) = \tfrac12\, p^\top R(\theta)\begin{pmatrix}1/\kappa & 0\\ 0 & 1\end{pmatrix}"
            r"R(\theta)^\top p"
        ),
        params={"condition_number": kappa, "rotation": degrees},
        torch_expr=_quadratic_form_expr(0.5 * axx, axy, 0.5 * ayy),
        constants={
            "eigenvalues": (lam_min, lam_max),
            "eigenvectors": ((c, -s), (s, c)),
            "max_stable_lr": 2.0 / lam_max,
        },
    )


@register("booth", start=(-7.0, -7.0))
def booth() -> Surface:
    r"""Booth function :math:`(x + 2y - 7)^2 + (2x + y - 5)^2`; minimum 0 at (1, 3)."""

    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2

    def grad(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        u, v = x + 2 * y - 7, 2 * x + y - 5
        return _vector(p, 2 * u + 4 * v, 4 * u + 2 * v)

    def hessian(p: np.ndarray) -> np.ndarray:
        return _matrix(p, 10.0, 8.0, 10.0)

    return Surface(
        name="booth",
        title="Booth",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-10.0, 10.0), (-10.0, 10.0)),
        minima=np.array([[1.0, 3.0]]),
        min_value=0.0,
        lesson=(
            "A tilted convex quadratic (Hessian eigenvalues 2 and 18): every method converges, and the "
            "condition number 9 alone decides how fast plain gradient descent gets there."
        ),
        latex=r"f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2",
        torch_expr="(x + 2*y - 7)**2 + (2*x + y - 5)**2",
    )


@register("matyas", start=(-8.0, 6.0))
def matyas() -> Surface:
    r"""Matyas function :math:`0.26(x^2 + y^2) - 0.48xy`; minimum 0 at the origin."""

    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return 0.26 * (x * x + y * y) - 0.48 * x * y

    def grad(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return _vector(p, 0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x)

    def hessian(p: np.ndarray) -> np.ndarray:
        return _matrix(p, 0.52, -0.48, 0.52)

    return Surface(
        name="matyas",
        title="Matyas",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-10.0, 10.0), (-10.0, 10.0)),
        minima=np.zeros((1, 2)),
        min_value=0.0,
        lesson=(
            "A bowl whose long axis runs diagonally (eigenvalues 0.04 and 1, condition number 25): the "
            "valley is not aligned with the coordinates, so per-coordinate step sizes such as Adam's "
            "cannot straighten it."
        ),
        latex=r"f(x, y) = 0.26\,(x^2 + y^2) - 0.48\,xy",
        torch_expr="0.26*(x**2 + y**2) - 0.48*x*y",
    )


# ----------------------------------------------------------------------------------------------------
# Valleys and polynomial landscapes


@register("rosenbrock", start=(-1.5, 2.0))
def rosenbrock(*, a: float = 1.0, b: float = 100.0) -> Surface:
    r"""Rosenbrock's banana :math:`(a - x)^2 + b\,(y - x^2)^2`; minimum 0 at :math:`(a, a^2)`.

    Parameters
    ----------
    a : float in [-2, 2]
        Position of the minimum along x.
    b : float in (0, 1e4]
        Steepness of the valley walls.
    """
    a = check_scalar(a, "a", low=-2.0, high=2.0)
    b = check_scalar(b, "b", low=0.0, high=1e4, include_low=False)

    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return (a - x) ** 2 + b * (y - x * x) ** 2

    def grad(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        valley = y - x * x
        return _vector(p, -2 * (a - x) - 4 * b * x * valley, 2 * b * valley)

    def hessian(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return _matrix(p, 2 - 4 * b * y + 12 * b * x * x, -4 * b * x, 2 * b)

    return Surface(
        name="rosenbrock",
        title="Rosenbrock",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((min(-2.0, a - 1.0), max(2.0, a + 1.0)), (-1.0, max(3.0, a * a + 1.0))),
        minima=np.array([[a, a * a]]),
        min_value=0.0,
        lesson=(
            "Finding the curved valley is easy, following it is hard: the gradient points across the "
            "narrow banana-shaped floor, so plain gradient descent zig-zags while momentum and adaptive "
            "methods make progress along it."
        ),
        latex=rf"f(x, y) = ({a:g} - x)^2 + {b:g}\,(y - x^2)^2",
        params={"a": a, "b": b},
        log_scale=True,
        torch_expr=f"({a!r} - x)**2 + {b!r}*(y - x**2)**2",
    )


@register("himmelblau", start=(-0.5, 0.5))
def himmelblau() -> Surface:
    r"""Himmelblau's function :math:`(x^2 + y - 11)^2 + (x + y^2 - 7)^2`; four global minima of 0."""

    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2

    def grad(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        u, v = x * x + y - 11, x + y * y - 7
        return _vector(p, 4 * x * u + 2 * v, 2 * u + 4 * y * v)

    def hessian(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        u, v = x * x + y - 11, x + y * y - 7
        return _matrix(p, 4 * u + 8 * x * x + 2, 4 * (x + y), 4 * v + 8 * y * y + 2)

    return Surface(
        name="himmelblau",
        title="Himmelblau",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        # The three irrational minimizers were solved to 40 digits (mpmath.findroot on the gradient).
        minima=np.array(
            [
                [3.0, 2.0],
                [-2.8051180869527448531, 3.1313125182505729658],
                [-3.7793102533777468919, -3.2831859912861694123],
                [3.5844283403304917449, -1.8481265269644035535],
            ]
        ),
        min_value=0.0,
        lesson=(
            "Four equally good minima: which one an optimizer reaches depends on where it starts and on "
            "its momentum, not on which minimum is better."
        ),
        latex=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        torch_expr="(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
    )


_BEALE_CONSTANTS = (1.5, 2.25, 2.625)


@register("beale", start=(1.0, 1.0))
def beale() -> Surface:
    r"""Beale's function :math:`\sum_{i=1}^3 (c_i - x + x y^i)^2`, ``c = (1.5, 2.25, 2.625)``.

    Minimum 0 at (3, 0.5).
    """

    def x_and_powers_of_y(p: np.ndarray) -> tuple[np.ndarray, tuple]:
        x, y = _xy(p)
        y2 = y * y
        return x, (1.0, y, y2, y2 * y)  # y^0 .. y^3

    # f = sum_i t_i^2 with residuals t_i = c_i - x + x y^i, whose derivatives are dt_i/dx = y^i - 1,
    # dt_i/dy = i x y^(i-1), d2t_i/dx dy = i y^(i-1), d2t_i/dy2 = i (i-1) x y^(i-2) and d2t_i/dx2 = 0.
    def f(p: np.ndarray) -> np.ndarray:
        x, y_pow = x_and_powers_of_y(p)
        return sum((c - x + x * y_pow[i]) ** 2 for i, c in enumerate(_BEALE_CONSTANTS, start=1))

    def grad(p: np.ndarray) -> np.ndarray:
        x, y_pow = x_and_powers_of_y(p)
        gx = gy = 0.0
        for i, c in enumerate(_BEALE_CONSTANTS, start=1):
            t = c - x + x * y_pow[i]
            gx = gx + 2 * t * (y_pow[i] - 1)
            gy = gy + 2 * t * (i * x * y_pow[i - 1])
        return _vector(p, gx, gy)

    def hessian(p: np.ndarray) -> np.ndarray:
        x, y_pow = x_and_powers_of_y(p)
        hxx = hxy = hyy = 0.0
        for i, c in enumerate(_BEALE_CONSTANTS, start=1):
            t = c - x + x * y_pow[i]
            dt_dx, dt_dy = y_pow[i] - 1, i * x * y_pow[i - 1]
            hxx = hxx + 2 * dt_dx * dt_dx
            hxy = hxy + 2 * (dt_dx * dt_dy + t * (i * y_pow[i - 1]))
            hyy = hyy + 2 * (dt_dy * dt_dy + t * (i * (i - 1) * x * y_pow[max(i - 2, 0)]))
        return _matrix(p, hxx, hxy, hyy)

    return Surface(
        name="beale",
        title="Beale",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-4.5, 4.5), (-4.5, 4.5)),
        minima=np.array([[3.0, 0.5]]),
        min_value=0.0,
        lesson=(
            "Sharp ridges next to very flat regions: values span five decades, so one learning rate "
            "that is safe on the ridges is far too small on the flats."
        ),
        latex=r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        log_scale=True,
        torch_expr="(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
    )


@register("three_hump_camel", start=(2.0, 1.5))
def three_hump_camel() -> Surface:
    r"""Three-hump camel :math:`2x^2 - 1.05x^4 + x^6/6 + xy + y^2`; minimum 0 at the origin."""

    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        x2 = x * x
        return 2 * x2 - 1.05 * x2 * x2 + x2 * x2 * x2 / 6 + x * y + y * y

    def grad(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        x3 = x * x * x
        return _vector(p, 4 * x - 4.2 * x3 + x3 * x * x + y, x + 2 * y)

    def hessian(p: np.ndarray) -> np.ndarray:
        x, _ = _xy(p)
        x2 = x * x
        return _matrix(p, 4 - 12.6 * x2 + 5 * x2 * x2, 1.0, 2.0)

    return Surface(
        name="three_hump_camel",
        title="Three-hump camel",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-2.5, 2.5), (-2.5, 2.5)),
        minima=np.zeros((1, 2)),
        min_value=0.0,
        lesson=(
            "Two shallow local minima flank the global one: a run that starts on an outer hump settles "
            "in a local minimum unless momentum carries it over the ridge."
        ),
        latex=r"f(x, y) = 2x^2 - 1.05x^4 + \frac{x^6}{6} + xy + y^2",
        torch_expr="2*x**2 - 1.05*x**4 + x**6/6 + x*y + y**2",
    )


@register("six_hump_camel", start=(-1.0, 0.3))
def six_hump_camel() -> Surface:
    r"""Six-hump camel :math:`(4 - 2.1x^2 + x^4/3)x^2 + xy + (4y^2 - 4)y^2`.

    Two global minima, :math:`\pm(0.0898420131003, -0.712656403021)`, value -1.03162845348988.
    """

    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        x2, y2 = x * x, y * y
        return (4 - 2.1 * x2 + x2 * x2 / 3) * x2 + x * y + (4 * y2 - 4) * y2

    def grad(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        x3 = x * x * x
        return _vector(p, 8 * x - 8.4 * x3 + 2 * x3 * x * x + y, x - 8 * y + 16 * y * y * y)

    def hessian(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        x2 = x * x
        return _matrix(p, 8 - 25.2 * x2 + 10 * x2 * x2, 1.0, -8 + 48 * y * y)

    # Solved to 40 digits with mpmath.findroot on the gradient.
    x_star, y_star = 0.089842013100318062422, -0.7126564030207396334
    return Surface(
        name="six_hump_camel",
        title="Six-hump camel",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-2.0, 2.0), (-1.0, 1.0)),
        minima=np.array([[x_star, y_star], [-x_star, -y_star]]),
        min_value=-1.0316284534898773504,
        lesson=(
            "Six minima, two of them global and mirror images: the landscape is symmetric, so the "
            "starting point alone decides which twin a deterministic optimizer finds."
        ),
        latex=r"f(x, y) = \left(4 - 2.1x^2 + \frac{x^4}{3}\right)x^2 + xy + (4y^2 - 4)\,y^2",
        torch_expr="(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (4*y**2 - 4)*y**2",
    )


@register("styblinski_tang", start=(-1.0, -4.5))
def styblinski_tang() -> Surface:
    r"""Styblinski-Tang :math:`\tfrac12 \sum_{t \in \{x, y\}} (t^4 - 16t^2 + 5t)`.

    Global minimum -78.3323314075428 at :math:`t^* = (-2.90353402777118, -2.90353402777118)`, the
    negative root of :math:`4t^3 - 32t + 5`; three other local minima.
    """

    # Separable: the same quartic in each coordinate. Adding the two terms directly is far cheaper than
    # np.sum over the length-2 last axis; grad works on p as the stack of both coordinates.
    def quartic(t: np.ndarray) -> np.ndarray:
        t2 = t * t
        return t2 * t2 - 16 * t2 + 5 * t

    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return 0.5 * (quartic(x) + quartic(y))

    def grad(p: np.ndarray) -> np.ndarray:
        return 2 * p * p * p - 16 * p + 2.5

    def hessian(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return _matrix(p, 6 * x * x - 16, 0.0, 6 * y * y - 16)

    t_star = -2.9035340277711770951  # mpmath.findroot(4t^3 - 32t + 5), 40 digits
    return Surface(
        name="styblinski_tang",
        title="Styblinski–Tang",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        minima=np.array([[t_star, t_star]]),
        min_value=-78.332331407542830928,
        lesson=(
            "Four basins of different depths: gradient descent settles at the bottom of the basin it "
            "starts in, which is the global minimum only from the lower-left one."
        ),
        latex=r"f(x, y) = \tfrac12\left(x^4 - 16x^2 + 5x + y^4 - 16y^2 + 5y\right)",
        torch_expr="0.5*(x**4 - 16*x**2 + 5*x + y**4 - 16*y**2 + 5*y)",
    )


@register("goldstein_price", start=(-1.5, 1.5))
def goldstein_price() -> Surface:
    r"""Goldstein-Price :math:`[1 + s^2 P(x, y)]\,[30 + t^2 Q(x, y)]`; minimum 3 at (0, -1).

    With :math:`s = x + y + 1`, :math:`P = 19 - 14x + 3x^2 - 14y + 6xy + 3y^2`,
    :math:`t = 2x - 3y`, :math:`Q = 18 - 32x + 12x^2 + 48y - 36xy + 27y^2`.
    """

    # In the linear forms w = x + y and t = 2x - 3y each factor is a polynomial of one variable,
    #     A(w) = 1 + (w + 1)^2 (3w^2 - 14w + 19),    B(t) = 30 + t^2 (3t^2 - 16t + 18),
    # both c + u^2 q(v) with u = v + shift and q quadratic. So f = A B needs no derivatives, and with
    # e = (1, 1), g = (2, -3): grad f = B A' e + A B' g and
    # Hessian = B A'' e e^T + A B'' g g^T + A' B' (e g^T + g e^T).
    first = (1.0, 1.0, 3.0, -14.0, 19.0)  # (c, shift, q's coefficients of v^2, v, 1) of A(w)
    second = (30.0, 0.0, 3.0, -16.0, 18.0)  # the same for B(t)

    def factor(v: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
        c, shift, k2, k1, k0 = coefficients
        u = v + shift
        return c + u * u * ((k2 * v + k1) * v + k0)

    # (u^2 q)' = u (2q + u q') and (u^2 q)'' = 2q + 4u q' + u^2 q'', as u' = 1.
    def factor_slope(v: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
        _, shift, k2, k1, k0 = coefficients
        u = v + shift
        return u * (2 * ((k2 * v + k1) * v + k0) + u * (2 * k2 * v + k1))

    def factor_curvature(v: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
        _, shift, k2, k1, k0 = coefficients
        u = v + shift
        return 2 * ((k2 * v + k1) * v + k0) + 4 * u * (2 * k2 * v + k1) + 2 * k2 * u * u

    def forms(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = _xy(p)
        return x + y, 2 * x - 3 * y

    def f(p: np.ndarray) -> np.ndarray:
        w, t = forms(p)
        return factor(w, first) * factor(t, second)

    def grad(p: np.ndarray) -> np.ndarray:
        w, t = forms(p)
        a, b = factor(w, first), factor(t, second)
        b_da, a_db = b * factor_slope(w, first), a * factor_slope(t, second)
        return _vector(p, b_da + 2 * a_db, b_da - 3 * a_db)

    def hessian(p: np.ndarray) -> np.ndarray:
        w, t = forms(p)
        a, b = factor(w, first), factor(t, second)
        b_d2a, a_d2b = b * factor_curvature(w, first), a * factor_curvature(t, second)
        da_db = factor_slope(w, first) * factor_slope(t, second)
        return _matrix(
            p,
            b_d2a + 4 * a_d2b + 4 * da_db,
            b_d2a - 6 * a_d2b - da_db,
            b_d2a + 9 * a_d2b - 6 * da_db,
        )

    return Surface(
        name="goldstein_price",
        title="Goldstein–Price",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-2.0, 2.0), (-2.0, 2.0)),
        minima=np.array([[0.0, -1.0]]),
        min_value=3.0,
        lesson=(
            "Values from 3 to about a million inside a small square: gradients differ by orders of "
            "magnitude between regions, so a fixed learning rate either stalls or explodes somewhere."
        ),
        latex=(
            r"f(x, y) = \left[1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2)\right]"
            r"\left[30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2)\right]"
        ),
        log_scale=True,
        torch_expr=(
            "(1 + (x + y + 1)**2*(19 - 14*x + 3*x**2 - 14*y + 6*x*y + 3*y**2))"
            "*(30 + (2*x - 3*y)**2*(18 - 32*x + 12*x**2 + 48*y - 36*x*y + 27*y**2))"
        ),
    )


# ----------------------------------------------------------------------------------------------------
# Many local minima


@register("rastrigin", start=(3.2, -2.3))
def rastrigin(*, A: float = 10.0) -> Surface:  # noqa: N803 - the literature's name for the amplitude
    r"""Rastrigin :math:`2A + \sum_{t \in \{x, y\}} \left(t^2 - A\cos 2\pi t\right)`; minimum 0 at 0.

    Parameters
    ----------
    A : float in [0, 100]
        Amplitude of the ripples (0 leaves the bowl :math:`x^2 + y^2`).
    """
    amplitude = check_scalar(A, "A", low=0.0, high=100.0)

    # A(1 - cos 2πt) = 2A sin²(πt) keeps full relative precision next to the minimum. Adding the x and
    # y terms directly is far cheaper than np.sum over the length-2 last axis.
    def ripple_bowl(t: np.ndarray) -> np.ndarray:
        return t * t + 2 * amplitude * np.sin(_PI * t) ** 2

    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return ripple_bowl(x) + ripple_bowl(y)

    def grad(p: np.ndarray) -> np.ndarray:
        return 2 * p + _TWO_PI * amplitude * np.sin(_TWO_PI * p)

    def hessian(p: np.ndarray) -> np.ndarray:
        curvature = 2 + _TWO_PI**2 * amplitude * np.cos(_TWO_PI * p)
        return _matrix(p, curvature[..., 0], 0.0, curvature[..., 1])

    return Surface(
        name="rastrigin",
        title="Rastrigin",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-5.12, 5.12), (-5.12, 5.12)),
        minima=np.zeros((1, 2)),
        min_value=0.0,
        lesson=(
            "A bowl covered in a regular egg-crate of local minima: small steps get trapped in the "
            "nearest dimple, and only a large learning rate or noise sees the bowl underneath."
        ),
        latex=(
            rf"f(x, y) = {2 * amplitude:g} + x^2 - {amplitude:g}\cos 2\pi x"
            rf" + y^2 - {amplitude:g}\cos 2\pi y"
        ),
        params={"A": amplitude},
        torch_expr=(
            f"x**2 + y**2 + {2 * amplitude!r}*(torch.sin({_PI!r}*x)**2 + torch.sin({_PI!r}*y)**2)"
        ),
    )


@register("ackley", start=(3.5, -2.5))
def ackley() -> Surface:
    r"""Ackley :math:`-20 e^{-0.2 r} - e^{(\cos 2\pi x + \cos 2\pi y)/2} + 20 + e`.

    Here :math:`r = \sqrt{(x^2+y^2)/2}`.

    Minimum 0 at the origin, where the cone term :math:`-20 e^{-0.2 r}` has a kink: ``grad`` returns the
    subgradient 0 there and ``hessian`` leaves out the cone's (infinite) curvature, so neither is NaN.
    """

    def parts(p: np.ndarray):
        x, y = _xy(p)
        r = np.sqrt(0.5 * (x * x + y * y))
        at_kink = r == 0
        r_safe = np.where(at_kink, 1.0, r)
        return x, y, r, at_kink, r_safe

    # expm1 makes f exactly 0 at the origin instead of the rounding residue of -20 - e + 20 + e.
    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        r = np.sqrt(0.5 * (x * x + y * y))
        ripples = 0.5 * (np.cos(_TWO_PI * x) + np.cos(_TWO_PI * y))
        return -20 * np.expm1(-0.2 * r) - math.e * np.expm1(ripples - 1)

    def grad(p: np.ndarray) -> np.ndarray:
        x, y, r, at_kink, r_safe = parts(p)
        cone = np.where(at_kink, 0.0, 2 * np.exp(-0.2 * r) / r_safe)
        ripple = _PI * np.exp(0.5 * (np.cos(_TWO_PI * x) + np.cos(_TWO_PI * y)))
        return _vector(p, cone * x + ripple * np.sin(_TWO_PI * x), cone * y + ripple * np.sin(_TWO_PI * y))

    def hessian(p: np.ndarray) -> np.ndarray:
        x, y, _, at_kink, r_safe = parts(p)
        # Cone: grad = phi(r) p with phi = 2 e^{-0.2 r} / r and dr/dp = p / (2r), so its Hessian is
        # phi I + (phi'(r) / (2r)) p p^T.
        decay = 2 * np.exp(-0.2 * r_safe)
        phi = np.where(at_kink, 0.0, decay / r_safe)
        radial = np.where(at_kink, 0.0, -decay * (0.2 / r_safe + 1 / r_safe**2) * 0.5 / r_safe)
        sx, sy = np.sin(_TWO_PI * x), np.sin(_TWO_PI * y)
        cx, cy = np.cos(_TWO_PI * x), np.cos(_TWO_PI * y)
        ripple = _PI**2 * np.exp(0.5 * (cx + cy))
        return _matrix(
            p,
            phi + radial * x * x + ripple * (2 * cx - sx * sx),
            radial * x * y - ripple * sx * sy,
            phi + radial * y * y + ripple * (2 * cy - sy * sy),
        )

    return Surface(
        name="ackley",
        title="Ackley",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        minima=np.zeros((1, 2)),
        min_value=0.0,
        lesson=(
            "A gently sloping region riddled with local minima around one deep funnel whose tip is a "
            "kink: the gradient never shrinks near the minimum, so a constant learning rate bounces "
            "around it instead of settling."
        ),
        latex=(
            r"f(x, y) = -20\,e^{-0.2\sqrt{(x^2 + y^2)/2}} - e^{(\cos 2\pi x + \cos 2\pi y)/2} + 20 + e"
        ),
        torch_expr=(
            "-20*torch.expm1(-0.2*torch.sqrt(0.5*(x**2 + y**2))) "
            f"- {math.e!r}*torch.expm1(0.5*(torch.cos({_TWO_PI!r}*x) + torch.cos({_TWO_PI!r}*y)) - 1)"
        ),
    )


@register("levi", start=(-3.0, 3.0))
def levi() -> Surface:
    r"""Lévi N.13 :math:`\sin^2 3\pi x + (x-1)^2(1 + \sin^2 3\pi y) + (y-1)^2(1 + \sin^2 2\pi y)`.

    Minimum 0 at (1, 1).
    """
    k3, k2 = 3 * _PI, _TWO_PI

    # One sine of pi y gives both y terms, through sin 3a = sin a (3 - 4 sin^2 a) and
    # sin^2 2a = 4 sin^2 a (1 - sin^2 a): a sine is most of f's cost on a grid.
    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        s2 = np.sin(_PI * y) ** 2
        return (
            np.sin(k3 * x) ** 2
            + (x - 1) ** 2 * (1 + s2 * (3 - 4 * s2) ** 2)
            + (y - 1) ** 2 * (1 + 4 * s2 * (1 - s2))
        )

    def grad(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        gx = k3 * np.sin(2 * k3 * x) + 2 * (x - 1) * (1 + np.sin(k3 * y) ** 2)
        gy = (
            (x - 1) ** 2 * k3 * np.sin(2 * k3 * y)
            + 2 * (y - 1) * (1 + np.sin(k2 * y) ** 2)
            + (y - 1) ** 2 * k2 * np.sin(2 * k2 * y)
        )
        return _vector(p, gx, gy)

    def hessian(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        hxx = 2 * k3**2 * np.cos(2 * k3 * x) + 2 * (1 + np.sin(k3 * y) ** 2)
        hxy = 2 * (x - 1) * k3 * np.sin(2 * k3 * y)
        hyy = (
            2 * k3**2 * (x - 1) ** 2 * np.cos(2 * k3 * y)
            + 2 * (1 + np.sin(k2 * y) ** 2)
            + 4 * k2 * (y - 1) * np.sin(2 * k2 * y)
            + 2 * k2**2 * (y - 1) ** 2 * np.cos(2 * k2 * y)
        )
        return _matrix(p, hxx, hxy, hyy)

    return Surface(
        name="levi",
        title="Lévi N.13",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-4.0, 4.0), (-4.0, 4.0)),
        minima=np.array([[1.0, 1.0]]),
        min_value=0.0,
        lesson=(
            "Ripples whose depth grows away from the minimum: local minima near (1, 1) are shallow and "
            "far ones are deep, so how far a run gets depends on how it handles ever-larger traps."
        ),
        latex=(
            r"f(x, y) = \sin^2 3\pi x + (x - 1)^2\left(1 + \sin^2 3\pi y\right)"
            r" + (y - 1)^2\left(1 + \sin^2 2\pi y\right)"
        ),
        torch_expr=(
            f"torch.sin({k3!r}*x)**2 + (x - 1)**2*(1 + torch.sin({k3!r}*y)**2)"
            f" + (y - 1)**2*(1 + torch.sin({k2!r}*y)**2)"
        ),
    )


# ----------------------------------------------------------------------------------------------------
# No minimum


@register("saddle", start=(-1.8, 0.3))
def saddle() -> Surface:
    r"""Saddle :math:`x^2 - y^2`; unbounded below, stationary (not minimal) at the origin."""

    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return x * x - y * y

    def grad(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return _vector(p, 2 * x, -2 * y)

    def hessian(p: np.ndarray) -> np.ndarray:
        return _matrix(p, 2.0, 0.0, -2.0)

    return Surface(
        name="saddle",
        title="Saddle",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-2.0, 2.0), (-2.0, 2.0)),
        minima=_no_minimum(),
        min_value=None,
        lesson=(
            "It has no minimum: the origin is a saddle point where the gradient vanishes, and gradient "
            "descent started on the x axis stops there while the slightest offset in y lets it escape "
            "downhill forever."
        ),
        latex=r"f(x, y) = x^2 - y^2",
        torch_expr="x**2 - y**2",
    )


@register("monkey_saddle", start=(0.8, 0.3))
def monkey_saddle() -> Surface:
    r"""Monkey saddle :math:`x^3 - 3xy^2`; unbounded below, flat (zero Hessian) at the origin."""

    def f(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return x * (x * x - 3 * y * y)

    def grad(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return _vector(p, 3 * x * x - 3 * y * y, -6 * x * y)

    def hessian(p: np.ndarray) -> np.ndarray:
        x, y = _xy(p)
        return _matrix(p, 6 * x, -6 * y, -6 * x)

    return Surface(
        name="monkey_saddle",
        title="Monkey saddle",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-2.0, 2.0), (-2.0, 2.0)),
        minima=_no_minimum(),
        min_value=None,
        lesson=(
            "It has no minimum: three valleys run downhill from a stationary point whose Hessian is "
            "zero, so second-order tests cannot tell it from a minimum and gradients vanish "
            "quadratically as a run approaches it."
        ),
        latex=r"f(x, y) = x^3 - 3xy^2",
        torch_expr="x**3 - 3*x*y**2",
    )


# ----------------------------------------------------------------------------------------------------
# Pathological scales


_WELL_CENTER = (2.0, 0.0)
_WELL_WIDTH = 1.0
_CLIFF_AT = -1.0


@register("plateau_cliff", start=(-3.0, 2.0))
def plateau_cliff(*, cliff_height: float = 10.0, cliff_steepness: float = 20.0) -> Surface:
    r"""A plateau, a cliff and a well: :math:`f = W(x, y)\,\bigl(1 + H\,\sigma(k(c - x))\bigr)`.

    :math:`W = 1 - \exp(-\lVert p - (2, 0)\rVert^2 / 2)` is a Gaussian well (0 at its center, 1 far
    away) and :math:`\sigma` the logistic function, which raises everything left of the line
    :math:`x = c = -1` by a factor :math:`1 + H`. Left of the cliff lies a plateau at height
    :math:`\approx 1 + H` whose gradient vanishes like :math:`e^{-d^2/2}` (about 2e-4 at x = -3); on the
    cliff the gradient reaches about :math:`Hk/4` (50 with the defaults). Since both factors are
    positive and :math:`W = 0` only at the center, the global minimum is exactly 0 at (2, 0).

    Parameters
    ----------
    cliff_height : float in (0, 100]
        :math:`H`, the cliff's height relative to the lower plateau (value 1).
    cliff_steepness : float in (0, 100]
        :math:`k`, the inverse width of the cliff; its steepest slope is about ``H * k / 4``.
    """
    height = check_scalar(cliff_height, "cliff_height", low=0.0, high=100.0, include_low=False)
    steep = check_scalar(cliff_steepness, "cliff_steepness", low=0.0, high=100.0, include_low=False)
    x0, y0 = _WELL_CENTER
    inv_var = 1.0 / _WELL_WIDTH**2

    # W = -expm1(z) with z = -|d|^2 / (2 width^2), d = p - center; -expm1 keeps W's relative precision
    # right at the minimum. Its derivatives take e^z itself: 1 - W would lose all of e^z's digits far out
    # on the plateau, where the gradient is that small.
    def exponent_and_offsets(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, y = _xy(p)
        dx, dy = x - x0, y - y0
        return -0.5 * inv_var * (dx * dx + dy * dy), dx, dy

    # M = 1 + H sigma(k (c - x)) with sigma(z) = (1 + tanh(z/2)) / 2, which never overflows, unlike
    # 1 / (1 + exp(-z)); returns M and the tanh, from which sigma' = (1 - tanh^2) / 4 follows.
    def cliff(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        th = np.tanh(0.5 * steep * (_CLIFF_AT - p[..., 0]))
        return 1 + height * (0.5 * (1 + th)), th

    def f(p: np.ndarray) -> np.ndarray:
        z, _, _ = exponent_and_offsets(p)
        m, _ = cliff(p)
        return -np.expm1(z) * m

    def grad(p: np.ndarray) -> np.ndarray:
        z, dx, dy = exponent_and_offsets(p)
        m, th = cliff(p)
        w, well_slope = -np.expm1(z), inv_var * np.exp(z)  # grad W = well_slope * d
        dm_dx = -height * steep * (0.25 * (1 - th * th))
        m_well_slope = m * well_slope
        return _vector(p, m_well_slope * dx + w * dm_dx, m_well_slope * dy)

    def hessian(p: np.ndarray) -> np.ndarray:
        z, dx, dy = exponent_and_offsets(p)
        m, th = cliff(p)
        w, well_slope = -np.expm1(z), inv_var * np.exp(z)
        dsig = 0.25 * (1 - th * th)
        dm_dx = -height * steep * dsig
        d2m_dx2 = -height * steep**2 * dsig * th
        # M Hess W + W Hess M + grad W grad M^T + grad M grad W^T, with
        # Hess W = inv_var e^z (I - inv_var d d^T) and grad M = (dM/dx, 0).
        m_well_slope = m * well_slope
        return _matrix(
            p,
            m_well_slope * (1 - inv_var * dx * dx) + w * d2m_dx2 + 2 * well_slope * dx * dm_dx,
            -m_well_slope * inv_var * dx * dy + well_slope * dy * dm_dx,
            m_well_slope * (1 - inv_var * dy * dy),
        )

    half_k = 0.5 * steep
    return Surface(
        name="plateau_cliff",
        title="Plateau and cliff",
        _f=f,
        _grad=grad,
        _hessian=hessian,
        domain=((-4.0, 4.0), (-3.0, 3.0)),
        minima=np.array([[x0, y0]]),
        min_value=0.0,
        lesson=(
            "Gradients span more than six orders of magnitude: plain gradient descent crawls across the flat "
            "plateau and is then catapulted off the steep cliff, which is why gradient clipping and "
            "adaptive methods such as Adam, whose step size ignores the gradient's scale, matter."
        ),
        latex=(
            rf"f(x, y) = \left(1 - e^{{-\left((x - 2)^2 + y^2\right)/2}}\right)"
            rf"\left(1 + \frac{{{height:g}}}{{1 + e^{{{steep:g}\,(x + 1)}}}}\right)"
        ),
        params={"cliff_height": height, "cliff_steepness": steep},
        torch_expr=(
            f"-torch.expm1(-0.5*((x - {x0!r})**2 + (y - {y0!r})**2)/{_WELL_WIDTH**2!r})"
            f"*(1 + {height!r}*0.5*(1 + torch.tanh({half_k!r}*({_CLIFF_AT!r} - x))))"
        ),
    )
