"""Claims registry: schema, verdict logic, and that every tolerance can flip a verdict."""

import math

import pytest

from replication import claims as cl
from replication import config as cfg


ALL = cl.load_claims()


def _inside_and_outside(claim: cl.Claim):
    t = claim.test
    if t["kind"] == "holds":
        return True, False
    if t["kind"] == "within":
        return float(claim.published), float(claim.published) + 2 * t["tolerance"] + 1e-12
    if t["kind"] == "at_most":
        return t["threshold"], t["threshold"] + abs(t["threshold"]) * 0.01 + 1e-12
    if t["kind"] == "at_least":
        return t["threshold"], t["threshold"] - abs(t["threshold"]) * 0.01 - 1e-12
    return (t["low"] + t["high"]) / 2, t["high"] + (t["high"] - t["low"])


@pytest.mark.parametrize("claim", ALL, ids=[c.id for c in ALL])
def test_a_value_outside_the_tolerance_flips_the_verdict(claim):
    inside, outside = _inside_and_outside(claim)
    scale = claim.min_scale
    ok = cl.verdict(claim, scale, {claim.key: {"value": inside}})
    bad = cl.verdict(claim, scale, {claim.key: {"value": outside}})
    assert ok[0] == cl.REPRODUCED and bad[0] == cl.NOT_REPRODUCED


@pytest.mark.parametrize("claim", ALL, ids=[c.id for c in ALL])
def test_claim_is_complete(claim):
    assert claim.experiment in cfg.experiment_ids()
    assert claim.artifact in cfg.paper_file(claim.experiment)["artifacts"]
    assert len(claim.rationale) > 20


def test_not_evaluated_reasons():
    claim = ALL[0]
    assert cl.verdict(claim, "paper", None, selected=False)[0] == cl.NOT_EVALUATED
    assert cl.verdict(claim, "paper", None)[0] == cl.NOT_EVALUATED
    assert cl.verdict(claim, "paper", {claim.key: {"value": None, "reason": "no GPU"}})[1] == "no GPU"
    below = cl.verdict(claim, "smoke", {claim.key: {"value": 0.0}})
    assert below[0] == cl.NOT_EVALUATED and "min_scale" in below[1]


def test_nan_never_passes():
    claim = next(c for c in ALL if c.test["kind"] in ("at_most", "at_least"))
    assert cl.verdict(claim, "paper", {claim.key: {"value": math.nan}})[0] == cl.NOT_REPRODUCED


def test_scorecard_lists_every_claim_even_unselected(tmp_path):
    frame = cl.scorecard("small", selected=[], results_root=tmp_path)
    assert len(frame) == len(ALL)
    assert set(frame["verdict"]) == {cl.NOT_EVALUATED}
    paths = cl.write_scorecard(frame, tmp_path / "out")
    assert all(p.exists() for p in paths)
    assert "not selected" in paths[0].read_text()
