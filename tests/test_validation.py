import numpy as np
import pytest

from lossviz._validation import check_array, check_choice, check_int, check_scalar


def test_check_scalar_accepts_numbers_in_range_and_returns_float():
    assert check_scalar(np.float32(0.5), "lr", low=0) == 0.5
    assert isinstance(check_scalar(3, "lr", low=0), float)


@pytest.mark.parametrize(
    "value, kwargs, exc, match",
    [
        (-0.1, {"low": 0}, ValueError, r"lr must be in \[0, inf\), got -0.1"),
        (0.0, {"low": 0, "include_low": False}, ValueError, r"lr must be in \(0, inf\), got 0.0"),
        (1.0, {"high": 1, "include_high": False}, ValueError, r"lr must be in \(-inf, 1\), got 1.0"),
        (float("nan"), {}, ValueError, "lr must be a finite number"),
        (float("inf"), {}, ValueError, "lr must be a finite number"),
        ("0.1", {}, TypeError, "lr must be a real number, got '0.1' of type str"),
        (True, {}, TypeError, "lr must be a real number"),
    ],
)
def test_check_scalar_names_parameter_value_and_range(value, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        check_scalar(value, "lr", **kwargs)


def test_check_int():
    assert check_int(np.int64(5), "steps", low=0) == 5
    with pytest.raises(ValueError, match=r"steps must be an integer in \[0, 10\], got 11"):
        check_int(11, "steps", low=0, high=10)
    with pytest.raises(TypeError, match="steps must be an integer, got 2.5"):
        check_int(2.5, "steps")


def test_check_choice_lists_valid_names():
    assert check_choice("adam", "optimizer", ["sgd", "adam"]) == "adam"
    with pytest.raises(ValueError, match="unknown optimizer 'adma'; valid names: sgd, adam"):
        check_choice("adma", "optimizer", ["sgd", "adam"])


def test_check_array_shapes_and_finiteness():
    assert check_array([[1, 2]], "x0", last_dim=2).dtype == np.float64
    with pytest.raises(ValueError, match=r"x0 must have shape \(\.\.\., 2\), got shape \(3,\)"):
        check_array([1, 2, 3], "x0", last_dim=2)
    with pytest.raises(ValueError, match="x0 must have 1 dimension"):
        check_array([[1.0]], "x0", ndim=1)
    with pytest.raises(ValueError, match="x0 must contain only finite numbers"):
        check_array([1.0, np.nan], "x0")
    with pytest.raises(TypeError, match="x0 must be an array of numbers"):
        check_array(["a"], "x0")


def test_check_objective_and_start():
    from lossviz import surfaces
    from lossviz._validation import check_objective, check_start

    assert check_objective(surfaces.get("booth")) == 2
    with pytest.raises(TypeError, match="objective must have f\\(params\\) and grad\\(params\\), got int"):
        check_objective(3)

    class NoDim:
        def f(self, p): ...
        def grad(self, p): ...

    with pytest.raises(TypeError, match="integer attribute dim >= 1, got dim=None"):
        check_objective(NoDim())
    assert check_start([1, 2], 2).shape == (2,)
    with pytest.raises(ValueError,
                       match=r"x0 must have shape \(2,\) for an objective with dim=2, got shape \(3,\)"):
        check_start([1, 2, 3], 2)
