"""Exact Wasserstein-1 between empirical measures, and its Kantorovich potential, by POT's
network-simplex solver (``ot.emd``)."""

from __future__ import annotations

import numpy as np
import ot


def _uniform_problem(x: np.ndarray, y: np.ndarray):
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    return ot.unif(len(x)), ot.unif(len(y)), ot.dist(x, y, metric="euclidean")


def exact_w1(x: np.ndarray, y: np.ndarray) -> float:
    """W1 between the uniform empirical measures on the rows of ``x`` and ``y`` (Euclidean cost)."""
    a, b, cost = _uniform_problem(x, y)
    return float(ot.emd2(a, b, cost, numItermax=10_000_000))


def w1_potential(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Kantorovich potential phi of exact W1 between the uniform empirical measures on ``x`` and
    ``y``, on those points: emd's duals u, v (u_i + v_j <= |x_i - y_j|) give phi(x_i) = u_i, then
    made tight by the two c-transforms phi(y_j) = max_i phi(x_i) - |x_i - y_j|,
    phi(x_i) = min_j phi(y_j) + |x_i - y_j| (the duals are not unique where the plan does not pin
    them). Returns (phi on x, phi on y, W1); mean phi(x) - mean phi(y) = W1."""
    a, b, cost = _uniform_problem(x, y)
    _, log = ot.emd(a, b, cost, numItermax=10_000_000, log=True)
    phi_x = np.asarray(log["u"], np.float64)
    phi_y = (phi_x[:, None] - cost).max(0)
    phi_x = (phi_y[None, :] + cost).min(1)
    return phi_x, phi_y, float(log["cost"])
