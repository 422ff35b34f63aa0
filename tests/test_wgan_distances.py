"""wgan_distances: the exercise tables against closed forms (deterministic arithmetic is a
test, not a scorecard row), the exact-OT estimator's spread behind the W = |theta| claim, and
the retained-gradient measure behind the fixed-theta gradient claims."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from replication import claims as cl
from replication.experiments.wgan_distances import exercise_table, retained, sample_line, theta_grid
from replication.metrics.transport import exact_w1

# Hand-derived answers (natural log): 3.1 KL(P||Q) = 1/2 ln(2/3) + 1/2 ln 2, KL(Q||P) = 3/4 ln 1.5 + 1/4 ln 0.5,
# KL(Q||R) = 1/2 ln 3; 3.2 uses Q = (1/3, 1/3, 1/3) after renormalising 0.33 x 3, so KL(P||Q) = ln 1.5
# and KL(Q||P) = inf (Q has mass at 2, P none); EMD from the CDF differences. NaN: KL not asked.
EXPECTED = [
    ("3.1", "P, Q", 0.5 * math.log(2 / 3) + 0.5 * math.log(2), 0.25),
    ("3.1", "Q, P", 0.75 * math.log(1.5) + 0.25 * math.log(0.5), 0.25),
    ("3.1", "P, P", 0.0, 0.0),
    ("3.1", "P, R", 0.5 * math.log(2 / 3) + 0.5 * math.log(2), 0.25),
    ("3.1", "Q, R", 0.5 * math.log(3), 0.5),
    ("3.2", "P, Q", math.log(1.5), 0.5),
    ("3.2", "Q, P", math.inf, 0.5),
    ("3.2", "R, S", math.inf, 2.0),
    ("3.3", "P, Q", math.nan, 0.5),
    ("3.3", "P, R", math.nan, 1.0),
    ("3.3", "Q, R", math.nan, 0.5),
    ("3.3", "P, S", math.nan, 2.0),
    ("3.3", "R, S", math.nan, 1.0),
]


def test_exercise_table_matches_closed_forms():
    table = exercise_table().set_index(["part", "pair"])
    assert len(table) == len(EXPECTED)
    for part, pair, kl, emd in EXPECTED:
        row = table.loc[(part, pair)]
        assert row["emd"] == pytest.approx(emd, abs=1e-12)
        if math.isnan(kl):
            assert math.isnan(row["kl_nats"])
        elif math.isinf(kl):
            assert math.isinf(row["kl_nats"])
        else:
            assert row["kl_nats"] == pytest.approx(kl, abs=1e-12)
    assert "renormalised" in table.loc[("3.2", "P, Q"), "note"]


def test_kl_symmetry_is_stated_honestly():
    table = exercise_table().set_index(["part", "pair"])
    assert table.loc[("3.1", "P, Q"), "kl_symmetry"] == "asymmetric"
    assert table.loc[("3.1", "P, P"), "kl_symmetry"] == "symmetric"
    assert table.loc[("3.2", "R, S"), "kl_symmetry"] == "both infinite"  # inf = inf is not symmetry


def test_ot_spread_supports_the_w_tolerance():
    """Re-derives the tolerance of wgan_fig1_w_equals_abs_theta: the maximum over the theta
    grid of |W_hat - |theta|| at n = 512 per side stays under 0.05 in (almost) every draw."""
    claim = next(c for c in cl.load_claims() if c.id == "wgan_fig1_w_equals_abs_theta")
    gen = torch.Generator().manual_seed(0)
    worst = []
    for _ in range(10):
        errors = [abs(exact_w1(sample_line(0.0, 512, gen), sample_line(t, 512, gen)) - abs(t)) for t in theta_grid(21)]
        worst.append(max(errors))
    assert np.median(worst) < 0.03
    assert np.mean(np.asarray(worst) <= claim.test["threshold"]) >= 0.9


def test_retained_gradient_leaves_step_0_out_of_the_peak():
    """Step 0 is the unclipped initial WGAN critic (clamped only before the first step): a large
    gradient there must not count as the peak the trained critic is compared with."""
    curve = pd.DataFrame({"step": range(21), "theta_grad": [-0.07] + [-1e-3] * 10 + [-2e-3] * 10})
    r = retained(curve)
    assert r["start"] == pytest.approx(0.07)
    assert r["peak"] == pytest.approx(2e-3)
    assert r["tail"] == pytest.approx(2e-3) and r["retained"] == pytest.approx(1.0)
    vanishing = pd.DataFrame({"step": range(21), "theta_grad": [0.01, 0.5] + [1e-6] * 19})
    assert retained(vanishing)["retained"] == pytest.approx(2e-6)
    untrained = pd.DataFrame({"step": [0], "theta_grad": [0.3]})  # no critic step: the curve is its start
    assert retained(untrained)["retained"] == pytest.approx(1.0)
