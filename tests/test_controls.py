"""Every claim can fail: each claim's negative control runs the experiment's own code at smoke
size with a setting that must break the claim, and the claim's own test must then say
"not reproduced" (without the min_scale gate, under which every smoke row is "not evaluated").

Claims sharing an experiment and a control setting share one control build."""

import json

import pytest
import yaml

from replication import claims as cl
from replication import config as cfg
from replication.runs import execute_evaluation, execute_run, execute_summary

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
    if os.path.isdir("/usr/share/games/fortunes"):  # the text stand-in (Debian's fortunes, `make system-deps`)
        fetch("fortunes", root)
    return root


def test_every_claim_has_a_control_or_a_stated_exemption():
    for claim in ALL:
        assert "setting" in claim.control or len(claim.control.get("exempt", "")) >= 10, claim.id


UPSTREAM: dict[str, object] = {}  # "experiment/run" -> its smoke output folder, built once per session


def link_upstream(experiment, results, tmp_path_factory):
    """The runs of other experiments that this one declares in ``upstream:`` (e.g. the proxy
    classifier), built once at smoke without deltas and linked into this control's results."""
    for ref in cfg.paper_file(experiment).get("upstream", []):
        ref_experiment, ref_run = ref.split("/")
        if ref_experiment == experiment:  # built by the control's own runs, in order
            continue
        if ref not in UPSTREAM:
            root = tmp_path_factory.mktemp("upstream")
            execute_run(ref_experiment, ref_run, "smoke", "cpu", 1, root)
            UPSTREAM[ref] = root / "smoke" / ref
        link = results / "smoke" / ref
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(UPSTREAM[ref], target_is_directory=True)


@pytest.mark.parametrize("group", list(GROUPS), ids=[f"{e}:{len(GROUPS[(e, s)])}claims:{s[:60]}" for e, s in GROUPS])
def test_negative_control_breaks_its_claims(group, tmp_path, tmp_path_factory, data_root, monkeypatch):
    monkeypatch.setenv("REPLICATION_DATA", str(data_root))
    experiment, setting = group
    deltas = tmp_path / "control.yaml"  # over the smoke settings, like --config extra_deltas=...
    deltas.write_text(yaml.safe_dump({experiment: json.loads(setting)}))
    results = tmp_path / "results"
    link_upstream(experiment, results, tmp_path_factory)
    for run in cfg.runs_of(experiment, "smoke", deltas):
        execute_run(experiment, run, "smoke", "cpu", 1, results, deltas)
    for run in cfg.evaluated_runs(experiment, "smoke", deltas):  # the generic evaluate rule's job
        execute_evaluation(experiment, run, "smoke", "cpu", 1, results, deltas)
    measured = json.loads(execute_summary(experiment, "smoke", results, deltas).read_text())
    for claim in GROUPS[group]:
        verdict, _, value = cl.judge(claim, measured.get(claim.key, {}))
        assert verdict == cl.NOT_REPRODUCED, (
            f"{claim.id}: control ({claim.control['breaks']}) gave {verdict} with value {value}")
