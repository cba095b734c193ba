"""Tests for lossviz.surfaces.

Gradients and Hessians are checked against central differences and against torch autograd of each
surface's own ``torch_expr``; minima against published coordinates and values, the gradient there and
a dense sample of the domain; the quadratic against its defining formula and gradient descent's
stability limit.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lossviz import surfaces
from lossviz.surfaces import Surface

torch = pytest.importorskip("torch")

NAMES = surfaces.names()
SURFACES = {name: surfaces.get(name) for name in NAMES}
WITH_MINIMUM = [name for name in NAMES if SURFACES[name].min_value is not None]

# Points where f has no derivative; drawn points keep this distance from them.
KINKS = {"ackley": (np.zeros(2), 0.05)}

# Published global minimizers and values (Wikipedia, "Test functions for optimization", and the
# sources it cites), to the digits they are usually quoted with. plateau_cliff is this project's own
# design: (2, 0) with value 0 is what its docstring derives.
LITERATURE = {
    "quadratic": ([(0.0, 0.0)], 0.0),
    "booth": ([(1.0, 3.0)], 0.0),
    "matyas": ([(0.0, 0.0)], 0.0),
    "rosenbrock": ([(1.0, 1.0)], 0.0),
    "himmelblau": (
        [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)],
        0.0,
    ),
    "beale": ([(3.0, 0.5)], 0.0),
    "three_hump_camel": ([(0.0, 0.0)], 0.0),
    "six_hump_camel": ([(0.0898, -0.7126), (-0.0898, 0.7126)], -1.0316),
    "styblinski_tang": ([(-2.903534, -2.903534)], 2 * -39.16617),
    "goldstein_price": ([(0.0, -1.0)], 3.0),
    "rastrigin": ([(0.0, 0.0)], 0.0),
    "ackley": ([(0.0, 0.0)], 0.0),
    "levi": ([(1.0, 1.0)], 0.0),
    "plateau_cliff": ([(2.0, 0.0)], 0.0),
}


def test_at_least_fifteen_surfaces_including_the_required_ones():
    required = {
        "quadratic", "rosenbrock", "himmelblau", "beale", "booth", "matyas", "three_hump_camel",
        "six_hump_camel", "rastrigin", "ackley", "styblinski_tang", "goldstein_price", "saddle",
        "monkey_saddle", "plateau_cliff",
    }
    assert len(NAMES) >= 15
    assert required <= set(NAMES)
    assert set(LITERATURE) | {"saddle", "monkey_saddle"} == set(NAMES)


# ---------------------------------------------------------------------------------------------------
# Drawing points


@st.composite
def domain_points(draw, surface: Surface) -> np.ndarray:
    (x_lo, x_hi), (y_lo, y_hi) = surface.domain
    finite = {"allow_nan": False, "allow_infinity": False}
    p = np.array(
        [draw(st.floats(x_lo, x_hi, **finite)), draw(st.floats(y_lo, y_hi, **finite))], dtype=np.float64
    )
    if surface.name in KINKS:
        center, radius = KINKS[surface.name]
        assume(np.linalg.norm(p - center) > radius)
    return p


def central_difference(fn, p: np.ndarray, h: float) -> np.ndarray:
    """Jacobian of ``fn`` at ``p`` by central differences; the last axis is the derivative axis."""
    columns = [(fn(p + h * e) - fn(p - h * e)) / (2 * h) for e in np.eye(2)]
    return np.stack(columns, axis=-1)


def step_for(p: np.ndarray) -> float:
    # Near the cube root of machine epsilon, scaled with |p| so that p +- h is not rounded away.
    return 5e-6 * max(1.0, float(np.max(np.abs(p))))


# ---------------------------------------------------------------------------------------------------
# Derivatives


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_grad_matches_central_differences(name, data):
    s = SURFACES[name]
    p = data.draw(domain_points(s))
    h = step_for(p)
    numeric = central_difference(s.f, p, h)
    analytic = s.grad(p)
    # Central differences err by about h^2 f''' / 6 plus rounding eps * |f| / h; the scale collects
    # the sizes of the terms in a Taylor step, so the tolerance follows the function's magnitude.
    radius = max(1.0, float(np.max(np.abs(p))))
    scale = 1.0 + abs(float(s.f(p))) / radius + float(np.linalg.norm(analytic))
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=2e-6 * scale)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_hessian_matches_central_differences_of_grad_and_is_symmetric(name, data):
    s = SURFACES[name]
    p = data.draw(domain_points(s))
    h = step_for(p)
    numeric = central_difference(s.grad, p, h)  # numeric[i, j] = d grad_i / d p_j
    analytic = s.hessian(p)
    assert analytic.shape == (2, 2)
    radius = max(1.0, float(np.max(np.abs(p))))
    scale = 1.0 + float(np.linalg.norm(s.grad(p))) / radius + float(np.linalg.norm(analytic))
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=2e-6 * scale)
    np.testing.assert_allclose(analytic, analytic.T, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_torch_expr_value_gradient_and_hessian_agree_with_numpy(name, data):
    s = SURFACES[name]
    p = data.draw(domain_points(s))

    def torch_f(point):
        # Trusted, library-owned string; evaluated only here, as the code export will paste it.
        return eval(s.torch_expr, {"torch": torch}, {"x": point[0], "y": point[1]})  # noqa: S307

    point = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    value = torch_f(point)
    assert value.dtype == torch.float64
    (gradient,) = torch.autograd.grad(value, point)
    hessian = torch.autograd.functional.hessian(torch_f, point.detach())
    f = float(s.f(p))
    np.testing.assert_allclose(value.item(), f, rtol=1e-12, atol=1e-12 * (1 + abs(f)))
    g = s.grad(p)
    np.testing.assert_allclose(g, gradient.numpy(), rtol=1e-9, atol=1e-9 * (1 + np.linalg.norm(g)))
    hess = s.hessian(p)
    np.testing.assert_allclose(hess, hessian.numpy(), rtol=1e-9, atol=1e-9 * (1 + np.linalg.norm(hess)))


@pytest.mark.parametrize("name", NAMES)
def test_f_on_a_whole_grid_agrees_with_torch_expr(name):
    # The grid path (one call on shape (ny, nx, 2)) against the independent formula at every point of a
    # non-square grid over the default view, boundaries included.
    s = SURFACES[name]
    (x_lo, x_hi), (y_lo, y_hi) = s.domain
    xs, ys = np.linspace(x_lo, x_hi, 151), np.linspace(y_lo, y_hi, 97)
    points = np.stack(np.meshgrid(xs, ys), axis=-1)
    values = s.f(points)
    assert values.shape == (ys.size, xs.size)
    x, y = torch.from_numpy(points[..., 0]), torch.from_numpy(points[..., 1])
    reference = eval(s.torch_expr, {"torch": torch}, {"x": x, "y": y}).numpy()  # noqa: S307
    # Where terms cancel (a saddle's valleys), agreement is relative to the values' scale on the view.
    np.testing.assert_allclose(values, reference, rtol=1e-12, atol=1e-13 * np.max(np.abs(reference)))


@pytest.mark.parametrize("name", NAMES)
def test_torch_expr_uses_only_x_y_operators_and_torch_functions(name):
    expr = SURFACES[name].torch_expr
    assert expr
    without_numbers = re.sub(r"\b\d+(\.\d*)?(e[-+]?\d+)?", "", expr)
    identifiers = set(re.findall(r"[A-Za-z_][A-Za-z_0-9.]*", without_numbers))
    assert identifiers <= {"x", "y"} | {i for i in identifiers if i.startswith("torch.")}


def test_torch_expr_follows_the_parameters():
    point = torch.tensor([0.3, -0.7], dtype=torch.float64)
    names = {"x": point[0], "y": point[1]}
    rosen = surfaces.get("rosenbrock", a=0.5, b=10.0)
    value = eval(rosen.torch_expr, {"torch": torch}, names)  # noqa: S307
    assert value.item() == pytest.approx((0.5 - 0.3) ** 2 + 10 * (-0.7 - 0.09) ** 2, rel=1e-14)
    # Extreme coefficients print in exponent notation (1e-06) and must still parse.
    for rotation in (0.0, -40.0):
        bowl = surfaces.get("quadratic", condition_number=1e6, rotation=rotation)
        value = eval(bowl.torch_expr, {"torch": torch}, names)  # noqa: S307
        assert value.item() == pytest.approx(float(bowl.f([0.3, -0.7])), rel=1e-13)


# ---------------------------------------------------------------------------------------------------
# Broadcasting and inputs


@pytest.mark.parametrize("name", NAMES)
def test_broadcasting_over_leading_axes_equals_point_by_point(name):
    s = SURFACES[name]
    rng = np.random.default_rng(0)
    (x_lo, x_hi), (y_lo, y_hi) = s.domain
    points = np.stack([rng.uniform(x_lo, x_hi, (3, 4)), rng.uniform(y_lo, y_hi, (3, 4))], axis=-1)
    values, grads, hessians = s.f(points), s.grad(points), s.hessian(points)
    assert values.shape == (3, 4)
    assert grads.shape == (3, 4, 2)
    assert hessians.shape == (3, 4, 2, 2)
    assert values.dtype == grads.dtype == hessians.dtype == np.float64
    for i in range(3):
        for j in range(4):
            one = points[i, j]
            assert np.shape(s.f(one)) == ()
            np.testing.assert_allclose(values[i, j], s.f(one), rtol=1e-14, atol=1e-300)
            np.testing.assert_allclose(grads[i, j], s.grad(one), rtol=1e-14, atol=1e-300)
            np.testing.assert_allclose(hessians[i, j], s.hessian(one), rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("name", NAMES)
def test_lists_and_empty_batches_are_accepted(name):
    s = SURFACES[name]
    assert s.f([[0.5, 0.25]]).shape == (1,)
    assert s.f(np.empty((0, 2))).shape == (0,)
    assert s.grad(np.empty((0, 2))).shape == (0, 2)
    assert s.hessian(np.empty((0, 2))).shape == (0, 2, 2)


@pytest.mark.parametrize("name", NAMES)
def test_non_finite_points_neither_raise_nor_warn(name):
    s = SURFACES[name]
    points = np.array([[np.inf, 0.0], [-np.inf, np.inf], [np.nan, 1.0], [1e300, -1e300], [0.5, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values, grads, hessians = s.f(points), s.grad(points), s.hessian(points)
    assert values.shape == (5,) and grads.shape == (5, 2) and hessians.shape == (5, 2, 2)
    assert np.isnan(values[2])  # NaN in, NaN out: no silent substitution
    assert np.isfinite(values[4]) and np.all(np.isfinite(grads[4])) and np.all(np.isfinite(hessians[4]))


@pytest.mark.parametrize("method", ["f", "grad", "hessian"])
@pytest.mark.parametrize("bad", [[1.0, 2.0, 3.0], 1.0, [[1.0], [2.0]]])
def test_points_with_wrong_last_dimension_are_refused(method, bad):
    with pytest.raises(ValueError, match=r"params must have shape \(\.\.\., 2\), got shape"):
        getattr(SURFACES["rosenbrock"], method)(bad)


def test_points_that_are_not_numbers_are_refused():
    with pytest.raises(TypeError, match="params must be an array of numbers"):
        SURFACES["booth"].f([["a", "b"]])


# ---------------------------------------------------------------------------------------------------
# Minima


@pytest.mark.parametrize("name", WITH_MINIMUM)
def test_minima_are_stationary_at_min_value_and_strict(name):
    s = SURFACES[name]
    assert s.minima.ndim == 2 and s.minima.shape[1] == 2 and len(s.minima) >= 1
    assert np.max(np.linalg.norm(s.grad(s.minima), axis=-1)) <= 1e-9
    np.testing.assert_allclose(s.f(s.minima), s.min_value, rtol=0, atol=1e-12 * (1 + abs(s.min_value)))
    # Strict minima: positive curvature in every direction (for Ackley, the ripples' part alone).
    assert np.all(np.linalg.eigvalsh(s.hessian(s.minima)) > 0)
    (x_lo, x_hi), (y_lo, y_hi) = s.domain
    assert np.all((x_lo <= s.minima[:, 0]) & (s.minima[:, 0] <= x_hi))
    assert np.all((y_lo <= s.minima[:, 1]) & (s.minima[:, 1] <= y_hi))


@pytest.mark.parametrize("name", WITH_MINIMUM)
def test_minima_and_min_value_match_the_literature(name):
    s = SURFACES[name]
    published, value = LITERATURE[name]
    published = np.array(published)
    assert len(s.minima) == len(published)
    # Each published minimizer is matched by exactly one registered one (quoted to ~4-6 digits).
    distance = np.linalg.norm(s.minima[:, None, :] - published[None, :, :], axis=-1)
    assert sorted(np.argmin(distance, axis=0)) == list(range(len(published)))
    assert np.max(np.min(distance, axis=0)) < 1e-4
    assert s.min_value == pytest.approx(value, abs=1e-4)


def test_styblinski_tang_minimizer_is_the_root_of_the_cubic():
    roots = np.roots([4.0, 0.0, -32.0, 5.0])
    t_star = float(np.min(roots.real))
    s = SURFACES["styblinski_tang"]
    np.testing.assert_allclose(s.minima, [[t_star, t_star]], rtol=1e-14)
    assert s.min_value == pytest.approx(t_star**4 - 16 * t_star**2 + 5 * t_star, rel=1e-14)


@pytest.mark.parametrize("name", WITH_MINIMUM)
def test_no_sampled_point_lies_below_min_value(name):
    s = SURFACES[name]
    rng = np.random.default_rng(1)
    (x_lo, x_hi), (y_lo, y_hi) = s.domain
    uniform = np.stack([rng.uniform(x_lo, x_hi, 4000), rng.uniform(y_lo, y_hi, 4000)], axis=-1)
    # Uniform samples rarely land near a minimum, where a wrong one would be beaten.
    nearby = (s.minima[:, None, :] + rng.normal(scale=1e-3, size=(len(s.minima), 500, 2))).reshape(-1, 2)
    values = s.f(np.concatenate([uniform, nearby]))
    assert np.min(values) >= s.min_value - 1e-12 * (1 + abs(s.min_value))


def test_counts_of_global_minima():
    assert len(SURFACES["himmelblau"].minima) == 4
    assert len(SURFACES["six_hump_camel"].minima) == 2
    six = SURFACES["six_hump_camel"]
    np.testing.assert_allclose(six.minima[0], -six.minima[1], rtol=0, atol=0)


@pytest.mark.parametrize("name", ["saddle", "monkey_saddle"])
def test_saddles_have_no_minimum(name):
    s = SURFACES[name]
    assert s.minima.shape == (0, 2)
    assert s.min_value is None
    assert "no minimum" in s.lesson
    assert not s.log_scale
    # The origin is stationary, yet values keep falling along a ray through it.
    np.testing.assert_array_equal(s.grad([0.0, 0.0]), [0.0, 0.0])
    ray = {"saddle": np.array([0.0, 1.0]), "monkey_saddle": np.array([-1.0, 0.0])}[name]
    assert s.f(1e3 * ray) < s.f(10 * ray) < s.f([0.0, 0.0]) == 0.0


def test_monkey_saddle_is_flat_to_second_order_at_the_origin():
    np.testing.assert_array_equal(SURFACES["monkey_saddle"].hessian([0.0, 0.0]), np.zeros((2, 2)))


def test_ackley_returns_the_zero_subgradient_and_finite_hessian_at_its_kink():
    s = SURFACES["ackley"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g, hess = s.grad([0.0, 0.0]), s.hessian([0.0, 0.0])
    np.testing.assert_array_equal(g, [0.0, 0.0])
    assert np.all(np.isfinite(hess))
    # Next to the kink the cone's slope does not shrink: |grad| -> 20 * 0.2 / sqrt(2) (the cone alone).
    tiny = 1e-9
    assert np.linalg.norm(s.grad([tiny, 0.0])) == pytest.approx(4 / math.sqrt(2), rel=1e-6)


# ---------------------------------------------------------------------------------------------------
# The quadratic bowl


@settings(max_examples=60, deadline=None)
@given(
    log_kappa=st.floats(0.0, 6.0),
    rotation=st.floats(-180.0, 180.0),
)
def test_quadratic_eigenvalues_eigenvectors_and_formula(log_kappa, rotation):
    kappa = 10.0**log_kappa
    s = surfaces.get("quadratic", condition_number=kappa, rotation=rotation)
    lam_min, lam_max = s.constants["eigenvalues"]
    assert lam_min == pytest.approx(1 / kappa, rel=1e-14)
    assert lam_max == 1.0
    hess = s.hessian([0.3, -0.2])
    np.testing.assert_allclose(np.linalg.eigvalsh(hess), [lam_min, lam_max], rtol=1e-9, atol=1e-14)
    assert np.linalg.cond(hess) == pytest.approx(kappa, rel=1e-6)
    # The flat direction (the valley floor) is the x axis turned by `rotation` degrees.
    theta = math.radians(rotation)
    floor = np.array([math.cos(theta), math.sin(theta)])
    np.testing.assert_allclose(hess @ floor, lam_min * floor, atol=1e-14)
    across = np.array([-math.sin(theta), math.cos(theta)])
    np.testing.assert_allclose(hess @ across, lam_max * across, atol=1e-14)
    eigenvectors = np.array(s.constants["eigenvectors"])
    np.testing.assert_allclose(eigenvectors, np.column_stack([floor, across]), atol=1e-15)
    p = np.array([1.7, -0.4])
    assert s.f(p) == pytest.approx(0.5 * p @ hess @ p, rel=1e-12)
    assert s.constants["max_stable_lr"] == 2 / lam_max


def test_quadratic_without_rotation_is_the_textbook_bowl():
    s = surfaces.get("quadratic", condition_number=50.0, rotation=0.0)
    x, y = 1.3, -0.6
    assert s.f([x, y]) == pytest.approx(0.5 * (x**2 / 50 + y**2), rel=1e-15)
    turned = surfaces.get("quadratic", condition_number=50.0, rotation=90.0)
    # Turning the bowl by 90 degrees counter-clockwise: f_90(p) = f_0(R^T p) with R^T (x, y) = (y, -x).
    assert turned.f([x, y]) == pytest.approx(s.f([y, -x]), rel=1e-14)


@pytest.mark.parametrize("kappa", [1.0, 10.0, 1e4])
def test_quadratic_gradient_descent_diverges_just_above_two_over_lambda_max(kappa):
    s = surfaces.get("quadratic", condition_number=kappa, rotation=25.0)
    limit = s.constants["max_stable_lr"]

    across = np.array(s.constants["eigenvectors"])[:, 1]  # the sharp direction

    def descend(lr):
        start = np.array([1.0, 1.0])
        p = start
        for _ in range(300):
            p = p - lr * s.grad(p)
        return np.linalg.norm(p) / np.linalg.norm(start), abs(p @ across)

    growth, sharp_part = descend(0.95 * limit)
    assert growth <= 1.0 and sharp_part < 1e-9  # |1 - 0.95 * 2| ** 300 ~ 2e-14
    growth, sharp_part = descend(1.05 * limit)
    assert growth > 1e3 and sharp_part > 1e3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"condition_number": 0.5}, r"condition_number must be in \[1, 1e\+06\], got 0\.5"),
        ({"condition_number": 2e6}, r"condition_number must be in \[1, 1e\+06\], got 2000000\.0"),
        ({"condition_number": float("nan")}, r"condition_number must be a finite number in \[1, 1e\+06\]"),
        ({"rotation": 270.0}, r"rotation must be in \[-180, 180\], got 270\.0"),
    ],
)
def test_quadratic_parameters_are_validated(params, message):
    with pytest.raises(ValueError, match=message):
        surfaces.get("quadratic", **params)


def test_quadratic_condition_number_must_be_a_number():
    with pytest.raises(TypeError, match="condition_number must be a real number"):
        surfaces.get("quadratic", condition_number="10")


# ---------------------------------------------------------------------------------------------------
# Other parameters and validation


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("rosenbrock", {"b": 0.0}, r"b must be in \(0, 10000\], got 0\.0"),
        ("rosenbrock", {"a": 5.0}, r"a must be in \[-2, 2\], got 5\.0"),
        ("rastrigin", {"A": -1.0}, r"A must be in \[0, 100\], got -1\.0"),
        ("plateau_cliff", {"cliff_height": 0.0}, r"cliff_height must be in \(0, 100\], got 0\.0"),
        ("plateau_cliff", {"cliff_steepness": 500.0}, r"cliff_steepness must be in \(0, 100\], got 500\.0"),
    ],
)
def test_parameters_are_validated(name, params, message):
    with pytest.raises(ValueError, match=message):
        surfaces.get(name, **params)


def test_unknown_surface_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"unknown surface 'banana'; valid names: quadratic, .*rosenbrock"):
        surfaces.get("banana")


def test_unknown_parameter_names_the_surface():
    with pytest.raises(TypeError, match=r"surface 'booth' got an unknown parameter"):
        surfaces.get("booth", steepness=2.0)


def test_rosenbrock_parameters_move_the_minimum_into_view():
    s = surfaces.get("rosenbrock", a=-1.5, b=5.0)
    np.testing.assert_array_equal(s.minima, [[-1.5, 2.25]])
    (x_lo, x_hi), (y_lo, y_hi) = s.domain
    assert x_lo <= -1.5 <= x_hi and y_lo <= 2.25 <= y_hi
    assert s.f([-1.5, 2.25]) == 0.0
    assert s.f([0.0, 0.0]) == pytest.approx(1.5**2, rel=1e-15)


def test_rastrigin_amplitude_zero_is_the_plain_bowl():
    s = surfaces.get("rastrigin", A=0.0)
    assert s.f([1.3, -0.4]) == pytest.approx(1.3**2 + 0.4**2, rel=1e-15)
    # A = 10 at a half-integer point: cos(2 pi t) = -1 adds 2A per coordinate.
    assert SURFACES["rastrigin"].f([0.5, 0.5]) == pytest.approx(0.5 + 4 * 10, rel=1e-14)


def test_plateau_is_nearly_flat_and_cliff_is_steep():
    s = SURFACES["plateau_cliff"]
    plateau = np.linalg.norm(s.grad([-3.0, 0.0]))
    cliff = np.linalg.norm(s.grad([-1.0, 0.0]))
    assert plateau < 1e-3
    assert cliff > 10
    # Steepest slope of H * sigmoid(k (c - x)) is H k / 4, scaled by the well factor W(-1, 0).
    well = 1 - math.exp(-0.5 * 3.0**2)
    assert cliff == pytest.approx(10 * 20 / 4 * well, rel=0.02)
    # Upper plateau at about 1 + H, lower plateau far from the well at about 1.
    assert s.f([-3.5, 2.5]) == pytest.approx(11.0, rel=1e-3)
    assert s.f([3.9, 2.9]) == pytest.approx(1.0, abs=0.03)


@pytest.mark.parametrize("name", NAMES)
def test_params_rebuild_the_same_surface(name):
    s = SURFACES[name]
    again = surfaces.get(name, **s.params)
    p = np.array([[0.3, -0.7], [1.1, 0.4]])
    np.testing.assert_array_equal(again.f(p), s.f(p))
    assert again.torch_expr == s.torch_expr


def test_changed_params_are_recorded_and_change_the_values():
    s = surfaces.get("plateau_cliff", cliff_height=3.0, cliff_steepness=5.0)
    assert s.params == {"cliff_height": 3.0, "cliff_steepness": 5.0}
    assert s.f([-3.5, 2.5]) == pytest.approx(4.0, rel=1e-3)
    np.testing.assert_array_equal(s.minima, [[2.0, 0.0]])


# ---------------------------------------------------------------------------------------------------
# Metadata


@pytest.mark.parametrize("name", NAMES)
def test_metadata_is_complete(name):
    s = SURFACES[name]
    assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name)
    assert s.name == name and s.dim == 2
    assert s.title and s.latex and s.torch_expr
    # One sentence: a single full stop, at the end.
    assert s.lesson.endswith(".") and s.lesson.count(". ") == 0
    assert not s.minima.flags.writeable


def test_log_scale_exactly_where_values_span_decades():
    for name in ("rosenbrock", "beale", "goldstein_price"):
        assert SURFACES[name].log_scale
    for name in WITH_MINIMUM:
        s = SURFACES[name]
        (x_lo, x_hi), (y_lo, y_hi) = s.domain
        xs, ys = np.meshgrid(np.linspace(x_lo, x_hi, 101), np.linspace(y_lo, y_hi, 101))
        excess = s.f(np.stack([xs, ys], axis=-1)) - s.min_value
        # Height of the view over its lowest tenth: ~10-80 for bowls, hundreds or more for log views.
        spread = np.max(excess) / np.percentile(excess, 10)
        assert s.log_scale == (spread > 200), (name, spread)


def test_surface_refuses_a_malformed_domain_or_minima():
    booth = SURFACES["booth"]
    kwargs = dict(name="x", title="X", _f=booth.f, _grad=booth.grad, _hessian=booth.hessian, min_value=0.0,
                  lesson="A test.")
    with pytest.raises(ValueError, match="domain must be"):
        Surface(domain=((1.0, -1.0), (0.0, 1.0)), minima=np.zeros((1, 2)), **kwargs)
    with pytest.raises(ValueError, match=r"minima must have 2 dimension\(s\), got shape \(2,\)"):
        Surface(domain=((-1.0, 1.0), (0.0, 1.0)), minima=np.zeros(2), **kwargs)
    built = Surface(domain=((-1.0, 1.0), (0.0, 1.0)), minima=np.zeros((1, 2)), **kwargs)
    assert built.torch_expr == "" and built.constants == {}
