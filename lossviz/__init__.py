"""lossviz: loss landscapes and the optimizers that descend them, in NumPy.

The core (this package minus ``viz`` and ``ui``) imports only NumPy and pandas, so it runs in a notebook,
a script or a test with nothing else.
"""
__version__ = "0.1.0"
