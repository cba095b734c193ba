"""lossviz's benchmarks, outside the library: the NumPy core (``python -m bench``), key press to figure in
a real browser (``python -m bench.browser``) and many sessions on one server (``python -m bench.load``).

Every benchmark writes its own marked section of docs/BENCHMARKS.md through :mod:`bench.report`.
"""
from bench.core import *  # noqa: F401,F403
from bench.core import __all__  # noqa: F401
