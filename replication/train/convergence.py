""""Trained to optimality" as a logged criterion, not a fixed small step count.

The critic is converged when the mean of a logged quantity over the last ``window`` logged
iterations differs from the mean over the window before by less than ``rel_tol`` (relative
to the larger magnitude, with ``abs_tol`` as a floor), after at least ``min_iterations``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Plateau:
    column: str = "divergence"
    window: int = 500
    rel_tol: float = 0.01
    abs_tol: float = 1e-6
    min_iterations: int = 1000
    history: list[float] = field(default_factory=list)
    converged_at: int | None = None

    def update(self, rows: list[dict]) -> bool:
        """Feed newly flushed log rows; True once the plateau is reached."""
        for row in rows:
            self.history.append(float(row[self.column]))
            step = int(row["step"]) + 1
            if self.converged_at is None and step >= self.min_iterations and len(self.history) >= 2 * self.window:
                recent = sum(self.history[-self.window:]) / self.window
                before = sum(self.history[-2 * self.window:-self.window]) / self.window
                if abs(recent - before) <= max(self.abs_tol, self.rel_tol * max(abs(recent), abs(before))):
                    self.converged_at = step
        del self.history[: -2 * self.window]
        return self.converged_at is not None

    def state_dict(self) -> dict:
        return {"history": list(self.history), "converged_at": self.converged_at}

    def load_state_dict(self, state: dict) -> None:
        self.history, self.converged_at = list(state["history"]), state["converged_at"]
