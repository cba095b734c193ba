"""``python -m bench``: time the NumPy core's figures against their targets (see :mod:`bench.core`)."""
import sys

from bench.core import main

if __name__ == "__main__":
    main(sys.argv[1:])
    sys.exit(0)
