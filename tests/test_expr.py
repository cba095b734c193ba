"""lossviz.expr: typed formulas are parsed, never run; values and derivatives match references.

References: hand-written NumPy formulas, central finite differences, SymPy's own whole-expression
derivatives (through ``sympy.lambdify`` here in the test, on expressions written in this file) and
torch autograd on the exported ``torch_expr``.
"""
from __future__ import annotations

import ast
import builtins
import dataclasses
import operator
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lossviz import expr, surfaces

# --------------------------------------------------------------------------------------------------
# Hostile input: every entry is refused with a ValueError whose message names the problem (and,
# where there is one, the column).
# --------------------------------------------------------------------------------------------------

HOSTILE = [
    # attribute and dunder access
    ("x.__class__", r"attribute access \('\.__class__'\) is not allowed at column 2"),
    ("().__class__.__bases__[0].__subclasses__()", r"attribute access \('\.__subclasses__'\)"),
    ("x.real", r"attribute access \('\.real'\) is not allowed at column 2"),
    ("sin.__globals__", r"attribute access \('\.__globals__'\)"),
    ("(1).__class__", r"attribute access"),
    ("__builtins__", r"unknown name '__builtins__' at column 1; use x and y"),
    ("__import__('os').system('touch pwned')", r"attribute access \('\.system'\)"),
    ("__import__('os')", r"unknown function '__import__' at column 1; only these functions are allowed: sin"),
    ("open('f', 'w')", r"unknown function 'open' at column 1"),
    ("open('pwned', 'w').write('x')", r"attribute access \('\.write'\)"),
    ("eval('1')", r"unknown function 'eval'"),
    ("exec('import os')", r"unknown function 'exec'"),
    ("compile('1', 'f', 'eval')", r"unknown function 'compile'"),
    ("getattr(x, 'real')", r"unknown function 'getattr'"),
    ("globals()", r"unknown function 'globals'"),
    ("breakpoint()", r"unknown function 'breakpoint'"),
    ("print(x)", r"unknown function 'print'"),
    ("sin(x).__class__", r"attribute access"),
    # lambda, comprehensions, containers, calls in disguise
    ("lambda: 1", r"lambda is not allowed at column 1"),
    ("(lambda q: q)(1)", r"lambda is not allowed at column 2"),
    ("[x for x in (1, 2)]", r"comprehensions are not allowed at column 1"),
    ("{x: 1 for x in y}", r"comprehensions are not allowed"),
    ("(x for x in y)", r"generator expressions are not allowed"),
    ("{x: 1}", r"dictionaries are not allowed"),
    ("{x}", r"sets are not allowed"),
    ("[x, y]", r"lists are not allowed"),
    ("x, y", r"tuples \(a comma outside a function call\) are not allowed"),
    ("max(*[x, y])", r"starred arguments \(\*args\) are not allowed at column 5"),
    ("sin(*x)", r"starred arguments"),
    ("sin(x=1)", r"keyword arguments are not allowed at column 5"),
    ("max(x, y, key=abs)", r"keyword arguments are not allowed at column 11"),
    ("sin(**{})", r"keyword arguments are not allowed"),
    ("x[0]", r"subscripts \(\[\.\.\.\]\) are not allowed at column 1"),
    ("x[::2]", r"subscripts"),
    # statements, line breaks, control characters
    ("import os", r"syntax error at column 1"),
    ("x = 1", r"syntax error at column"),
    ("x; import os", r"';' at column 2: statements are not allowed"),
    ("x\nimport os", r"line break at column 2"),
    ("x\r\ny", r"line break at column 2"),
    ("x\x00", r"NUL byte at column 2"),
    ("\x1b[31mx", r"control character U\+001B at column 1"),
    ("x # comment", r"'#' at column 3: comments are not allowed"),
    ("x \\ y", r"backslash at column 3"),
    ("", r"empty formula"),
    ("   ", r"empty formula"),
    ("\t \t", r"empty formula"),
    # strings, bytes and constants that are not numbers
    ("'x'", r"a string is not allowed at column 1"),
    ('"x" * 3', r"a string is not allowed at column 1"),
    ("b'x'", r"a bytes literal is not allowed"),
    ("f'{x}'", r"f-strings are not allowed at column 1"),
    ("True", r"True \(a boolean, not a number\) is not allowed at column 1"),
    ("x + False", r"False \(a boolean, not a number\) is not allowed at column 5"),
    ("None", r"None is not allowed at column 1"),
    ("...", r"Ellipsis is not allowed"),
    ("1j", r"a complex number is not allowed at column 1"),
    ("x * 2j", r"a complex number is not allowed at column 5"),
    # operators outside the grammar
    ("x if y else 1", r"if-expressions are not allowed"),
    ("x < y", r"comparisons are not allowed"),
    ("x == y", r"comparisons are not allowed"),
    ("x and y", r"'and' / 'or' are not allowed"),
    ("not x", r"operator 'not' is not allowed at column 1"),
    ("~x", r"operator '~' is not allowed"),
    ("x % y", r"operator '%' is not allowed at column 1; use \+ - \* / and \*\* \(or \^\)"),
    ("x // y", r"operator '//' is not allowed"),
    ("x @ y", r"operator '@' is not allowed"),
    ("x << 2", r"operator '<<' is not allowed"),
    ("x | y", r"operator '\|' is not allowed"),
    ("x & y", r"operator '&' is not allowed"),
    ("(z := 1)", r"':=' assignments are not allowed at column 2"),
    ("await x", r"await is not allowed"),
    ("yield x", r"syntax error at column 1"),
    # names and functions outside the whitelist, wrong arity
    ("z + 1", r"unknown name 'z' at column 1; use x and y"),
    ("x + X", r"unknown name 'X' at column 5"),
    ("foo(x)", r"unknown function 'foo' at column 1; only these functions are allowed: .*arctan"),
    ("sin", r"'sin' at column 1 is a function: write sin\(\.\.\.\)"),
    ("sin(x, y)", r"sin at column 1 takes exactly one argument, got 2"),
    ("max(x)", r"max at column 1 takes at least two arguments, got 1"),
    ("min()", r"min at column 1 takes at least two arguments, got 0"),
    ("x(y)", r"'x' at column 1 is not a function: for a product write x\*\(\.\.\.\)"),
    # numbers and powers too large to build
    ("9**9**9", r"exponent 9\*\*9 at column 4 is too large: exponents are limited to 100"),
    ("9^9^9", r"exponent 9\^9 at column 3 is too large"),
    ("10**10**10", r"exponent 10\*\*10 at column 5 is too large"),
    ("x**101", r"exponent 101 at column 4 is too large"),
    ("2**1000", r"exponent 1000 at column 4"),
    ("1000000**100", r"1000000\*\*100 at column 1 is too large to compute"),
    ("e^e^e^e", r"exponent e\^e\^e at column 3 is too large"),
    ("exp(999999)", r"'exp\(999999\)' at column 1 is infinite or too large to compute"),
    ("1e309", r"the number 1e309 at column 1 is too large: numbers are limited to 1e\+06"),
    ("x + 1e7", r"the number 1e7 at column 5 is too large"),
    ("1" * 200, r"the number 1{200} at column 1 is too large"),
    # undefined or complex constants, formulas defined nowhere
    ("1/0", r"division by zero at column 3"),
    ("log(0)", r"'log\(0\)' at column 1 is infinite or too large to compute"),
    ("0**-1", r"'0\*\*-1' at column 1 is infinite"),
    ("x + 1/(2-2)", r"'1/\(2-2\)' at column 5 is infinite"),
    ("sqrt(-1)", r"'sqrt\(-1\)' at column 1 is not a real number"),
    ("x/(x-x)", r"no finite value anywhere in the domain x in \[-3, 3\], y in \[-3, 3\]"),
    ("(-8)**(1/3)", r"'\(-8\)\*\*\(1/3\)' at column 1 is not a real number"),
    ("log(-x^2-1)", r"no finite value anywhere in the domain"),
    # size limits
    ("x" + "+x" * 200, r"formula is 401 characters long; the limit is 300"),
    ("x" * 10**6, r"characters long; the limit is 300"),
    ("+".join(["x"] * 140), r"formula has 279 parts .*the limit is 250"),
    ("(" * 41 + "x" + ")" * 41, r"parentheses nested deeper than 40 levels at column 41"),
    ("-" * 41 + "x", r"formula is nested deeper than 40 levels at column 41"),
    ("-sin(" * 25 + "x" + ")" * 25, r"formula is nested deeper than 40 levels"),
    # non-ASCII look-alikes
    ("\u0445 + y", r"character 'х' \(CYRILLIC SMALL LETTER HA\) at column 1 is not allowed"),
    ("\uff58 + y", r"FULLWIDTH LATIN SMALL LETTER X.*type the plain 'x' instead"),
    ("x \u2212 y", r"MINUS SIGN\) at column 3.*type the plain '-' instead"),
    ("x\u00b2", r"SUPERSCRIPT TWO.*type the plain '\^2' instead"),
    ("x + y\u200b", r"ZERO WIDTH SPACE\) at column 6"),
    ("\u0455in(x)", r"CYRILLIC SMALL LETTER DZE"),
    ("x\u00a0+ y", r"NO-BREAK SPACE"),
    ("\U0001d465 + y", r"MATHEMATICAL ITALIC SMALL X"),
    ("x\ud800", r"\(U\+D800\) at column 2"),
    ("\u2028x", r"LINE SEPARATOR\) at column 1"),
    # products written the paper way, syntax errors
    ("2x", r"implicit multiplication at column 1 is not supported: write 2\*x"),
    ("x + 1.5y", r"implicit multiplication at column 5 is not supported: write 1\.5\*y"),
    ("2(x+1)", r"implicit multiplication at column 2 is not supported: write \* before '\('"),
    ("(x+1)(y+1)", r"implicit multiplication at column 6"),
    ("sin(x)(y)", r"implicit multiplication"),
    ("x y", r"syntax error at column 3"),
    ("(x + 1", r"unbalanced parenthesis at column 1: '\(' was never closed"),
    ("x + 1)", r"unbalanced parenthesis at column 6"),
    ("x +", r"the formula ends too early"),
    ("x ** ** 2", r"syntax error at column"),
]


def test_corpus_is_large_and_unique() -> None:
    texts = [text for text, _ in HOSTILE]
    assert len(set(texts)) == len(texts) >= 60


@pytest.mark.parametrize(("text", "message"), HOSTILE, ids=[repr(t[:30]) for t, _ in HOSTILE])
def test_hostile_input_is_refused_with_a_message_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        expr.parse(text)


@pytest.mark.parametrize("not_text", [None, b"x", 3, 1.5, ["x"], {"formula": "x"}])
def test_non_text_is_a_type_error(not_text: object) -> None:
    with pytest.raises(TypeError, match="formula must be a str"):
        expr.parse(not_text)  # type: ignore[arg-type]


# An audit hook cannot be removed, so it records only while a test switches it on.
_AUDIT: dict[str, object] = {"on": False, "events": []}
_AUDITED_EVENTS = {
    "exec", "compile", "open", "import", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
    "os.fork", "os.remove", "os.rename", "os.mkdir", "subprocess.Popen", "socket.connect",
    "ctypes.dlopen", "builtins.input", "shutil.rmtree",
}  # fmt: skip


def _audit(event: str, args: tuple) -> None:
    if _AUDIT["on"] and event in _AUDITED_EVENTS:
        detail = str(args[1]) if event == "compile" else repr(args)[:200]  # compile: the file name
        _AUDIT["events"].append((event, detail))  # type: ignore[union-attr]


sys.addaudithook(_audit)


def test_corpus_executes_nothing(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """Run every hostile input with the dangerous builtins booby-trapped and auditing on."""
    monkeypatch.chdir(tmp_path)
    for text, _ in HOSTILE:  # warm SymPy's lazy imports and caches up, so the passes below see none
        with pytest.raises(ValueError):
            expr.parse(text)
    # First pass: the builtins that could run or touch anything are booby-trapped.
    calls: list[str] = []

    def trap(name: str):  # noqa: ANN202
        def trapped(*args: object, **kwargs: object) -> None:
            calls.append(name)
            raise AssertionError(f"{name} was called while parsing")

        return trapped

    real_compile = builtins.compile

    def ast_only_compile(source, filename, mode, flags=0, *args, **kwargs):  # noqa: ANN001, ANN202
        # ast.parse is compile(..., flags=PyCF_ONLY_AST): a tree, nothing that can run.
        if not flags & ast.PyCF_ONLY_AST:
            calls.append("compile to code")
            raise AssertionError("compile to code object while parsing")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    real_import = builtins.__import__

    def known_imports_only(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002, ANN001
        if level == 0 and name not in sys.modules:
            calls.append(f"import {name}")
        return real_import(name, globals, locals, fromlist, level)

    for name in ("eval", "exec", "open", "input", "breakpoint"):
        monkeypatch.setattr(builtins, name, trap(name))
    monkeypatch.setattr(builtins, "compile", ast_only_compile)
    monkeypatch.setattr(builtins, "__import__", known_imports_only)
    monkeypatch.setattr(os, "system", trap("os.system"))
    monkeypatch.setattr(os, "popen", trap("os.popen"))
    monkeypatch.setattr(subprocess, "Popen", trap("subprocess.Popen"))

    def run_corpus() -> list[str]:
        problems = []
        for text, _ in HOSTILE:
            try:
                expr.parse(text)
            except ValueError as error:
                if not str(error):
                    problems.append(f"{text!r}: empty message")
            except Exception as error:  # noqa: BLE001 - any other exception is the finding
                problems.append(f"{text!r}: {type(error).__name__}: {error}")
            else:
                problems.append(f"{text!r} was accepted")
        return problems

    assert run_corpus() == []
    monkeypatch.undo()  # the builtins are back before anything else in pytest runs
    assert calls == []
    monkeypatch.chdir(tmp_path)

    # Second pass, audited: parsing hostile text opens, imports, compiles-to-run and spawns nothing.
    _AUDIT["events"] = []
    _AUDIT["on"] = True
    try:
        problems = run_corpus()
    finally:
        _AUDIT["on"] = False
    assert problems == []
    events = [(event, args) for event, args in _AUDIT["events"] if event != "compile"]
    assert events == []
    # "compile" events come from ast.parse itself (shown above to ask for a tree only).
    compiled = {filename for event, filename in _AUDIT["events"] if event == "compile"}
    assert compiled <= {"<unknown>"}
    assert list(tmp_path.iterdir()) == []


def test_limits_are_boundaries() -> None:
    expr.parse("x" + " " * (expr.MAX_LENGTH - 3) + "+y")
    with pytest.raises(ValueError, match="characters long"):
        expr.parse("x" + " " * (expr.MAX_LENGTH - 2) + "+y")
    expr.parse("-" * (expr.MAX_DEPTH - 1) + "x")
    with pytest.raises(ValueError, match="nested deeper"):
        expr.parse("-" * expr.MAX_DEPTH + "x")
    expr.parse("(" * expr.MAX_DEPTH + "x" + ")" * expr.MAX_DEPTH)
    expr.parse(f"x^{expr.MAX_EXPONENT} + y^-{expr.MAX_EXPONENT}")
    with pytest.raises(ValueError, match="exponent"):
        expr.parse(f"x^-{expr.MAX_EXPONENT + 1}")
    expr.parse(f"{expr.MAX_LITERAL:.0f}*x")
    with pytest.raises(ValueError, match="too large"):
        expr.parse(f"{expr.MAX_LITERAL:.0f}1*x")


def test_a_long_flat_sum_is_long_not_deep() -> None:
    s = expr.parse("+".join(["x"] * 60) + "-y/2/2")
    assert float(s.f([1.5, 2.0])) == pytest.approx(60 * 1.5 - 0.5)


# --------------------------------------------------------------------------------------------------
# Valid formulas: values against hand-written NumPy
# --------------------------------------------------------------------------------------------------

VALID = [
    ("(1-x)**2 + 100*(y-x**2)**2", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2),
    ("(1-x)^2 + 100*(y-x^2)^2", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2),
    ("sin(x)*cos(y) + 0.1*(x^2+y^2)", lambda x, y: np.sin(x) * np.cos(y) + 0.1 * (x**2 + y**2)),
    ("abs(x) + y^2", lambda x, y: np.abs(x) + y**2),
    ("-x^2 + 2^3^2 * y", lambda x, y: -(x**2) + 512 * y),
    ("x^-2 + 2**-1*y", lambda x, y: x**-2.0 + 0.5 * y),
    ("1.5e-3*x + 2E2*y - .5 + 1.", lambda x, y: 1.5e-3 * x + 200 * y - 0.5 + 1.0),
    ("pi*x + e*y", lambda x, y: np.pi * x + np.e * y),
    ("e^x - exp(y)", lambda x, y: np.exp(x) - np.exp(y)),
    ("tan(x/3) + tanh(y) + sinh(x/2) - cosh(y/2)",
     lambda x, y: np.tan(x / 3) + np.tanh(y) + np.sinh(x / 2) - np.cosh(y / 2)),
    ("arctan(x) + atan(2*y)", lambda x, y: np.arctan(x) + np.arctan(2 * y)),
    ("log(x^2 + 1) + ln(y^2 + 2) + sqrt(x^2 + y^2)",
     lambda x, y: np.log(x**2 + 1) + np.log(y**2 + 2) + np.hypot(x, y)),
    ("min(x, y) + max(x, y, 0.5, x*y)",
     lambda x, y: np.minimum(x, y) + np.maximum.reduce([x, y, 0.5 + 0 * x, x * y])),
    ("abs(log(abs(x) + 0.5)) * y", lambda x, y: np.abs(np.log(np.abs(x) + 0.5)) * y),
    ("x / (1 + y^2) - +y", lambda x, y: x / (1 + y**2) - y),
    ("(x^2 + 1)^(y/4)", lambda x, y: (x**2 + 1) ** (y / 4)),
    ("  x*y  ", lambda x, y: x * y),
    ("7", lambda x, y: 7.0 + 0 * x),
    ("sin(2)*x", lambda x, y: np.sin(2) * x),
]  # fmt: skip


@pytest.mark.parametrize(("text", "reference"), VALID, ids=[t for t, _ in VALID])
def test_value_matches_hand_written_numpy(text: str, reference) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    points = rng.uniform(-2.5, 2.5, size=(200, 2))
    s = expr.parse(text)
    expected = reference(points[:, 0], points[:, 1])
    np.testing.assert_allclose(s.f(points), expected, rtol=1e-12, atol=1e-12)


def test_broadcasts_over_leading_axes_like_other_surfaces() -> None:
    s = expr.parse("sin(x)*y^2 + max(x, y)")
    rng = np.random.default_rng(1)
    points = rng.normal(size=(3, 4, 2))
    assert s.f(points).shape == (3, 4)
    assert s.grad(points).shape == (3, 4, 2)
    assert s.hessian(points).shape == (3, 4, 2, 2)
    assert s.f(points[0, 0]).shape == ()
    assert s.grad(points[0, 0]).shape == (2,)
    assert s.hessian(points[0, 0]).shape == (2, 2)
    for i in range(3):
        for j in range(4):
            assert s.f(points[i, j]) == s.f(points)[i, j]
            np.testing.assert_array_equal(s.grad(points[i, j]), s.grad(points)[i, j])
            np.testing.assert_array_equal(s.hessian(points[i, j]), s.hessian(points)[i, j])
    constant = expr.parse("3")
    assert constant.f(points).shape == (3, 4)
    np.testing.assert_array_equal(constant.grad(points), np.zeros((3, 4, 2)))
    np.testing.assert_array_equal(constant.hessian(points), np.zeros((3, 4, 2, 2)))


def test_surface_fields() -> None:
    s = expr.parse(" sin(x) * cos(y) ", domain=[[-1, 2], (0, 4.5)])
    assert isinstance(s, surfaces.Surface)
    assert s.name == "custom"
    assert s.domain == ((-1.0, 2.0), (0.0, 4.5))
    assert s.params == {"formula": "sin(x) * cos(y)", "domain": ((-1.0, 2.0), (0.0, 4.5))}
    assert s.minima.shape == (0, 2)
    assert s.min_value is None
    assert "Your formula" in s.lesson and "sin(x) * cos(y)" in s.lesson
    assert s.dim == 2


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("(1-x)^2 + 100*(y-x^2)^2", r"\left(1 - x\right)^{2} + 100 \left(y - x^{2}\right)^{2}"),
        ("sin(x)*cos(y) + 0.1*(x**2+y**2)",
         r"\sin\left(x\right) \cos\left(y\right) + 0.1 \left(x^{2} + y^{2}\right)"),
        ("abs(x) + sqrt(y) - ln(x)/atan(y)",
         r"\left|x\right| + \sqrt{y} - \frac{\ln\left(x\right)}{\arctan\left(y\right)}"),
        ("-x^2 + 2^3^2*(-y)", r"-x^{2} + 2^{3^{2}} \left(-y\right)"),
        ("(x^y)^2 * 3 - (x - y)", r"\left(x^{y}\right)^{2} \cdot 3 - \left(x - y\right)"),
        ("max(x, 0, pi) + e^x + 1.5e-7", r"\max\left(x, 0, \pi\right) + e^{x} + 1.5 \cdot 10^{-7}"),
    ],
)
def test_latex_reads_as_typed(text: str, latex: str) -> None:
    assert expr.parse(text).latex == latex


def test_log_scale_for_values_spanning_decades() -> None:
    assert expr.parse("(1-x)^2 + 100*(y-x^2)^2").log_scale
    assert not expr.parse("x^2 + y^2").log_scale
    assert not expr.parse("sin(x) + y").log_scale


# --------------------------------------------------------------------------------------------------
# Derivatives: SymPy's whole-expression diff, finite differences, hypothesis-drawn formulas
# --------------------------------------------------------------------------------------------------

_X, _Y = sympy.symbols("x y", real=True)

DIFFERENTIABLE = [
    ("(1-x)^2 + 100*(y-x^2)^2", (1 - _X) ** 2 + 100 * (_Y - _X**2) ** 2),
    ("sin(x)*cos(y) + 0.1*(x^2+y^2)",
     sympy.sin(_X) * sympy.cos(_Y) + sympy.Rational(1, 10) * (_X**2 + _Y**2)),
    ("x^y", _X**_Y),
    ("exp(x*y)/(1+x^2)", sympy.exp(_X * _Y) / (1 + _X**2)),
    ("tan(x)*tanh(y) + atan(x*y) + sinh(x)*cosh(y)",
     sympy.tan(_X) * sympy.tanh(_Y) + sympy.atan(_X * _Y) + sympy.sinh(_X) * sympy.cosh(_Y)),
    ("sqrt(x^2 + y^2 + 1) * log(x + 3)", sympy.sqrt(_X**2 + _Y**2 + 1) * sympy.log(_X + 3)),
    ("2^x * y^3 - (x*y)^(1/3)", 2**_X * _Y**3 - (_X * _Y) ** sympy.Rational(1, 3)),
    ("x^2.5 + y^-2", _X**2.5 + _Y**-2),
    ("(x+1)*(x+2)*(x+3)*(y+1)*(y-2)*(x*y+1)*sin(x)*cos(y)",
     (_X + 1) * (_X + 2) * (_X + 3) * (_Y + 1) * (_Y - 2) * (_X * _Y + 1) * sympy.sin(_X) * sympy.cos(_Y)),
    ("x^y^x", _X ** (_Y**_X)),
]  # fmt: skip


@pytest.mark.parametrize(("text", "reference"), DIFFERENTIABLE, ids=[t for t, _ in DIFFERENTIABLE])
def test_gradient_and_hessian_match_sympy_whole_expression_diff(text: str, reference: sympy.Expr) -> None:
    gradient = [sympy.diff(reference, v) for v in (_X, _Y)]
    hessian = [[sympy.diff(g, v) for v in (_X, _Y)] for g in gradient]
    grad_fn = sympy.lambdify((_X, _Y), gradient, "numpy")
    hess_fn = sympy.lambdify((_X, _Y), hessian, "numpy")
    rng = np.random.default_rng(2)
    points = rng.uniform(0.2, 1.8, size=(100, 2))  # positive: x^y and (x*y)^(1/3) are real there
    s = expr.parse(text)
    def evaluate(entries):  # noqa: ANN001, ANN202 - nested lists of arrays and plain numbers
        if isinstance(entries, list):
            return np.stack([evaluate(entry) for entry in entries], axis=-1)
        return np.broadcast_to(np.asarray(entries, dtype=float), (len(points),))

    expected_grad = evaluate(grad_fn(points[:, 0], points[:, 1]))
    expected_hess = evaluate(hess_fn(points[:, 0], points[:, 1]))
    np.testing.assert_allclose(s.grad(points), expected_grad, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(s.hessian(points), expected_hess, rtol=1e-10, atol=1e-10)


def _central_gradient(f, p: np.ndarray, h: float = 1e-6) -> np.ndarray:  # noqa: ANN001
    steps = np.eye(2) * h
    return np.array([(f(p + e) - f(p - e)) / (2 * h) for e in steps])


def _central_hessian(grad, p: np.ndarray, h: float = 1e-5) -> np.ndarray:  # noqa: ANN001
    steps = np.eye(2) * h
    return np.stack([(grad(p + e) - grad(p - e)) / (2 * h) for e in steps], axis=-1)


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(0, len(DIFFERENTIABLE) - 1),
    point=st.tuples(st.floats(0.2, 1.8), st.floats(0.2, 1.8)),
)
def test_gradient_and_hessian_match_central_differences(index: int, point: tuple[float, float]) -> None:
    s = _parsed(DIFFERENTIABLE[index][0])
    p = np.array(point)
    g = s.grad(p)
    np.testing.assert_allclose(g, _central_gradient(s.f, p), rtol=1e-5, atol=1e-5 * (1 + abs(float(s.f(p)))))
    h = s.hessian(p)
    np.testing.assert_allclose(h, h.T, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(h, _central_hessian(s.grad, p), rtol=1e-4, atol=1e-4 * (1 + np.abs(g).max()))


_PARSED: dict[str, surfaces.Surface] = {}


def _parsed(text: str) -> surfaces.Surface:
    if text not in _PARSED:
        _PARSED[text] = expr.parse(text)
    return _PARSED[text]


def _formulas() -> st.SearchStrategy:
    """(text, numpy function) pairs drawn from the smooth part of the grammar."""
    variables = st.sampled_from([("x", lambda x, y: x), ("y", lambda x, y: y)])
    numbers = st.integers(-30, 30).map(
        lambda n: (f"({n / 10})" if n < 0 else f"{n / 10}", lambda x, y, c=n / 10: c + 0 * x)
    )

    def extend(children: st.SearchStrategy) -> st.SearchStrategy:
        binary = st.tuples(children, children, st.sampled_from(["+", "-", "*"])).map(
            lambda t: (
                f"({t[0][0]}) {t[2]} ({t[1][0]})",
                {
                    "+": lambda x, y, a=t[0][1], b=t[1][1]: a(x, y) + b(x, y),
                    "-": lambda x, y, a=t[0][1], b=t[1][1]: a(x, y) - b(x, y),
                    "*": lambda x, y, a=t[0][1], b=t[1][1]: a(x, y) * b(x, y),
                }[t[2]],
            )
        )
        quotient = st.tuples(children, children).map(
            lambda t: (
                f"({t[0][0]}) / (1 + ({t[1][0]})^2)",
                lambda x, y, a=t[0][1], b=t[1][1]: a(x, y) / (1 + b(x, y) ** 2),
            )
        )
        unary = st.tuples(
            children,
            st.sampled_from(
                [
                    ("sin({})", np.sin),
                    ("cos({})", np.cos),
                    ("tanh({})", np.tanh),
                    ("atan({})", np.arctan),
                    ("exp({})", np.exp),
                    ("({})^2", np.square),
                    ("({})**3", lambda u: u**3),
                    ("sqrt(1 + ({})^2)", lambda u: np.sqrt(1 + u**2)),
                    ("log(1 + ({})^2)", lambda u: np.log(1 + u**2)),
                    ("-({})", np.negative),
                ]
            ),
        ).map(lambda t: (t[1][0].format(t[0][0]), lambda x, y, a=t[0][1], f=t[1][1]: f(a(x, y))))
        return binary | quotient | unary

    return st.recursive(variables | numbers, extend, max_leaves=6)


@settings(max_examples=80, deadline=None)
@given(formula=_formulas(), point=st.tuples(st.floats(-2, 2), st.floats(-2, 2)))
def test_random_formulas_value_and_derivatives(formula, point: tuple[float, float]) -> None:  # noqa: ANN001
    text, reference = formula
    try:
        s = expr.parse(text)
    except ValueError as error:
        # Constant pieces may fold to something non-real or huge (exp(exp(3))^3); that refusal is fine.
        assume("too large" not in str(error) and "no finite value" not in str(error))
        raise
    p = np.array(point)
    with np.errstate(all="ignore"):
        expected = reference(p[0], p[1])
    value = float(s.f(p))
    assume(np.isfinite(expected) and abs(expected) < 1e4)
    assert value == pytest.approx(expected, rel=1e-9, abs=1e-9)
    g = s.grad(p)
    assume(np.all(np.isfinite(g)) and np.abs(g).max() < 1e4)
    with np.errstate(all="ignore"):
        fd = _central_gradient(lambda q: reference(q[0], q[1]), p)
    np.testing.assert_allclose(g, fd, rtol=1e-4, atol=1e-4 * (1 + abs(value)))
    h = s.hessian(p)
    assume(np.all(np.isfinite(h)) and np.abs(h).max() < 1e4)
    np.testing.assert_allclose(h, _central_hessian(s.grad, p), rtol=1e-3, atol=1e-3 * (1 + np.abs(g).max()))


def _grammar_texts() -> st.SearchStrategy:
    """Any formula of the grammar: kinks, poles, odd powers, constants that overflow, ties."""
    leaves = st.sampled_from(["x", "y", "pi", "e", "0", "1", "2", "0.5", "-1", "1e-3", "999999", "2e2"])

    def extend(children: st.SearchStrategy) -> st.SearchStrategy:
        binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^", "**"]), children).map(
            lambda t: f"({t[0]}){t[1]}({t[2]})"
        )
        unary = st.tuples(st.sampled_from([*expr.FUNCTIONS[:-2], "-", "+"]), children).map(
            lambda t: f"{t[0]}({t[1]})"
        )
        variadic = st.tuples(st.sampled_from(["min", "max"]), st.lists(children, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        )
        return binary | unary | variadic

    return st.recursive(leaves, extend, max_leaves=10)


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(_grammar_texts(), st.text(max_size=30)))
def test_any_text_gives_a_surface_or_a_value_error(text: str) -> None:
    try:
        s = expr.parse(text)
    except ValueError as error:
        assert str(error)
        return
    points = np.array([[0.0, 0.0], [1.0, -1.0], [-2.5, 0.5], [1e-9, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert s.f(points).shape == (4,)
        assert s.grad(points).shape == (4, 2)
        assert s.hessian(points).shape == (4, 2, 2)
        assert isinstance(s.latex, str) and s.latex


# --------------------------------------------------------------------------------------------------
# Kinks and gaps
# --------------------------------------------------------------------------------------------------


def test_abs_min_max_have_the_documented_subgradient() -> None:
    s = expr.parse("abs(x) + abs(y - 1)")
    np.testing.assert_array_equal(s.grad([0.0, 1.0]), [0.0, 0.0])
    np.testing.assert_array_equal(s.grad([-2.0, 3.0]), [-1.0, 1.0])
    np.testing.assert_array_equal(s.hessian([0.0, 1.0]), np.zeros((2, 2)))  # the Dirac delta is dropped
    # abs of something SymPy cannot prove real still differentiates as sign(u) u'.
    np.testing.assert_allclose(expr.parse("abs(log(x))").grad([[1.0, 0.0], [0.5, 0.0], [2.0, 0.0]]),
                               [[0.0, 0.0], [-2.0, 0.0], [0.5, 0.0]])  # fmt: skip
    tie = np.array([0.7, 0.7])
    np.testing.assert_array_equal(expr.parse("max(x, y)").grad(tie), [0.5, 0.5])
    np.testing.assert_array_equal(expr.parse("min(x, y)").grad(tie), [0.5, 0.5])
    np.testing.assert_array_equal(expr.parse("max(x, y)").grad([2.0, 1.0]), [1.0, 0.0])
    np.testing.assert_array_equal(expr.parse("min(x, y)").grad([2.0, 1.0]), [0.0, 1.0])
    np.testing.assert_array_equal(expr.parse("max(x^2, y)").hessian([2.0, 1.0]), [[2.0, 0.0], [0.0, 0.0]])


def test_undefined_regions_are_nan_gaps_without_warnings() -> None:
    xs = np.array([-1.0, 0.0, 1.0])
    points = np.stack([xs, np.ones(3)], axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log = expr.parse("log(x) + y")
        values, grads, hessians = log.f(points), log.grad(points), log.hessian(points)
        inverse = expr.parse("1/x")
        root = expr.parse("sqrt(x)")
        big = expr.parse("exp(1000*x)")
        inverse_values, root_values, big_values = inverse.f(points), root.f(points), big.f(points)
        mesh = np.stack(np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 4)), axis=-1)
        grid = expr.parse("log(x*y)").f(mesh)
    assert np.isnan(values[0]) and values[1] == -np.inf and values[2] == 1.0
    # Where f is undefined its derivatives are too, though the formula 1/x alone would be finite.
    assert np.all(np.isnan(grads[0])) and np.all(np.isnan(hessians[0]))
    np.testing.assert_array_equal(grads[2], [1.0, 1.0])
    np.testing.assert_array_equal(hessians[2], [[-1.0, 0.0], [0.0, 0.0]])
    assert inverse_values[1] == np.inf and inverse_values[0] == -1.0
    assert np.isnan(root_values[0]) and root_values[2] == 1.0
    assert big_values[2] == np.inf and big_values[0] == 0.0
    assert grid.shape == (4, 5) and np.isnan(grid).any() and np.isfinite(grid).any()


# --------------------------------------------------------------------------------------------------
# Domain and URL round trip
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "error", "message"),
    [
        (((1, -1), (0, 1)), ValueError, r"domain x-range must have xmin < xmax .* got \(1, -1\)"),
        (((0, 1), (2, 2)), ValueError, r"domain y-range must have ymin < ymax"),
        (((0, 1e-9), (0, 1)), ValueError, r"width at least 1e-06"),
        (((float("nan"), 1), (0, 1)), ValueError, r"domain xmin must be a finite number"),
        (((0, float("inf")), (0, 1)), ValueError, r"domain xmax must be a finite number"),
        (((0, 1), (-2e6, 1)), ValueError, r"domain ymin must be in \[-1e\+06, 1e\+06\]"),
        (((0, 1),), ValueError, r"domain must be \(\(xmin, xmax\), \(ymin, ymax\)\)"),
        ((0, 1, 2, 3), ValueError, r"domain must be"),
        (None, ValueError, r"domain must be"),
        ((("a", 1), (0, 1)), TypeError, r"domain xmin must be a real number"),
        (((True, 1), (0, 1)), TypeError, r"domain xmin must be a real number"),
    ],
)
def test_validate_domain_refuses(domain: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        expr.validate_domain(domain)
    with pytest.raises(error, match=message):
        expr.parse("x + y", domain=domain)


def test_validate_domain_returns_floats() -> None:
    assert expr.validate_domain(np.array([[-1, 1], [2, 3]])) == ((-1.0, 1.0), (2.0, 3.0))
    assert all(type(v) is float for pair in expr.validate_domain([(0, 1), (2, 3)]) for v in pair)



# --------------------------------------------------------------------------------------------------
# torch_expr: the export spelling is only the grammar, and torch autograd agrees with grad
# --------------------------------------------------------------------------------------------------

TORCH_CASES = [
    "(1-x)^2 + 100*(y-x^2)^2",
    "sin(x)*cos(y) + 0.1*(x^2+y^2) - pi*e",
    "abs(x) + ln(y + 3) + arctan(x*y) + sqrt(x^2 + 1)",
    "max(x, y, 0) - min(x^2, 2*y, sin(2))",
    "2^x / (1 + y^2) + exp(-x) * tanh(y) + sinh(x/4) - cosh(y/4) + tan(x/4)",
    "4",
]


def _run_torch(source: str, torch, x, y):  # noqa: ANN001, ANN202
    """Interpret torch_expr over a whitelist (no eval): x, y, numbers, + - * / **, torch.<function>."""
    binary = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Div: operator.truediv, ast.Pow: operator.pow}  # fmt: skip
    unary = {ast.USub: operator.neg, ast.UAdd: operator.pos}

    def walk(node: ast.AST):  # noqa: ANN202
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.Name) and node.id in ("x", "y"):
            return {"x": x, "y": y}[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in binary:
            return binary[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in unary:
            return unary[type(node.op)](walk(node.operand))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch":
            assert not node.attr.startswith("_")
            return getattr(torch, node.attr)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            keywords = {keyword.arg: walk(keyword.value) for keyword in node.keywords}
            return walk(node.func)(*[walk(argument) for argument in node.args], **keywords)
        raise AssertionError(f"torch_expr contains {ast.dump(node)}")

    return walk(ast.parse(source, mode="eval").body)


@pytest.mark.skipif(
    "torch_expr" not in {f.name for f in dataclasses.fields(surfaces.Surface)}, reason="no torch_expr field"
)
@pytest.mark.parametrize("text", TORCH_CASES)
def test_torch_expr_agrees_with_torch_autograd(text: str) -> None:
    torch = pytest.importorskip("torch")
    s = expr.parse(text)
    points = np.random.default_rng(4).uniform(-1.5, 1.5, size=(30, 2))
    x = torch.tensor(points[:, 0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor(points[:, 1], dtype=torch.float64, requires_grad=True)
    value = _run_torch(s.torch_expr, torch, x, y)
    value.sum().backward()
    np.testing.assert_allclose(value.detach().numpy(), s.f(points), rtol=1e-12, atol=1e-12)
    torch_grad = np.stack([x.grad.numpy(), y.grad.numpy()], axis=-1)
    np.testing.assert_allclose(torch_grad, s.grad(points), rtol=1e-10, atol=1e-10)


def test_module_has_no_code_execution_path() -> None:
    tree = ast.parse(open(expr.__file__, encoding="utf-8").read())  # noqa: SIM115
    names = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    attributes = {
        n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    }
    assert not names & {"eval", "exec", "compile", "__import__", "getattr", "lambdify", "sympify"}
    assert not attributes & {"eval", "exec", "lambdify", "sympify", "parse_expr", "__import__"}


@pytest.mark.parametrize("formula, words", [
    ("=1+2", "syntax error at column 1: '=' is not part of a formula: type only the right-hand side"),
    ("f(x, y) = x^2", "at column 9: '=' is not part of a formula"),
    ("<b>x</b>", "syntax error at column 1: '<' has no meaning in a formula (operators are + - * / ^)"),
    ("x ! y", "'!' has no meaning in a formula"),
])
def test_a_stray_symbol_is_named_instead_of_hinting_at_a_missing_operator(formula, words):
    """A walk typed "=1+2" (a spreadsheet habit) and got "is an operator such as '*' missing?"."""
    with pytest.raises(ValueError) as refused:
        expr.parse(formula)
    assert words in str(refused.value) and "missing" not in str(refused.value)
