"""Every claim can fail, and a control breaks the run, never the verdict.

Each claim declares a negative ``control``: the experiment's own runs at smoke size with deltas
that break the *run* (fewer iterations, other learning rates, a frozen or constant generator,
a dead critic, other data), whose verdict must be "not reproduced"; and, where the claim needs
trained runs (``trained``), an ``untrained`` control under which nothing trains, whose verdict
must be "not evaluated (did not train)". No control may touch a key of the experiment's
``judging:`` blocks (thresholds, rules, measure parameters): that would test the verdict
function, not whether a broken run is caught.

A control marked ``slow`` needs runs that really train (an image GAN learning at least a blob,
with a proxy classifier whose FID scale means something): it runs with ``--slow-controls`` (or
``make controls``), outside CI. Claims sharing an experiment and a setting share one build."""

import json

import pytest
import yaml

from replication import claims as cl
from replication import config as cfg
from replication.runs import execute_evaluation, execute_run, execute_summary

ALL = cl.load_claims()
# The proxy classifier slow controls score with: enough images and epochs that a trained
# generator's FID is far from an untrained one's (the smoke proxy's FID scale is compressed).
CONTROL_PROXY = {"metrics_calibration": {"proxy": {"n_train": 20000, "n_test": 2000, "epochs": 2}}}


def controls() -> dict[tuple, list[tuple[cl.Claim, str]]]:
    """(experiment, setting, slow) -> [(claim, expected verdict)]."""
    groups: dict[tuple, list] = {}
    for claim in ALL:
        cases = []
        if "setting" in claim.control:
            cases.append((claim.control["setting"], bool(claim.control.get("slow")), cl.NOT_REPRODUCED))
        if claim.untrained:
            cases.append((claim.untrained["setting"], False, cl.NOT_EVALUATED))
        for setting, slow, expected in cases:
            groups.setdefault((claim.experiment, json.dumps(setting, sort_keys=True), slow), []).append((claim, expected))
    return groups


GROUPS = controls()


def flat_keys(node: dict, prefix: str = "") -> list[str]:
    return [k for key, value in node.items()
            for k in (flat_keys(value, f"{prefix}{key}.") if isinstance(value, dict) and value else [prefix + key])]


def test_every_claim_has_a_control_or_a_stated_exemption():
    for claim in ALL:
        assert "setting" in claim.control or len(claim.control.get("exempt", "")) >= 10, claim.id
        if claim.trained and "exempt" not in claim.control:
            assert claim.untrained, f"{claim.id} needs trained runs: declare its `untrained` control"


def test_no_control_touches_a_judging_block():
    judged = {exp: cfg.paper_file(exp).get("judging", []) for exp in cfg.experiment_ids()}
    assert flat_keys({"outcome": {"proxy": {"gate_intra_fid": 1e9}}}) == ["outcome.proxy.gate_intra_fid"]
    for claim in ALL:
        for setting in [claim.control.get("setting") or {}, (claim.untrained or {}).get("setting") or {}]:
            for key in flat_keys(setting):
                hit = [j for j in judged[claim.experiment] if key == j or key.startswith(j + ".")]
                assert not hit, f"{claim.id}: its control sets {key}, inside the judging block {hit[0]}"


def test_judging_blocks_name_settings():
    from replication.settings import setting_at

    for exp in cfg.experiment_ids():
        for path in cfg.paper_file(exp).get("judging", []):
            setting_at(cfg.resolve(exp, "paper"), path, f"experiments/{exp}.yaml: judging")


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


UPSTREAM: dict[tuple[str, bool], object] = {}  # ("experiment/run", slow) -> its smoke output folder, built once


def link_upstream(experiment, results, tmp_path_factory, slow: bool):
    """The runs of other experiments that this one declares in ``upstream:`` (the proxy
    classifier), built once at smoke (with CONTROL_PROXY's deltas for slow controls) and linked
    into this control's results."""
    for ref in cfg.paper_file(experiment).get("upstream", []):
        ref_experiment, ref_run = ref.split("/")
        if ref_experiment == experiment:  # built by the control's own runs, in order
            continue
        if (ref, slow) not in UPSTREAM:
            root = tmp_path_factory.mktemp("upstream")
            deltas = None
            if slow:
                deltas = root / "proxy.yaml"
                deltas.write_text(yaml.safe_dump(CONTROL_PROXY))
            execute_run(ref_experiment, ref_run, "smoke", "cpu", 2, root, deltas)
            UPSTREAM[ref, slow] = root / "smoke" / ref
        link = results / "smoke" / ref
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(UPSTREAM[ref, slow], target_is_directory=True)


@pytest.mark.parametrize("group", list(GROUPS), ids=[
    f"{e}:{'slow:' if slow else ''}{len(GROUPS[(e, s, slow)])}cases:{s[:60]}" for e, s, slow in GROUPS])
def test_a_control_gives_its_verdict(group, tmp_path, tmp_path_factory, data_root, monkeypatch, request):
    experiment, setting, slow = group
    if slow and not request.config.getoption("--slow-controls"):
        pytest.skip("a slow control (runs that train): run with --slow-controls or `make controls`")
    monkeypatch.setenv("REPLICATION_DATA", str(data_root))
    deltas = tmp_path / "control.yaml"  # over the smoke settings, like --config extra_deltas=...
    deltas.write_text(yaml.safe_dump({experiment: json.loads(setting)}))
    results = tmp_path / "results"
    link_upstream(experiment, results, tmp_path_factory, slow)
    threads = cfg.threads_of(experiment, "smoke")
    for run in cfg.runs_of(experiment, "smoke", deltas):
        execute_run(experiment, run, "smoke", "cpu", threads, results, deltas)
    for run in cfg.evaluated_runs(experiment, "smoke", deltas):  # the generic evaluate rule's job
        execute_evaluation(experiment, run, "smoke", "cpu", threads, results, deltas)
    measured = json.loads(execute_summary(experiment, "smoke", results, deltas).read_text())
    for claim, expected in GROUPS[group]:
        verdict, reason, value = cl.judge(claim, measured.get(claim.key, {}))
        assert verdict == expected, f"{claim.id}: gave {verdict} ({reason}) with value {value}, expected {expected}"
        if expected == cl.NOT_EVALUATED:
            assert reason.startswith("did not train"), f"{claim.id}: not evaluated for another reason: {reason}"
