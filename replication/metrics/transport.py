"""Exact Wasserstein-1 between empirical measures, by POT's network-simplex solver."""

from __future__ import annotations

import numpy as np
import ot


def exact_w1(x: np.ndarray, y: np.ndarray) -> float:
    """W1 between the uniform empirical measures on the rows of ``x`` and ``y`` (Euclidean cost)."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    cost = ot.dist(x, y, metric="euclidean")
    return float(ot.emd2(ot.unif(len(x)), ot.unif(len(y)), cost, numItermax=10_000_000))

