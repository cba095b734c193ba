import numpy as np
import pytest

from lossviz.landscape import axes_for_domain, grid


class Plane:
    """f(x, y) = 3x - 5y + xy: asymmetric in x and y, so a transposed grid cannot pass."""

    def f(self, p):
        p = np.asarray(p)
        return 3 * p[..., 0] - 5 * p[..., 1] + p[..., 0] * p[..., 1]


def test_grid_follows_rows_y_columns_x_on_a_non_square_grid():
    xs = np.linspace(-1, 2, 7)
    ys = np.linspace(0, 1, 4)
    Z = grid(Plane(), xs, ys)
    assert Z.shape == (4, 7)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            assert Z[i, j] == pytest.approx(3 * x - 5 * y + x * y)


def test_grid_turns_non_finite_values_into_gaps():
    class Log:
        def f(self, p):
            return np.log(np.asarray(p)[..., 0])

    Z = grid(Log(), np.array([-1.0, 0.0, 1.0]), np.array([0.0, 1.0]))
    assert np.isnan(Z[:, 0]).all() and np.isnan(Z[:, 1]).all() and np.all(Z[:, 2] == 0.0)


def test_axes_cover_the_domain_with_separate_resolutions():
    xs, ys = axes_for_domain(((-2, 2), (-1, 3)), (5, 9))
    assert xs[0] == -2 and xs[-1] == 2 and xs.size == 5
    assert ys[0] == -1 and ys[-1] == 3 and ys.size == 9


@pytest.mark.parametrize(
    "domain, resolution, match",
    [
        (((1, 0), (0, 1)), 10, "domain"),
        (((0, 1), (0, np.inf)), 10, "domain"),
        (((0, 1), (0, 1)), 1, "resolution"),
        (((0, 1), (0, 1)), 5000, "resolution"),
    ],
)
def test_axes_refuse_bad_domain_or_resolution(domain, resolution, match):
    with pytest.raises(ValueError, match=match):
        axes_for_domain(domain, resolution)
