"""The page kit: what every Streamlit page of lossviz shares (see docs/ARCHITECTURE.md).

Imported once per server process, it runs BLAS single-threaded: one session's matrix product spread over
both cores makes every other session wait, and under load two BLAS threads took twice the CPU for the
same product (the neural-net plane view: 290 against 138 ms). Where two cores pay, the core splits the
work itself (lossviz.batched runs chunks on two threads, each with one BLAS thread).
"""
from threadpoolctl import threadpool_limits

import numpy  # noqa: F401  (loads the BLAS library so the limit below reaches it)

_BLAS_LIMIT = threadpool_limits(limits=1, user_api="blas")
