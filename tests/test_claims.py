"""Claims registry: schema, verdict logic, and that every tolerance can flip a verdict."""

import math
import re

import pytest

from helpers import REPO
from replication import claims as cl
from replication.settings import plain
from replication import config as cfg


ALL = cl.load_claims()

# A source must point somewhere a reader can check: a paper's section, figure, table, example,
# equation or appendix (or a numbered question of a reading guide), or a named file (upstream
# code such as gan_toy.py, a project's README).
SOURCE_LOCATOR = re.compile(
    r"\b(sections?|fig(ure|\.)?|tables?|examples?|eq(uation|\.)?|appendix|algorithm|theorem|lemma|question)\s*"
    r"(?-i:[\dA-Z])"  # a number or a capital: "Figure 2", "Appendix B", not "figure out"
    r"|\b[\w.-]+\.(md|py|ya?ml|ipynb|txt)\b|\bREADME\b", re.IGNORECASE)
# Paths into this repository cited in a claim's text ("tests/test_claims.py", "replication/metrics/proxy.py").
REPO_DIRS = ("replication", "tests", "workflow", "profiles", "reports")
REPO_PATH = re.compile(rf"\b(?:{'|'.join(REPO_DIRS)})/[\w./-]*\w")
# Known dangling citations (claim id → cited path): a strict xfail while the path is missing,
# so the gap shows in every run; once the file exists the claim is checked normally and its
# entry here should go.


def _cited_repo_paths(claim: cl.Claim) -> list[str]:
    return sorted({m for text in (claim.source, claim.claim, claim.measure, claim.rationale)
                   for m in REPO_PATH.findall(str(text))})


def _inside_and_outside(claim: cl.Claim):
    t = claim.test
    if t["kind"] == "holds":
        return True, False
    if t["kind"] == "ordering":  # every seed must clear the margin; one seed short of it fails
        inside = [t["margin"] + 0.01] * claim.seeds
        return inside, inside[:-1] + [t["margin"]]
    if t["kind"] == "within":
        center = float(claim.published) or t["tolerance"] / 2  # exactly zero never passes
        return center, float(claim.published) + 2 * t["tolerance"] + 1e-12
    if t["kind"] == "at_most":
        return t["threshold"] or -1e-12, t["threshold"] + abs(t["threshold"]) * 0.01 + 1e-12
    if t["kind"] == "at_least":
        return t["threshold"] or 1e-12, t["threshold"] - abs(t["threshold"]) * 0.01 - 1e-12
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
    assert SOURCE_LOCATOR.search(claim.source), f"source names no section/figure/table or file: {claim.source!r}"


def test_repo_dirs_exist():
    assert all((REPO / d).is_dir() for d in REPO_DIRS)


@pytest.mark.parametrize("claim", ALL, ids=[c.id for c in ALL])
def test_cited_repo_files_exist(claim):
    missing = [path for path in _cited_repo_paths(claim) if not (REPO / path).exists()]
    assert not missing, f"claim {claim.id} cites {missing}, not in the repository"


def test_not_evaluated_reasons():
    claim = ALL[0]
    assert cl.verdict(claim, "paper", None, selected=False)[0] == cl.NOT_EVALUATED
    assert cl.verdict(claim, "paper", None)[0] == cl.NOT_EVALUATED
    assert cl.verdict(claim, "paper", {claim.key: {"value": None, "reason": "no GPU"}})[1] == "no GPU"
    below = cl.verdict(claim, "smoke", {claim.key: {"value": 0.0}})
    assert below[0] == cl.NOT_EVALUATED and "min_scale" in below[1]


def test_non_finite_or_exactly_zero_never_passes():
    """A dead network's measure (gradient norm 0, log -inf) must not satisfy a bound by accident."""
    for claim in ALL:
        if claim.test["kind"] in ("holds", "ordering"):
            continue
        for value in (math.nan, math.inf, -math.inf, 0.0):
            assert cl.verdict(claim, "paper", {claim.key: {"value": value}})[0] == cl.NOT_REPRODUCED, (claim.id, value)


def test_ordering_needs_every_seed():
    claim = cl.Claim(id="o", experiment="x", paper="wgan", artifact="wgan/fig1", source="s", claim="c", measure="m",
                     published="a > b", key="k", test={"kind": "ordering", "margin": 0.5}, rationale="r",
                     min_scale="smoke", seeds=3, control={"exempt": "unit test"})
    assert claim.passes([0.6, 0.7, 0.8])
    assert not claim.passes([0.6, 0.7])            # fewer seeds than the claim rests on
    assert not claim.passes([0.6, 0.7, 0.5])       # one seed at the margin
    assert not claim.passes([0.6, 0.7, math.nan])
    assert claim.tolerance_text == "> 0.5 in each of 3 seeds"


def test_scorecard_lists_every_claim_even_unselected(tmp_path):
    frame = cl.scorecard("small", selected=[], results_root=tmp_path)
    assert len(frame) == len(ALL)
    assert set(frame["verdict"]) == {cl.NOT_EVALUATED}
    paths = cl.write_scorecard(frame, tmp_path / "out")
    assert all(p.exists() for p in paths)
    assert "not selected" in paths[0].read_text()


def test_scorecard_names_each_experiments_precision(tmp_path, monkeypatch):
    assert cl.training_precision({"training": {"iterations": 5}}) == "fp32"  # the engine's default
    assert cl.training_precision({"methods": {"wgan": {"precision": "bf16"}, "gan": {}}}) == "bf16"
    assert cl.training_precision({"runs": [{"precision": "bf16"}, {"precision": "fp32"}]}) == "bf16/fp32"
    resolve = cfg.resolve

    def bf16(node):  # every training block of the toy experiment in bf16
        if isinstance(node, dict):
            return {k: "bf16" if k == "precision" else bf16(v) for k, v in node.items()}
        return [bf16(v) for v in node] if isinstance(node, list) else node

    monkeypatch.setattr(cfg, "resolve", lambda experiment, scale, extra_deltas=None:
                        bf16(plain(resolve(experiment, scale, extra_deltas)))
                        if experiment == "wgangp_toy" else resolve(experiment, scale, extra_deltas))
    frame = cl.scorecard("smoke", selected=[], results_root=tmp_path)
    toy = frame["claim_id"].isin({c.id for c in ALL if c.experiment == "wgangp_toy"})
    assert toy.any() and set(frame.loc[toy, "precision"]) == {"bf16"}
    assert set(frame.loc[~toy, "precision"]) == {"fp32"}
    assert "| bf16 |" in cl.write_scorecard(frame, tmp_path / "out")[0].read_text()


@pytest.mark.parametrize("scale", cfg.SCALES)
def test_claim_placeholders_name_settings(scale):
    """Claim texts write numbers that live in settings as {dotted.setting}; each resolves."""
    for claim in ALL:
        settings = cfg.resolve(claim.experiment, scale)
        for field in ("claim", "measure", "rationale"):
            rendered = cl.render(getattr(claim, field), settings, claim.id, cfg.features_of(scale))  # raises if unknown
            assert not cl.PLACEHOLDER.search(rendered), (claim.id, field, rendered)


def test_placeholder_renders_and_refuses_unknown_settings():
    settings = {"training": {"iterations": 50000, "optimizers": {"critic": {"lr": 5e-05}}}, "seeds": [0, 1]}
    assert cl.render("{training.iterations} steps, lr {training.optimizers.critic.lr}, seeds {seeds}", settings) \
        == "50,000 steps, lr 5e-05, seeds [0, 1]"
    assert cl.render("c in {0.1, 0.01}", settings) == "c in {0.1, 0.01}"  # not a placeholder
    with pytest.raises(cl.ReplicationError, match="placeholder {training.iters} names no setting"):
        cl.render("{training.iters}", settings)
