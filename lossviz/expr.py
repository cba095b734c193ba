"""Safe typed formulas: turn text such as ``(1-x)**2 + 100*(y-x**2)**2`` into a :class:`Surface`.

The text is never run. It is parsed by Python's :mod:`ast` (with ``^`` read as power) and the tree is
walked against a whitelist: numbers, ``x``, ``y``, ``pi``, ``e``, ``+ - * / ** ^``, unary minus/plus,
parentheses and calls of the functions in :data:`FUNCTIONS`. Every accepted node becomes a node of an
unevaluated SymPy expression; the LaTeX and the torch spelling are written from the checked tree.
The NumPy functions walk the SymPy graph (no code generation, no ``lambdify``), so nothing built
from the text is ever executed. Gradient and Hessian are exact: the derivative of each node's
function comes from ``sympy.diff`` and the chain rule carries it through the graph (see
``_Program``).

Grammar (what a teacher types)::

    formula  := number | x | y | pi | e
              | formula (+ | - | * | / | ** | ^) formula
              | (- | +) formula | ( formula )
              | name(formula)             name in sin cos tan exp log ln sqrt abs tanh sinh cosh
                                          arctan atan
              | min(formula, formula, ...) | max(formula, formula, ...)

Points where the formula is undefined (``log(x)`` for x <= 0, ``1/x`` at 0, ``sqrt(x)`` for x < 0)
give NaN or inf there, which figures show as gaps; no warning escapes. Where the formula has a kink
the derivatives use a fixed subgradient:

- ``abs(u)`` has derivative ``sign(u) * u'``, so slope 0 at ``u = 0``;
- ``min`` and ``max`` split the derivative evenly between two tied arguments (``Heaviside(0) = 1/2``;
  ``max(a, b, c)`` is ``max(max(a, b), c)``);
- the Dirac deltas that appear in second derivatives of kinks are taken as 0.

Every refusal is a ``ValueError`` that names the problem and its column (1-based), checked before any
expensive work, so nothing can hang or fill memory: at most :data:`MAX_LENGTH` characters,
:data:`MAX_NODES` syntax nodes, nesting :data:`MAX_DEPTH` deep, numbers up to :data:`MAX_LITERAL`,
and numeric exponents up to :data:`MAX_EXPONENT`. Derivatives are computed in time linear in the
formula (see ``_Program``), so no formula within these limits is slow.

Examples
--------
>>> from lossviz import expr
>>> s = expr.parse("(1-x)^2 + 100*(y-x^2)^2", domain=((-2, 2), (-1, 3)))
>>> float(s.f([1.0, 1.0])), s.grad([0.0, 0.0]).tolist()
(0.0, [-2.0, 0.0])
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import math
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import sympy

from lossviz import _ast
from lossviz._validation import check_scalar
from lossviz.surfaces import Domain, Surface

__all__ = [
    "parse",
    "validate_domain",
    "FUNCTIONS",
    "CONSTANTS",
    "DEFAULT_DOMAIN",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_DEPTH",
    "MAX_LITERAL",
    "MAX_EXPONENT",
    "MAX_DOMAIN_BOUND",
    "MIN_DOMAIN_WIDTH",
]

MAX_LENGTH = 300
MAX_NODES = 250
MAX_DEPTH = 40
MAX_LITERAL = 1e6
MAX_EXPONENT = 100
MAX_DOMAIN_BOUND = 1e6
MIN_DOMAIN_WIDTH = 1e-6
DEFAULT_DOMAIN: Domain = ((-3.0, 3.0), (-3.0, 3.0))

# The formula is read over the reals; real symbols keep SymPy's local derivative rules real too.
_X = sympy.Symbol("x", real=True)
_Y = sympy.Symbol("y", real=True)
CONSTANTS: dict[str, sympy.Expr] = {"x": _X, "y": _Y, "pi": sympy.pi, "e": sympy.E}


# SymPy's own Abs, sign, Max and Min differentiate through re/im/atan2 when they cannot prove an
# argument real (abs(log(x))), and Max/Min sort their arguments with evalf even unevaluated. These
# four carry only what lossviz needs: a real reading, and the subgradient conventions above.


class _RealSign(sympy.Function):
    """sign(u) for a real u; derivative 0 (the Dirac delta at u = 0 is dropped)."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.S.Zero


class _RealAbs(sympy.Function):
    """|u| for a real u; derivative sign(u), so 0 at the kink."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return _RealSign(self.args[0])


class _Max(sympy.Function):
    """max(a, b); at a tie each side gets half the derivative (Heaviside(0) = 1/2)."""

    nargs = 2

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        a, b = self.args
        return sympy.Heaviside(a - b) if argindex == 1 else sympy.Heaviside(b - a)


class _Min(sympy.Function):
    """min(a, b); at a tie each side gets half the derivative (Heaviside(0) = 1/2)."""

    nargs = 2

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        a, b = self.args
        return sympy.Heaviside(b - a) if argindex == 1 else sympy.Heaviside(a - b)


# The formula is built unevaluated (evaluate=False everywhere): SymPy's automatic simplification
# asks its assumption system questions whose cost has no bound (sqrt(...)^min(...) once expanded
# (log(x) - y^y)^100 into a 101-term polynomial inside a gcd, for seconds). Unevaluated, SymPy
# only holds the tree as typed, which is also the LaTeX a teacher wants to see.
_UNARY_FUNCTIONS: dict[str, Callable[[sympy.Expr], sympy.Expr]] = {
    "sin": functools.partial(sympy.sin, evaluate=False),
    "cos": functools.partial(sympy.cos, evaluate=False),
    "tan": functools.partial(sympy.tan, evaluate=False),
    "exp": functools.partial(sympy.exp, evaluate=False),
    "log": functools.partial(sympy.log, evaluate=False),
    "ln": functools.partial(sympy.log, evaluate=False),
    "sqrt": functools.partial(sympy.sqrt, evaluate=False),
    "abs": functools.partial(_RealAbs, evaluate=False),
    "tanh": functools.partial(sympy.tanh, evaluate=False),
    "sinh": functools.partial(sympy.sinh, evaluate=False),
    "cosh": functools.partial(sympy.cosh, evaluate=False),
    "arctan": functools.partial(sympy.atan, evaluate=False),
    "atan": functools.partial(sympy.atan, evaluate=False),
}
_VARIADIC_FUNCTIONS: dict[str, type[sympy.Function]] = {"min": _Min, "max": _Max}
FUNCTIONS: tuple[str, ...] = (*_UNARY_FUNCTIONS, *_VARIADIC_FUNCTIONS)

_ALLOWED_FUNCTIONS_TEXT = ", ".join(FUNCTIONS)

_FORBIDDEN_NODES: dict[type, str] = {
    ast.Attribute: "attribute access is",
    ast.Subscript: "subscripts ([...]) are",
    ast.Slice: "slices are",
    ast.Lambda: "lambda is",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "generator expressions are",
    ast.List: "lists are",
    ast.Tuple: "tuples (a comma outside a function call) are",
    ast.Set: "sets are",
    ast.Dict: "dictionaries are",
    ast.Compare: "comparisons are",
    ast.BoolOp: "'and' / 'or' are",
    ast.IfExp: "if-expressions are",
    ast.NamedExpr: "':=' assignments are",
    ast.JoinedStr: "f-strings are",
    ast.FormattedValue: "f-strings are",
    ast.Starred: "starred arguments (*args) are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
}
_OPERATOR_SYMBOLS: dict[type, str] = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.Not: "not",
    ast.Invert: "~",
}
_ALLOWED_OPERATORS_TEXT = "use + - * / and ** (or ^)"

# A number glued to a name or '(' is the usual way to write a product on paper; Python rejects it
# with "invalid decimal literal", which says nothing to a teacher.
_IMPLICIT_PRODUCT = re.compile(r"(?<![\w.])(\d+\.?\d*|\.\d+)\s*([A-Za-z_(])")


# --------------------------------------------------------------------------------------------------
# Text -> SymPy
# --------------------------------------------------------------------------------------------------


class _Source:
    """The typed text, its Python spelling (``^`` -> ``**``) and the map between their columns."""

    def __init__(self, text: str) -> None:
        self.text = text
        pieces: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(text):
            if char == "^":
                pieces.append("**")
                origin += [index, index]
            else:
                pieces.append(char)
                origin.append(index)
        origin.append(len(text))
        self.python = "".join(pieces)
        self._origin = origin

    def column(self, python_offset: int) -> int:
        """1-based column in the typed text of a 0-based offset in the Python spelling."""
        return self._origin[min(max(python_offset, 0), len(self._origin) - 1)] + 1

    def where(self, node: ast.AST) -> str:
        return f"at column {self.column(node.col_offset)}"

    def segment(self, node: ast.AST) -> str:
        start = self._origin[node.col_offset]
        end = self._origin[max(node.end_col_offset - 1, node.col_offset)] + 1
        return self.text[start:end]


# What a pasted typographic symbol means in the formula language (NFKC would turn '²' into '2').
_ASCII_SPELLING = {
    "\u2212": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00d7": "*",
    "\u00b7": "*",
    "\u22c5": "*",
    "\u00f7": "/",
    "\u00b2": "^2",
    "\u00b3": "^3",
    "\u03c0": "pi",
}


def _check_characters(text: str) -> None:
    depth = 0
    for index, char in enumerate(text):
        column = index + 1
        if char == "\x00":
            raise ValueError(f"NUL byte at column {column} is not allowed")
        if char in "\r\n":
            raise ValueError(
                f"line break at column {column}: write one formula on one line (no statements)"
            )
        if char == ";":
            raise ValueError(f"';' at column {column}: statements are not allowed, write one formula")
        if char == "#":
            raise ValueError(f"'#' at column {column}: comments are not allowed")
        if char == "\\":
            raise ValueError(f"backslash at column {column} is not allowed")
        if not char.isascii():
            name = unicodedata.name(char, f"U+{ord(char):04X}")
            plain = _ASCII_SPELLING.get(char, unicodedata.normalize("NFKC", char))
            hint = (
                f"; type the plain {plain!r} instead"
                if plain.isascii() and plain.isprintable() and plain.strip()
                else ""
            )
            raise ValueError(
                f"character {char!r} ({name}) at column {column} is not allowed: formulas use plain "
                f"ASCII (a look-alike letter or symbol pasted from elsewhere?){hint}"
            )
        if not char.isprintable() and char != "\t":
            raise ValueError(f"control character U+{ord(char):04X} at column {column} is not allowed")
        if char in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError(
                    f"parentheses nested deeper than {MAX_DEPTH} levels at column {column}"
                )
        elif char in ")]}":
            depth -= 1


def _syntax_error_message(error: SyntaxError, source: _Source) -> str:
    message = error.msg or "invalid syntax"
    offset = error.offset
    if offset is None or offset < 1 or offset > len(source.python) or (error.lineno or 1) > 1:
        where = "at the end of the formula"
    else:
        where = f"at column {source.column(offset - 1)}"
    if "never closed" in message or "unmatched" in message or "does not match" in message:
        return f"unbalanced parenthesis {where}: {message}"
    product = _IMPLICIT_PRODUCT.search(source.text)
    if product and ("decimal literal" in message or "invalid syntax" in message):
        number, after = product.groups()
        return (
            f"implicit multiplication at column {product.start() + 1} is not supported: "
            f"write {number}*{after}... instead of {number}{after}..."
        )
    if where == "at the end of the formula":
        return f"the formula ends too early ({message}): is an operand or ')' missing?"
    column = source.column(offset - 1)
    char = source.text[column - 1] if 1 <= column <= len(source.text) else ""
    if char == "=":
        return (f"syntax error {where}: '=' is not part of a formula: type only the right-hand side, a "
                "function of x and y such as x^2 + y^2")
    if char in "<>!&|;:@$#?'\"\\[]{}~`" and char:
        return f"syntax error {where}: {char!r} has no meaning in a formula (operators are + - * / ^)"
    return f"syntax error {where}: {message} (is an operator such as '*' missing?)"


def _parse_tree(text: str) -> tuple[ast.Expression, _Source]:
    if not isinstance(text, str):
        raise TypeError(f"formula must be a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH * 4:
        raise ValueError(f"formula is {len(text)} characters long; the limit is {MAX_LENGTH}")
    # ASCII whitespace only: a pasted U+2028 or no-break space is reported like any other look-alike.
    text = text.strip(" \t\r\n\f\v")
    if not text:
        raise ValueError("empty formula: type a function of x and y, for example x^2 + y^2")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"formula is {len(text)} characters long; the limit is {MAX_LENGTH}")
    _check_characters(text)
    source = _Source(text)
    try:
        with warnings.catch_warnings():
            # "'int' object is not callable" and friends are SyntaxWarnings; the tree walk below
            # gives the person a clearer message for the same thing.
            warnings.simplefilter("ignore")
            tree = _ast.parse(source.python, mode="eval")
    except SyntaxError as error:
        raise ValueError(_syntax_error_message(error, source)) from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise ValueError(f"formula cannot be read: {error}") from None
    n_nodes = sum(isinstance(node, ast.expr) for node in ast.walk(tree))
    if n_nodes > MAX_NODES:
        raise ValueError(
            f"formula has {n_nodes} parts (numbers, names, operators); the limit is {MAX_NODES}"
        )
    return tree, source


def _family(node: ast.AST) -> str | None:
    """Operators whose chains SymPy flattens (a+b-c, a*b/c): a long chain is long, not deep."""
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return "sum"
        if isinstance(node.op, (ast.Mult, ast.Div)):
            return "product"
    return None


def _negative(operand: sympy.Expr) -> sympy.Expr:
    return -operand if operand.is_Number else sympy.Mul(sympy.S.NegativeOne, operand, evaluate=False)


def _quotient(numerator: sympy.Expr, denominator: sympy.Expr) -> sympy.Expr:
    if numerator.is_Integer and denominator.is_Integer:
        return sympy.Rational(numerator, denominator)  # 1/3 stays exact and prints as a fraction
    reciprocal = sympy.Pow(denominator, sympy.S.NegativeOne, evaluate=False)
    return reciprocal if numerator == 1 else sympy.Mul(numerator, reciprocal, evaluate=False)


class _Builder:
    """Walks the whitelisted tree and builds the (unevaluated) SymPy expression node by node."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        # The SymPy expression of every accepted syntax node, for spelling the formula in torch.
        self.built: dict[ast.AST, sympy.Expr] = {}

    def refuse(self, node: ast.AST, what: str) -> ValueError:
        """``what`` carries its verb ("lambda is", "keyword arguments are")."""
        return ValueError(f"{what} not allowed {self.source.where(node)}")

    def build(self, node: ast.AST, depth: int = 0, parent_family: str | None = None) -> sympy.Expr:
        result = self.dispatch(node, depth, parent_family)
        self.built[node] = result
        return result

    def dispatch(self, node: ast.AST, depth: int, parent_family: str | None) -> sympy.Expr:
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        family = _family(node)
        if not (family is not None and family == parent_family):
            depth += 1
        if depth > MAX_DEPTH:
            raise ValueError(f"formula is nested deeper than {MAX_DEPTH} levels {self.source.where(node)}")
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth, family)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Attribute):
            raise ValueError(
                f"attribute access ('.{node.attr}') is not allowed at column "
                f"{self.source.column(node.value.end_col_offset)}"
            )
        description = _FORBIDDEN_NODES.get(type(node), f"'{type(node).__name__}' is")
        raise self.refuse(node, description)

    def constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool):
            raise self.refuse(node, f"{value} (a boolean, not a number) is")
        if isinstance(value, str):
            raise self.refuse(node, "a string is")
        if isinstance(value, bytes):
            raise self.refuse(node, "a bytes literal is")
        if isinstance(value, complex):
            raise self.refuse(node, "a complex number is")
        if not isinstance(value, (int, float)):
            raise self.refuse(node, f"{value!r} is")
        if not math.isfinite(value) or abs(value) > MAX_LITERAL:
            raise ValueError(
                f"the number {self.source.segment(node)} {self.source.where(node)} is too large: "
                f"numbers are limited to {MAX_LITERAL:g} in size"
            )
        return sympy.Integer(value) if isinstance(value, int) else sympy.Float(value)

    def name(self, node: ast.Name) -> sympy.Expr:
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            raise ValueError(
                f"'{node.id}' {self.source.where(node)} is a function: write {node.id}(...)"
            )
        raise ValueError(
            f"unknown name '{node.id}' {self.source.where(node)}; use x and y "
            f"(and the constants pi and e)"
        )

    def binary(self, node: ast.BinOp, depth: int, family: str | None) -> sympy.Expr:
        if isinstance(node.op, tuple(_OPERATOR_SYMBOLS)):
            symbol = _OPERATOR_SYMBOLS[type(node.op)]
            raise ValueError(
                f"operator '{symbol}' is not allowed {self.source.where(node)}; "
                f"{_ALLOWED_OPERATORS_TEXT}"
            )
        left = self.build(node.left, depth, family)
        right = self.build(node.right, depth, family)
        if isinstance(node.op, ast.Add):
            return self.checked(node, lambda: sympy.Add(left, right, evaluate=False))
        if isinstance(node.op, ast.Sub):
            return self.checked(node, lambda: sympy.Add(left, _negative(right), evaluate=False))
        if isinstance(node.op, ast.Mult):
            return self.checked(node, lambda: sympy.Mul(left, right, evaluate=False))
        if isinstance(node.op, ast.Div):
            if right == 0:
                raise ValueError(f"division by zero {self.source.where(node.right)}")
            return self.checked(node, lambda: _quotient(left, right))
        if isinstance(node.op, ast.Pow):
            return self.power(node, left, right)
        raise self.refuse(node, f"operator {type(node.op).__name__} is")

    def power(self, node: ast.BinOp, base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
        # The limit keeps numbers and curvature in a range a figure can show; 9**9**9 stops here.
        if not exponent.free_symbols:
            power = _constant_value(exponent)
            if abs(power) > MAX_EXPONENT:
                raise ValueError(
                    f"exponent {self.source.segment(node.right)} {self.source.where(node.right)} "
                    f"is too large: exponents are limited to {MAX_EXPONENT} in size"
                )
            if not base.free_symbols:
                magnitude = abs(_constant_value(base))
                if magnitude > 0 and abs(power * math.log10(magnitude)) > 300:
                    raise ValueError(
                        f"{self.source.segment(node)} {self.source.where(node)} is too large "
                        f"to compute (about 10^{power * math.log10(magnitude):.0f})"
                    )
        if base == sympy.E:
            return self.checked(node, lambda: sympy.exp(exponent, evaluate=False))
        return self.checked(node, lambda: sympy.Pow(base, exponent, evaluate=False))

    def unary(self, node: ast.UnaryOp, depth: int) -> sympy.Expr:
        if isinstance(node.op, ast.USub):
            operand = self.build(node.operand, depth)
            return self.checked(node, lambda: _negative(operand))
        if isinstance(node.op, ast.UAdd):
            return self.build(node.operand, depth)
        symbol = _OPERATOR_SYMBOLS.get(type(node.op), type(node.op).__name__)
        raise ValueError(
            f"operator '{symbol}' is not allowed {self.source.where(node)}; {_ALLOWED_OPERATORS_TEXT}"
        )

    def call(self, node: ast.Call, depth: int) -> sympy.Expr:
        func = node.func
        if not isinstance(func, ast.Name):
            # (lambda: 1)() and x.y() are refused as what they call; 2(x+1) and (x+1)(y+1) are
            # a product written the paper way.
            self.build(func, depth)
            opening = self.source.python.find("(", func.end_col_offset)
            raise ValueError(
                f"implicit multiplication at column {self.source.column(opening)} is not "
                f"supported: write * before '('"
            )
        if func.id in CONSTANTS:
            raise ValueError(
                f"'{func.id}' {self.source.where(func)} is not a function: for a product write "
                f"{func.id}*(...)"
            )
        if func.id not in FUNCTIONS:
            raise ValueError(
                f"unknown function '{func.id}' {self.source.where(func)}; only these functions are "
                f"allowed: {_ALLOWED_FUNCTIONS_TEXT}"
            )
        if node.keywords:
            raise self.refuse(node.keywords[0], "keyword arguments are")
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise self.refuse(argument, "starred arguments (*args) are")
        if func.id in _UNARY_FUNCTIONS and len(node.args) != 1:
            raise ValueError(
                f"{func.id} {self.source.where(func)} takes exactly one argument, got {len(node.args)}"
            )
        if func.id in _VARIADIC_FUNCTIONS and len(node.args) < 2:
            raise ValueError(
                f"{func.id} {self.source.where(func)} takes at least two arguments, got {len(node.args)}"
            )
        arguments = [self.build(argument, depth) for argument in node.args]
        if func.id in _VARIADIC_FUNCTIONS:
            pair = _VARIADIC_FUNCTIONS[func.id]
            return self.checked(
                node,
                lambda: functools.reduce(lambda left, right: pair(left, right, evaluate=False), arguments),
            )
        return self.checked(node, lambda: _UNARY_FUNCTIONS[func.id](arguments[0]))

    def checked(self, node: ast.AST, make: Callable[[], sympy.Expr]) -> sympy.Expr:
        """Build one node and refuse it when it is undefined, complex or overflows."""
        where = self.source.where(node)
        segment = self.source.segment(node)
        try:
            result = make()
        except (ArithmeticError, TypeError, ValueError, RecursionError) as error:
            raise ValueError(f"'{segment}' {where} cannot be computed: {error}") from None
        if not result.free_symbols:
            value = _constant_value(result)
            if math.isnan(value):
                raise ValueError(f"'{segment}' {where} is not a real number")
            if not math.isfinite(value):
                raise ValueError(f"'{segment}' {where} is infinite or too large to compute")
        return result


# --------------------------------------------------------------------------------------------------
# SymPy -> NumPy, by walking the expression (no code is generated)
# --------------------------------------------------------------------------------------------------
#
# Derivatives are not built as one big SymPy expression: sympy.diff of a whole formula repeats the
# inner function in every term, so the Hessian of a 300-character formula (a product of 40 factors,
# a tower x^y^x^...) grows to ~50 000 operations and takes SymPy 5-12 s. Instead the program carries
# value, gradient and Hessian through the expression graph (forward mode, each shared sub-expression
# once), and the derivative of each node's own function comes from sympy.diff of that function alone
# (sin -> cos, a**2 -> 2*a, Max(a, b) -> Heaviside(a - b), ...). The result is the same exact
# derivative, in time linear in the formula.


def _fold(operation: Callable[[object, object], object]) -> Callable[..., object]:
    def folded(*values: object) -> object:
        return functools.reduce(operation, values)

    return folded


def _heaviside(value: object, at_zero: object = 0.5) -> object:
    return np.heaviside(value, at_zero)


_NUMPY_OPERATIONS: dict[type, Callable[..., object]] = {
    sympy.Add: _fold(np.add),
    sympy.Mul: _fold(np.multiply),
    sympy.Pow: np.power,
    sympy.sin: np.sin,
    sympy.cos: np.cos,
    sympy.tan: np.tan,
    sympy.exp: np.exp,
    sympy.log: np.log,
    sympy.sinh: np.sinh,
    sympy.cosh: np.cosh,
    sympy.tanh: np.tanh,
    sympy.atan: np.arctan,
    _RealAbs: np.abs,
    _RealSign: np.sign,
    _Max: np.maximum,
    _Min: np.minimum,
    sympy.Heaviside: _heaviside,
}

_HESSIAN_ENTRIES = ((0, 0), (0, 1), (1, 1))  # xx, xy, yy
_DUMMIES = (sympy.Symbol("a", real=True), sympy.Symbol("b", real=True))


class _Jet(NamedTuple):
    """A value with its gradient (d/dx, d/dy) and Hessian (xx, xy, yy); None is an exact zero."""

    value: object
    grad: tuple[object, object] = (None, None)
    hess: tuple[object, object, object] = (None, None, None)


def _sum(terms: Iterable[object]) -> object:
    present = [term for term in terms if term is not None]
    return functools.reduce(np.add, present) if present else None


def _product(*factors: object) -> object:
    if any(factor is None for factor in factors):
        return None
    return functools.reduce(np.multiply, factors)


def _jet_sum(jets: Sequence[_Jet], order: int) -> _Jet:
    value = functools.reduce(np.add, [jet.value for jet in jets])
    grad = tuple(_sum(jet.grad[k] for jet in jets) for k in (0, 1))
    if order < 2:
        return _Jet(value, grad)
    return _Jet(value, grad, tuple(_sum(jet.hess[m] for jet in jets) for m in range(3)))


def _jet_product(left: _Jet, right: _Jet, order: int) -> _Jet:
    value = np.multiply(left.value, right.value)
    grad = tuple(
        _sum([_product(left.grad[k], right.value), _product(left.value, right.grad[k])]) for k in (0, 1)
    )
    if order < 2:
        return _Jet(value, grad)
    hess = tuple(
        _sum(
            [
                _product(left.hess[m], right.value),
                _product(left.grad[a], right.grad[b]),
                _product(left.grad[b], right.grad[a]),
                _product(left.value, right.hess[m]),
            ]
        )
        for m, (a, b) in enumerate(_HESSIAN_ENTRIES)
    )
    return _Jet(value, grad, hess)


class _LocalRule(NamedTuple):
    """First and second partial derivatives of one node's function in its varying arguments."""

    active: tuple[int, ...]
    first: tuple[_Program | None, ...]
    second: tuple[tuple[_Program | None, ...], ...]


@functools.lru_cache(maxsize=512)
def _local_rule(function: type, arguments: tuple[sympy.Expr | None, ...]) -> _LocalRule:
    """Partials of ``function(*arguments)``, where None marks an argument that varies.

    Constant arguments stay in the formula so SymPy simplifies with them (``a**2 -> 2*a`` rather
    than ``a**b * b / a``, which is NaN at a = 0). Dirac deltas, the second derivatives of kinks,
    are taken as 0.
    """
    active = tuple(index for index, argument in enumerate(arguments) if argument is None)
    dummies = _DUMMIES[: len(active)]
    # Constants go in as exact integers/fractions or as floats, so building the local formula asks
    # SymPy nothing expensive about them.
    arguments = tuple(
        argument if argument is None or argument.is_Rational else sympy.Float(_constant_value(argument))
        for argument in arguments
    )
    substituted = iter(dummies)
    local = function(*[next(substituted) if argument is None else argument for argument in arguments])

    def program(partial: sympy.Expr) -> _Program | None:
        partial = partial.replace(sympy.DiracDelta, lambda *_: sympy.S.Zero)
        if partial.has(sympy.I):
            # d/dy (-1)^y = (-1)^y log(-1): no real value, a gap like the formula itself.
            partial = sympy.nan
        return None if partial == 0 else _Program([partial], dummies)

    firsts = [sympy.diff(local, dummy) for dummy in dummies]
    first = tuple(program(partial) for partial in firsts)
    second = tuple(tuple(program(sympy.diff(partial, dummy)) for dummy in dummies) for partial in firsts)
    return _LocalRule(active, first, second)


def _jet_call(
    node: sympy.Expr, constants: tuple[sympy.Expr | None, ...], jets: Sequence[_Jet], order: int
) -> _Jet:
    """``constants`` is the node's arguments with None for each one that depends on x or y."""
    value = _NUMPY_OPERATIONS[type(node)](*[jet.value for jet in jets])
    rule = _local_rule(type(node), constants)
    active = [jets[index] for index in rule.active]
    inputs = [jet.value for jet in active]
    first = [None if program is None else program.values(*inputs)[0] for program in rule.first]
    grad = tuple(_sum(_product(p, jet.grad[k]) for p, jet in zip(first, active)) for k in (0, 1))
    if order < 2:
        return _Jet(value, grad)
    terms = [[_product(p, jet.hess[m]) for p, jet in zip(first, active)] for m in range(3)]
    for i, left in enumerate(active):
        for j, right in enumerate(active):
            program = rule.second[i][j]
            if program is None:
                continue
            second = program.values(*inputs)[0]
            for m, (a, b) in enumerate(_HESSIAN_ENTRIES):
                terms[m].append(_product(second, left.grad[a], right.grad[b]))
    return _Jet(value, grad, tuple(_sum(entry) for entry in terms))


class _Program:
    """SymPy expressions of ``inputs`` compiled into a list of NumPy steps over a shared graph.

    Each distinct sub-expression is one step, computed once per call; intermediate arrays are
    released after their last use. :meth:`values` computes the expressions, :meth:`jets` (for the
    inputs x, y) also their gradients and Hessians.
    """

    def __init__(self, expressions: Sequence[sympy.Expr], inputs: Sequence[sympy.Symbol] = (_X, _Y)):
        slot_of: dict[sympy.Basic, int] = {symbol: index for index, symbol in enumerate(inputs)}
        self.n_inputs = len(inputs)
        self.steps: list[tuple[str, object, tuple[int, ...]]] = []

        def visit(expression: sympy.Basic) -> int:
            if expression in slot_of:
                return slot_of[expression]
            if isinstance(expression, sympy.Symbol):
                raise ValueError(f"unknown symbol {expression} in the formula")
            if not expression.free_symbols:
                step: tuple[str, object, tuple[int, ...]] = ("constant", _constant_value(expression), ())
            elif isinstance(expression, sympy.Add):
                step = ("sum", None, tuple(visit(argument) for argument in expression.args))
            elif isinstance(expression, sympy.Mul):
                step = ("product", None, tuple(visit(argument) for argument in expression.args))
            elif type(expression) in _NUMPY_OPERATIONS:
                arguments = expression.args
                constants = tuple(None if argument.free_symbols else argument for argument in arguments)
                step = ("call", (expression, constants), tuple(visit(argument) for argument in arguments))
            else:
                raise ValueError(
                    f"the formula uses {type(expression).__name__}, which lossviz cannot evaluate; "
                    "try writing it another way"
                )
            self.steps.append(step)
            slot_of[expression] = len(slot_of)
            return slot_of[expression]

        self.outputs = [visit(expression) for expression in expressions]
        last_use: dict[int, int] = {}
        for index, (_, _, arguments) in enumerate(self.steps):
            for argument in arguments:
                last_use[argument] = index
        kept = set(self.outputs)
        self.release: list[list[int]] = [[] for _ in self.steps]
        for slot, index in last_use.items():
            if slot not in kept:
                self.release[index].append(slot)

    def values(self, *inputs: object) -> list[object]:
        """The expressions at ``inputs`` (arrays broadcasting together, or scalars)."""
        slots: list[object] = [*inputs] + [None] * len(self.steps)
        for index, (kind, payload, arguments) in enumerate(self.steps):
            operands = [slots[slot] for slot in arguments]
            if kind == "constant":
                result = payload
            elif kind == "sum":
                result = functools.reduce(np.add, operands)
            elif kind == "product":
                result = functools.reduce(np.multiply, operands)
            else:
                result = _NUMPY_OPERATIONS[type(payload[0])](*operands)
            slots[self.n_inputs + index] = result
            for slot in self.release[index]:
                slots[slot] = None
        return [slots[slot] for slot in self.outputs]

    def jets(self, x: np.ndarray, y: np.ndarray, order: int) -> list[_Jet]:
        """Value, gradient and (``order`` 2) Hessian of the expressions at ``(x, y)``."""
        slots: list[object] = [_Jet(x, (1.0, None)), _Jet(y, (None, 1.0))] + [None] * len(self.steps)
        for index, (kind, payload, arguments) in enumerate(self.steps):
            operands = [slots[slot] for slot in arguments]
            if kind == "constant":
                result = _Jet(payload)
            elif kind == "sum":
                result = _jet_sum(operands, order)
            elif kind == "product":
                result = functools.reduce(lambda left, right: _jet_product(left, right, order), operands)
            else:
                result = _jet_call(*payload, operands, order)
            slots[self.n_inputs + index] = result
            for slot in self.release[index]:
                slots[slot] = None
        return [slots[slot] for slot in self.outputs]


def _constant_value(expression: sympy.Expr) -> float:
    """A SymPy number (``9**9``, ``sqrt(2)``, ``exp(20)``) in float64; NaN if it is not real."""
    if expression.is_Number or expression.is_NumberSymbol:
        try:
            return float(expression)
        except (TypeError, ValueError, OverflowError):
            return math.inf
    operation = _NUMPY_OPERATIONS.get(type(expression))
    if operation is None:
        raise ValueError(f"the number {expression} cannot be evaluated")
    with np.errstate(all="ignore"):
        return float(operation(*[np.float64(_constant_value(argument)) for argument in expression.args]))


# --------------------------------------------------------------------------------------------------
# The formula spelled for torch (code export), from the checked tree: close to what was typed
# --------------------------------------------------------------------------------------------------

_TORCH_FUNCTIONS = {name: name for name in _UNARY_FUNCTIONS} | {"ln": "log", "arctan": "atan"}


def _torch_source(tree: ast.Expression, built: Mapping[ast.AST, sympy.Expr]) -> str:
    """The formula as Python source over float64 tensors ``x``, ``y`` and ``torch.`` functions.

    Built with :func:`ast.unparse` from the already checked tree, so it is only ever the whitelisted
    grammar; constant parts (``pi``, ``sin(2)``) become float literals.
    """

    def number(value: float) -> ast.expr:
        literal = ast.Constant(abs(value))
        return ast.UnaryOp(ast.USub(), literal) if math.copysign(1.0, value) < 0 else literal

    def torch_call(name: str, arguments: list[ast.expr], **keywords: ast.expr) -> ast.expr:
        function = ast.Attribute(ast.Name("torch", ast.Load()), name, ast.Load())
        return ast.Call(function, arguments, [ast.keyword(key, value) for key, value in keywords.items()])

    def spell(node: ast.expr) -> ast.expr:
        if not built[node].free_symbols:
            return node if isinstance(node, ast.Constant) else number(_constant_value(built[node]))
        if isinstance(node, ast.Name):
            return node
        if isinstance(node, ast.BinOp):
            return ast.BinOp(spell(node.left), node.op, spell(node.right))
        if isinstance(node, ast.UnaryOp):
            return ast.UnaryOp(node.op, spell(node.operand))
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            raise ValueError(f"cannot spell {type(node).__name__} for torch")  # the builder refused it
        name = node.func.id
        arguments = [spell(argument) for argument in node.args]
        if name in _VARIADIC_FUNCTIONS:
            # torch.maximum takes tensors only, so a constant argument is made one.
            float64 = ast.Attribute(ast.Name("torch", ast.Load()), "float64", ast.Load())
            tensors = [
                spelled if built[argument].free_symbols else torch_call("as_tensor", [spelled], dtype=float64)
                for argument, spelled in zip(node.args, arguments)
            ]
            combine = "maximum" if name == "max" else "minimum"
            return functools.reduce(lambda left, right: torch_call(combine, [left, right]), tensors)
        return torch_call(_TORCH_FUNCTIONS[name], arguments)

    if not built[tree.body].free_symbols:
        # A constant still has to be a tensor of the right shape for autograd.
        return f"{_constant_value(built[tree.body])!r} + 0*x + 0*y"
    return ast.unparse(spell(tree.body))


# --------------------------------------------------------------------------------------------------
# The formula in LaTeX, from the checked tree: as typed, and without SymPy's printer, which sorts and
# evaluates numbers (evalf) on the way and can fail on a valid formula
# --------------------------------------------------------------------------------------------------

_LATEX_FUNCTIONS = {
    "sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "exp": r"\exp", "log": r"\log", "ln": r"\ln",
    "tanh": r"\tanh", "sinh": r"\sinh", "cosh": r"\cosh", "arctan": r"\arctan", "atan": r"\arctan",
}  # fmt: skip
# Binding strength of what a piece of LaTeX shows, to know when it needs parentheses.
_SUM, _PRODUCT, _NEGATION, _POWER, _ATOM = range(5)


def _latex_source(tree: ast.Expression) -> str:
    """LaTeX of the checked formula, parenthesized by precedence (``x^y^z`` is ``x^{y^{z}}``)."""

    def number(value: float) -> str:
        text = repr(value)
        if isinstance(value, float) and "e" in text:
            mantissa, exponent = text.split("e")
            return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
        return text

    def wrap(tex: str) -> str:
        return rf"\left({tex}\right)"

    def render(node: ast.expr) -> tuple[str, int]:
        if isinstance(node, ast.Constant):
            return number(node.value), _ATOM
        if isinstance(node, ast.Name):
            return (r"\pi" if node.id == "pi" else node.id), _ATOM
        if isinstance(node, ast.UnaryOp):
            tex, level = render(node.operand)
            if isinstance(node.op, ast.UAdd):
                return tex, level
            return "-" + (wrap(tex) if level <= _NEGATION else tex), _NEGATION
        if isinstance(node, ast.BinOp):
            left, left_level = render(node.left)
            right, right_level = render(node.right)
            if isinstance(node.op, ast.Add):
                return f"{left} + {wrap(right) if right_level == _NEGATION else right}", _SUM
            if isinstance(node.op, ast.Sub):
                return f"{left} - {wrap(right) if right_level in (_SUM, _NEGATION) else right}", _SUM
            if isinstance(node.op, ast.Mult):
                left = wrap(left) if left_level == _SUM else left
                right = wrap(right) if right_level in (_SUM, _NEGATION) else right
                separator = r" \cdot " if right[0].isdigit() or right[0] == "." else " "
                return f"{left}{separator}{right}", _PRODUCT
            if isinstance(node.op, ast.Div):
                return rf"\frac{{{left}}}{{{right}}}", _POWER
            return f"{wrap(left) if left_level <= _POWER else left}^{{{right}}}", _POWER
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            arguments = [render(argument)[0] for argument in node.args]
            name = node.func.id
            if name == "sqrt":
                return rf"\sqrt{{{arguments[0]}}}", _ATOM
            if name == "abs":
                return rf"\left|{arguments[0]}\right|", _ATOM
            if name in _VARIADIC_FUNCTIONS:
                return rf"\{name}\left({', '.join(arguments)}\right)", _ATOM
            return rf"{_LATEX_FUNCTIONS[name]}\left({arguments[0]}\right)", _ATOM
        raise ValueError(f"cannot write {type(node).__name__} in LaTeX")  # the builder refused it

    return render(tree.body)[0]


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def validate_domain(domain: object) -> Domain:
    """Return ``domain`` as ``((xmin, xmax), (ymin, ymax))`` floats after checking it.

    Every bound must be a finite number in ``[-MAX_DOMAIN_BOUND, MAX_DOMAIN_BOUND]`` and each range
    must satisfy ``max - min >= MIN_DOMAIN_WIDTH``.

    Raises
    ------
    ValueError
        If the shape is not two pairs, a bound is out of range, or a range is empty or reversed.
    TypeError
        If a bound is not a real number.
    """
    try:
        (xmin, xmax), (ymin, ymax) = domain  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValueError(f"domain must be ((xmin, xmax), (ymin, ymax)), got {domain!r:.80}") from None
    bounds = {}
    for label, value in (("xmin", xmin), ("xmax", xmax), ("ymin", ymin), ("ymax", ymax)):
        bounds[label] = check_scalar(
            value, f"domain {label}", low=-MAX_DOMAIN_BOUND, high=MAX_DOMAIN_BOUND
        )
    for axis in ("x", "y"):
        low, high = bounds[f"{axis}min"], bounds[f"{axis}max"]
        if not high - low >= MIN_DOMAIN_WIDTH:
            raise ValueError(
                f"domain {axis}-range must have {axis}min < {axis}max (width at least "
                f"{MIN_DOMAIN_WIDTH:g}), got ({low:g}, {high:g})"
            )
    return ((bounds["xmin"], bounds["xmax"]), (bounds["ymin"], bounds["ymax"]))


def _shaped(value: object, shape: tuple[int, ...]) -> np.ndarray:
    return np.array(np.broadcast_to(np.asarray(value, dtype=np.float64), shape), dtype=np.float64)


def _finite_sample(program: _Program, domain: Domain) -> np.ndarray:
    """The finite values of the formula on a 41 x 41 grid over ``domain`` (flattened)."""
    (xmin, xmax), (ymin, ymax) = domain
    xs, ys = np.meshgrid(np.linspace(xmin, xmax, 41), np.linspace(ymin, ymax, 41))
    with np.errstate(all="ignore"):
        (values,) = program.values(xs, ys)
    values = np.broadcast_to(np.asarray(values, dtype=np.float64), xs.shape)
    return values[np.isfinite(values)]


def _wants_log_scale(values: np.ndarray) -> bool:
    """Nonnegative values whose top is three decades above the low end (Rosenbrock, Beale)."""
    if values.size < 2 or values.min() < 0:
        return False
    low = float(np.percentile(values, 5))
    return bool(low > 0 and values.max() > 1000 * low)


def parse(text: str, domain: object = DEFAULT_DOMAIN) -> Surface:
    """Build a :class:`~lossviz.surfaces.Surface` from a typed formula f(x, y), never running it.

    Parameters
    ----------
    text : str
        The formula, e.g. ``"(1-x)**2 + 100*(y-x**2)**2"``, ``"sin(x)*cos(y) + 0.1*(x^2+y^2)"`` or
        ``"abs(x) + y^2"``. ``^`` means power. See the module docstring for the grammar and limits.
    domain : ((xmin, xmax), (ymin, ymax))
        The default view; checked by :func:`validate_domain`.

    Returns
    -------
    Surface
        ``name="custom"``; ``f`` maps points ``(..., 2)`` to ``(...)``, ``grad`` to ``(..., 2)`` and
        ``hessian`` to ``(..., 2, 2)``, with exact (symbolic) derivatives; NaN or inf where the formula
        is undefined. ``minima`` has shape ``(0, 2)`` and ``min_value`` is None (unknown);
        ``params == {"formula": text.strip(), "domain": domain}``.

    Raises
    ------
    TypeError
        If ``text`` is not a str.
    ValueError
        If the formula uses anything outside the grammar or exceeds a limit; the message names the
        problem and its column.
    """
    tree, source = _parse_tree(text)
    domain = validate_domain(domain)
    builder = _Builder(source)
    formula = builder.build(tree)

    program = _Program([formula])
    sample = _finite_sample(program, domain)
    if sample.size == 0:
        raise ValueError(
            f"the formula has no finite value anywhere in the domain x in [{domain[0][0]:g}, "
            f"{domain[0][1]:g}], y in [{domain[1][0]:g}, {domain[1][1]:g}]"
        )

    def value(points: np.ndarray) -> np.ndarray:
        x, y = points[..., 0], points[..., 1]
        with np.errstate(all="ignore"):
            (result,) = program.values(x, y)
        return _shaped(result, x.shape)

    def derivatives(points: np.ndarray, order: int) -> tuple[np.ndarray, _Jet]:
        x, y = points[..., 0], points[..., 1]
        with np.errstate(all="ignore"):
            (jet,) = program.jets(x, y, order)
        # Where f itself is undefined (log(x) at x < 0) its slope is too, though 1/x is finite there.
        undefined = np.isnan(_shaped(jet.value, x.shape))
        return undefined, jet

    def part(entry: object, undefined: np.ndarray) -> np.ndarray:
        return np.where(undefined, np.nan, _shaped(0.0 if entry is None else entry, undefined.shape))

    def grad(points: np.ndarray) -> np.ndarray:
        undefined, jet = derivatives(points, 1)
        return np.stack([part(entry, undefined) for entry in jet.grad], axis=-1)

    def hess(points: np.ndarray) -> np.ndarray:
        undefined, jet = derivatives(points, 2)
        xx, xy, yy = (part(entry, undefined) for entry in jet.hess)
        return np.stack([np.stack([xx, xy], axis=-1), np.stack([xy, yy], axis=-1)], axis=-2)

    written = source.text
    fields = {
        "name": "custom",
        "title": "Custom formula",
        "_f": value,
        "_grad": grad,
        "_hessian": hess,
        "domain": domain,
        "minima": np.empty((0, 2), dtype=np.float64),
        "min_value": None,
        "lesson": (
            f"Your formula: f(x, y) = {written}. Its gradient and Hessian are exact (symbolic); at a "
            "kink the descent uses a subgradient (abs has slope 0 at 0, min and max split a tie), and "
            "the figure has gaps where the formula is undefined."
        ),
        "latex": _latex_source(tree),
        "params": {"formula": written, "domain": domain},
        "log_scale": _wants_log_scale(sample),
        # NumPy operations per evaluation of f: what a work budget charges for each point evaluated.
        "constants": {"cost": len(program.steps)},
    }
    if "torch_expr" in {field.name for field in dataclasses.fields(Surface)}:
        fields["torch_expr"] = _torch_source(tree, builder.built)
    return Surface(**fields)
