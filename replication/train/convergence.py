""""Trained to optimality" as a logged criterion, not a fixed small step count.

Plateau (the default): the critic is converged when the mean of a logged quantity over the
last ``window`` logged iterations differs from the mean over the window before by less than
``rel_tol`` (relative to the larger magnitude, with ``abs_tol`` as a floor), after at least
``min_iterations``.

Slope (additive, on when ``slope_window`` is set): in addition, the least-squares slope of
the logged quantity over the last ``slope_window`` logged rows, times ``slope_window`` (the
fitted change across that window), must be at most ``slope_rel_tol`` times the magnitude of
its mean over the same rows (``abs_tol`` as a floor). Two window means that happen to agree
are not enough: a curve still rising by more than ``slope_rel_tol`` of its value per
``slope_window`` iterations cannot pass, however slowly it rises per iteration.
"""

from __future__ import annotations

import numpy as np

from replication.settings.training import ConvergenceSpec


def fitted_change(values) -> float:
    """Least-squares slope of ``values`` against 0..n-1 (numpy.polyfit), times n: the fitted
    change across them."""
    v = np.asarray(values, dtype=np.float64)
    return float(np.polyfit(np.arange(len(v)), v, 1)[0] * len(v)) if len(v) >= 2 else 0.0


class Plateau:
    """The criterion of a ``ConvergenceSpec`` (its fields, read through ``spec``), with the
    logged history it needs and the step at which it first held."""

    def __init__(self, spec: ConvergenceSpec):
        self.spec = spec
        self.history: list[float] = []
        self.converged_at: int | None = None

    def __getattr__(self, name: str):  # column, window, rel_tol, ... come from the spec
        if name == "spec":
            raise AttributeError(name)
        return getattr(self.spec, name)

    @property
    def keep(self) -> int:
        return max(2 * self.window, self.slope_window or 0)

    def _plateau(self) -> bool:
        if len(self.history) < 2 * self.window:
            return False
        recent = sum(self.history[-self.window:]) / self.window
        before = sum(self.history[-2 * self.window:-self.window]) / self.window
        return abs(recent - before) <= max(self.abs_tol, self.rel_tol * max(abs(recent), abs(before)))

    def _flat(self) -> bool:
        if self.slope_window is None:
            return True
        if len(self.history) < self.slope_window:
            return False
        values = self.history[-self.slope_window:]
        mean = sum(values) / len(values)
        return abs(fitted_change(values)) <= max(self.abs_tol, self.slope_rel_tol * abs(mean))

    def update(self, rows: list[dict]) -> bool:
        """Feed newly flushed log rows; True once the criterion holds."""
        for row in rows:
            self.history.append(float(row[self.column]))
            step = int(row["step"]) + 1
            if self.converged_at is None and step >= self.min_iterations and self._plateau() and self._flat():
                self.converged_at = step
            if len(self.history) > 2 * self.keep:  # trim now and then, not on every row
                del self.history[: -self.keep]
        del self.history[: -self.keep]
        return self.converged_at is not None

    def state_dict(self) -> dict:
        return {"history": list(self.history), "converged_at": self.converged_at}

    def load_state_dict(self, state: dict) -> None:
        self.history, self.converged_at = list(state["history"]), state["converged_at"]
