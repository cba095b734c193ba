"""``python -m lossviz``: the ``lossviz`` command (see :mod:`lossviz.cli`)."""
from lossviz.cli import main

raise SystemExit(main())
