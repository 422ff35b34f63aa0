"""The convergence criterion (replication.train.convergence): the Plateau default and the
additive slope test that a slowly rising curve cannot pass."""

import math

import numpy as np
import pytest

from replication.train.convergence import Plateau, fitted_change
from replication.settings.training import ConvergenceSpec, parse_training


def _rows(values, start=0):
    return [{"step": start + i, "divergence": float(v)} for i, v in enumerate(values)]


def _feed(stop, values, flush=50):
    """Feed ``values`` in flushes of ``flush`` rows, as the Trainer does; the converged-at step."""
    for i in range(0, len(values), flush):
        if stop.update(_rows(values[i:i + flush], i)):
            break
    return stop.converged_at


def test_fitted_change_is_the_least_squares_rise():
    assert fitted_change([1.0, 2.0, 3.0, 4.0]) == pytest.approx(4.0)
    assert fitted_change([5.0] * 10) == pytest.approx(0.0)
    t = np.arange(200.0)
    assert fitted_change(list(0.3 + 0.01 * t + np.sin(t))) == pytest.approx(np.polyfit(t, 0.3 + 0.01 * t + np.sin(t), 1)[0] * 200)


def test_plateau_default_unchanged_on_a_flat_curve():
    rng = np.random.default_rng(0)
    values = 0.8 + 0.01 * rng.standard_normal(3000)
    stop = Plateau(ConvergenceSpec(window=500, rel_tol=0.01, min_iterations=1000))
    assert _feed(stop, values) == 1000  # first flush at or after min_iterations with two full windows
    assert stop.slope_window is None and len(stop.history) <= 1000


def test_slowly_rising_curve_passes_plateau_but_not_the_slope_test():
    """A critic still climbing 0.5 -> 0.6 over 10,000 iterations: two 1,000-iteration means
    differ by 1.7-2% of the value, inside a 2% Plateau, so the window test alone stops it;
    the fitted rise over 3,000 iterations (5-6% of the value) keeps it training to the cap."""
    rng = np.random.default_rng(1)
    t = np.arange(10_000)
    values = 0.5 + 0.1 * t / 10_000 + 0.02 * rng.standard_normal(len(t))
    plateau_only = Plateau(ConvergenceSpec(window=1000, rel_tol=0.02, min_iterations=2000))
    assert _feed(plateau_only, values) is not None  # the window means differ by ~1.8% < 2%: stops early
    with_slope = Plateau(ConvergenceSpec(window=1000, rel_tol=0.02, min_iterations=2000, slope_window=3000, slope_rel_tol=0.02))
    assert _feed(with_slope, values) is None  # rises ~5% of its value per 3,000 iterations: never converges


def test_slope_test_converges_once_the_curve_levels_off():
    rng = np.random.default_rng(2)
    t = np.arange(12_000)
    values = 0.6 * (1 - np.exp(-t / 1500)) + 0.02 * rng.standard_normal(len(t))
    stop = Plateau(ConvergenceSpec(window=1000, rel_tol=0.01, min_iterations=2000, slope_window=3000, slope_rel_tol=0.02))
    at = _feed(stop, values)
    assert at is not None and at > 6000  # still rising by > 2% per 3,000 iterations before ~7,500
    assert 0.6 * (1 - math.exp(-at / 1500)) > 0.58


def test_slope_state_round_trips_and_spec_parses():
    values = list(np.linspace(0, 1, 700))
    a = Plateau(ConvergenceSpec(window=100, slope_window=400))
    a.update(_rows(values))
    assert len(a.history) == 400
    b = Plateau(ConvergenceSpec(window=100, slope_window=400))
    b.load_state_dict(a.state_dict())
    assert b.history == a.history and b.converged_at == a.converged_at
    spec = parse_training({"objective": "wgan", "iterations": 10, "optimizers": {"critic": {"name": "adam", "lr": 1e-4}},
                           "convergence": {"window": 100, "slope_window": 300, "slope_rel_tol": 0.05}})
    assert spec.convergence == ConvergenceSpec(window=100, slope_window=300, slope_rel_tol=0.05)
    assert ConvergenceSpec().slope_window is None  # off unless asked for
