"""Every claim can fail: each claim's negative control runs the experiment's own code at smoke
size with a setting that must break the claim, and the claim's own test must then say
"not reproduced" (without the min_scale gate, under which every smoke row is "not evaluated").

Claims sharing an experiment and a control setting share one control build."""

import json

import pytest
import yaml

from replication import claims as cl
from replication import config as cfg
from replication.experiments import execute_run, execute_summary

ALL = cl.load_claims()
CONTROLLED = [c for c in ALL if "setting" in c.control]
GROUPS: dict[tuple[str, str], list[cl.Claim]] = {}
for claim in CONTROLLED:
    GROUPS.setdefault((claim.experiment, json.dumps(claim.control["setting"], sort_keys=True)), []).append(claim)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """Fashion-MNIST in a private data root, from the Debian package (skip without it)."""
    import os

    from replication.data import fetch

    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    root = tmp_path_factory.mktemp("data")
    fetch("fashion-mnist", root)
    return root


def test_every_claim_has_a_control_or_a_stated_exemption():
    for claim in ALL:
        assert "setting" in claim.control or len(claim.control.get("exempt", "")) >= 10, claim.id


@pytest.mark.parametrize("group", list(GROUPS), ids=[f"{e}:{len(GROUPS[(e, s)])}claims:{s[:60]}" for e, s in GROUPS])
def test_negative_control_breaks_its_claims(group, tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("REPLICATION_DATA", str(data_root))
    experiment, setting = group
    deltas = tmp_path / "control.yaml"  # over the smoke settings, like --config extra_deltas=...
    deltas.write_text(yaml.safe_dump({experiment: json.loads(setting)}))
    results = tmp_path / "results"
    for run in cfg.runs_of(experiment, "smoke", deltas):
        execute_run(experiment, run, "smoke", "cpu", 1, results, deltas)
    measured = json.loads(execute_summary(experiment, "smoke", results, deltas).read_text())
    for claim in GROUPS[group]:
        verdict, _, value = cl.judge(claim, measured.get(claim.key, {}))
        assert verdict == cl.NOT_REPRODUCED, (
            f"{claim.id}: control ({claim.control['breaks']}) gave {verdict} with value {value}")
