"""Evaluating many parameter vectors at once: chunks on two threads, and an MLP's float32 grid path.

A landscape grid asks a model for the loss of tens of thousands of parameter vectors. :func:`run_in_chunks`
cuts them into cache-sized chunks and hands them to up to two threads as each becomes free (NumPy releases
the GIL in matmul and ufunc loops). :func:`mlp_float32_values` is the MLP's own float32 forward pass for
such grids (``MLP.f(params, dtype=np.float32)``), with the layout notes below.

    >>> import numpy as np
    >>> out = np.zeros(10)
    >>> def compute(chunk, workspace):
    ...     out[chunk] = np.arange(10)[chunk] * 2
    >>> run_in_chunks(10, 3, 10, lambda: None, compute)
    >>> out.tolist()
    [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0]
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np

__all__ = ["SINGLE_THREAD_PRODUCT", "mlp_float32_values", "run_in_chunks", "single_thread_matmul"]

# Chunks of parameter vectors whose float32 activations take about this much.
_VALUE32_CHUNK_BYTES = 4 * 2**20
# Below this many multiply-adds, thread start-up costs more than it saves.
_THREAD_MIN_WORK = 20_000_000
_N_THREADS = max(1, min(2, os.cpu_count() or 1))
# OpenBLAS runs a matrix product on one thread when m * n * k <= 65536 * 4 (its SMP_THRESHOLD_MIN times
# GEMM_MULTITHREAD_THRESHOLD); the MLP cuts the sample axis into blocks that stay under it.
SINGLE_THREAD_PRODUCT = 65536 * 4


def single_thread_matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A @ B`` for 2-D arrays, as products small enough that OpenBLAS runs each on one thread.

    A tall-and-skinny product (a path of 1,000 points of 1,218 weights times 8 directions) crosses
    OpenBLAS's threading threshold; on a busy 2-core machine its threads spin and the product took 5x the
    CPU time of the same product cut into pieces (measured). The longer side of the result is cut.

    >>> import numpy as np
    >>> A, B = np.arange(12.0).reshape(6, 2), np.ones((2, 3))
    >>> bool(np.array_equal(single_thread_matmul(A, B), A @ B))
    True
    """
    m, k = A.shape
    n = B.shape[1]
    if m * n * k <= SINGLE_THREAD_PRODUCT:
        return A @ B
    out = np.empty((m, n), dtype=np.result_type(A, B))
    if m >= n:
        rows = max(1, SINGLE_THREAD_PRODUCT // max(1, n * k))
        for start in range(0, m, rows):
            out[start: start + rows] = A[start: start + rows] @ B
    else:
        columns = max(1, SINGLE_THREAD_PRODUCT // max(1, m * k))
        for start in range(0, n, columns):
            out[:, start: start + columns] = A @ B[:, start: start + columns]
    return out


def run_in_chunks(k: int, size: int, work: int, make_workspace: Any, compute: Any) -> None:
    """Call compute(chunk, workspace) over slices of ``size`` of k rows, on up to two threads.

    Each thread allocates one workspace (``make_workspace()``) and reuses it for all its chunks; ``work``
    (any unit proportional to the cost) decides whether a second thread pays for itself.
    """
    chunks = [slice(start, min(start + size, k)) for start in range(0, k, size)]
    threads = _N_THREADS if (len(chunks) > 1 and work >= _THREAD_MIN_WORK) else 1
    pending = iter(chunks)
    lock = threading.Lock()

    def worker() -> None:
        workspace = make_workspace()
        # Parameters that overflow (a diverged run) give inf and NaN scores, reported as NaN losses by
        # the head; set here because NumPy's error state is per thread.
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            while True:
                with lock:
                    chunk = next(pending, None)
                if chunk is None:
                    return
                compute(chunk, workspace)

    if threads == 1:
        worker()
        return
    # NumPy releases the GIL inside matmul and ufunc loops, so two threads over independent chunks use
    # both cores. Each thread takes the next chunk when it is free, rather than a fixed half, so a core
    # busy with other work (another session, the browser) delays the call by its share only. Every
    # chunk writes its own output slots, so results do not depend on timing.
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(worker) for _ in range(threads)]:
            future.result()


# -- float32 values: the grid path ----------------------------------------------------------------
# `f(..., dtype=np.float32)` on many parameter vectors (a landscape grid) runs its own forward pass,
# measured part by part on the 101x101 benchmark (2-32-32-2, 1,000 samples): nearly all the time is
# the 32 x 33 products (about 95 GFLOP/s on one core, OpenBLAS's sgemm peak here) and the 6.5e8 tanh
# (about 0.38 ns each), which no layout changes. What it does change: activations are stored
# (k, width + 1, samples), so the first and last layers take one product per parameter vector over
# all samples rather than one per sample block (small products are mostly call overhead); the
# two-class head forms only the margin z1 - z0 (half the last layer) and its loss in place in
# float32, with no validation pass over 1e7 logits (a row whose margin leaves the float32 range is
# NaN, as a row whose scores do on the general head); weights are cast to float32 once per chunk.

class _MLPValueData(NamedTuple):
    XT: np.ndarray  # (p + 1, blocks * rows) float32: samples as columns, zero-padded, a row of ones last
    rows: int  # sample columns per block (see MLP._prepare_values)
    merge: tuple[int, ...]  # per layer, how many blocks one product covers
    y: np.ndarray  # (m,) targets
    sign: np.ndarray | None  # (m,) float32 +1 / -1 for the margin head: the loss is softplus(sign * margin)


class _ValueWorkspace(NamedTuple):
    """One thread's scratch for MLP._chunk_values, allocated once per call and reused by its chunks."""

    inputs: list[np.ndarray]  # per layer, its input as blocks (k, blocks, in + 1, rows); layer 1's k is 1
    targets: list[np.ndarray]  # per layer, where its product goes, as blocks (k, blocks, out, rows)
    activated: list[np.ndarray]  # per hidden layer, its pre-activations (k, out, samples), activated in place
    scores: np.ndarray  # (k, outputs, samples)
    scratch: np.ndarray  # (k, samples)


def _prepare(model: Any, X: np.ndarray, y: np.ndarray) -> _MLPValueData:
    m, p = X.shape
    outputs = 1 if model._margin_head else model.n_outputs
    products = [fan_out * (fan_in + 1) for fan_in, fan_out in zip(model.widths[:-2], model.widths[1:-1])]
    products.append(outputs * (model.widths[-2] + 1))
    rows = max(16, SINGLE_THREAD_PRODUCT // max(products))
    n_blocks = -(-m // rows)
    rows = -(-m // n_blocks)
    # A layer whose product is small covers several blocks at once (the largest divisor of the number
    # of blocks that keeps it under the single-thread size).
    merge = tuple(max(g for g in range(1, n_blocks + 1)
                      if n_blocks % g == 0 and (g == 1 or size * g * rows <= SINGLE_THREAD_PRODUCT))
                  for size in products)
    XT = np.zeros((p + 1, n_blocks * rows), dtype=np.float32)
    XT[:p, :m] = X.T
    XT[p] = 1.0
    sign = np.where(y > 0.5, -1.0, 1.0).astype(np.float32) if model._margin_head else None
    return _MLPValueData(XT, rows, merge, y, sign)

def _workspace(model: Any, k: int, data: _MLPValueData) -> _ValueWorkspace:
    padded = data.XT.shape[1]
    outputs = 1 if model._margin_head else model.n_outputs
    scores = np.empty((k, outputs, padded), dtype=np.float32)
    # Blocked views are built once here: as_strided costs microseconds, a slice of a view nothing.
    inputs, targets, activated = [], [], []
    h = data.XT[None]
    for index, fan_out in enumerate(model.widths[1:]):
        rows = data.rows * data.merge[index]
        inputs.append(_blocks(h, rows))
        if index == len(model.widths) - 2:
            targets.append(_blocks(scores, rows))
            break
        buffer = np.empty((k, fan_out + 1, padded), dtype=np.float32)
        buffer[:, fan_out, :] = 1.0  # the row of ones that turns [W; b] into one product
        targets.append(_blocks(buffer[:, :fan_out], rows))
        activated.append(buffer[:, :fan_out])
        h = buffer
    return _ValueWorkspace(inputs, targets, activated, scores, np.empty((k, padded), dtype=np.float32))

def _blocks(a: np.ndarray, rows: int) -> np.ndarray:
    """(k, w, blocks * rows) -> a (k, blocks, w, rows) view: each block one product's operand."""
    # Built from strides rather than reshape, which could silently return a copy that `out=` then fills.
    k, width, columns = a.shape
    s_k, s_w, s_n = a.strides
    return np.lib.stride_tricks.as_strided(a, (k, columns // rows, width, rows),
                                           (s_k, rows * s_n, s_w, s_n))

def _chunk_values(model: Any, P: np.ndarray, data: _MLPValueData, work: _ValueWorkspace) -> np.ndarray:
    """Mean loss (k,) of float32 parameter rows P (k, d)."""
    k = P.shape[0]
    m = data.y.shape[0]
    last = len(model.widths) - 2
    for index, (inputs, target) in enumerate(zip(work.inputs, work.targets)):
        W_slice, b_slice = model.layer_slices[2 * index], model.layer_slices[2 * index + 1]
        fan_in, fan_out = W_slice.shape
        augmented = P[:, W_slice.slice.start: b_slice.slice.stop].reshape(k, fan_in + 1, fan_out)
        if index == last and model._margin_head and fan_out == 2:
            weights = (augmented[:, :, 1] - augmented[:, :, 0])[:, None, :]  # (k, 1, in + 1)
        else:
            weights = augmented.swapaxes(1, 2)  # (k, out, in + 1), a transposed view BLAS takes as is
        # The first layer's input is the samples, shared by every row (a broadcast axis of length 1).
        np.matmul(weights[:, None], inputs if index == 0 else inputs[:k], out=target[:k])
        if index < last:
            model._activate(work.activated[index][:k])
    if not model._margin_head:
        return model._head.value(data.y, work.scores[:k, :, :m].swapaxes(1, 2))
    z = work.scores[:k, 0, :m]
    finite = np.isfinite(z).all(axis=1)  # as the general head: NaN for a row whose scores overflowed
    np.multiply(z, data.sign, out=z)
    # softplus(z) = max(z, 0) + log1p(exp(-|z|)), which cannot overflow.
    e = work.scratch[:k, :m]
    np.abs(z, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    np.log1p(e, out=e)
    np.maximum(z, 0, out=z)
    z += e
    values = np.add.reduce(z, axis=1, dtype=np.float64) / m
    values[~finite] = np.nan
    return values


def mlp_float32_values(model: Any, rows_of: Callable[[slice], np.ndarray], k: int, X: np.ndarray,
                       y: np.ndarray) -> np.ndarray:
    """Mean loss (k,) of an MLP's k parameter vectors on samples ``X`` (m, p), targets ``y`` (m,), in float32.

    ``rows_of(chunk)`` returns the float32 parameter rows (len(chunk), d) of a slice of the k vectors, so a
    grid of vectors never exists whole. The loss of each vector is reduced in float64.
    """
    data = _prepare(model, X, y)
    out = np.empty(k)
    padded = data.XT.shape[1]
    outputs = 1 if model._margin_head else model.n_outputs
    per_row = 4 * padded * (sum(w + 1 for w in model.widths[1:-1]) + outputs + 1)
    size = int(max(1, min(k, _VALUE32_CHUNK_BYTES // per_row)))

    def compute(chunk: slice, workspace: Any) -> None:
        out[chunk] = _chunk_values(model, rows_of(chunk), data, workspace)

    run_in_chunks(k, size, k * model._work_per_row(X.shape[0]),
                   lambda: _workspace(model, size, data),
                   compute)
    return out
