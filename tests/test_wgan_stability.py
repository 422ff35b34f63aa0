"""WGAN Figures 5-7: the networks at the experiment's shapes, the pre-registered outcome rules,
the claims' logic (the positive control gates the GAN's failures), one clear line on bad input,
and a killed run that resumes bit-identically, its evaluation rows included."""

import math

import pandas as pd
import pytest
import torch
import yaml

from replication import config as cfg
from replication.errors import ReplicationError
from replication.runs import execute_run
from replication.experiments.wgan_stability import judge, networks
from replication.nets import build, count_parameters
from replication.recipes.outcomes import describe, outcome
from replication.settings.experiments import Outcome

PROXY = Outcome(works_fid=100.0, gate_intra_fid=100.0, collapse_effective_classes=5.0, collapse_recall=0.45,
                collapse_duplicates=0.4)
INCEPTION = Outcome(works_fid=100.0, gate_fid=250.0, collapse_recall=0.45, collapse_duplicates=0.4)
DIVERSE = {"recall": 0.8, "duplicates": 0.01}  # held-out real images: 0.90 and 0.01


def test_paper_networks_match_the_published_counts_and_shapes():
    s = cfg.resolve("wgan_stability", "paper")
    nets = {g: networks(s, g, 3) for g in s.networks.generators}
    assert count_parameters(nets["dcgan"]["generator"]) == 3_576_704
    assert count_parameters(nets["nobn"]["generator"]) == 302_080  # Figure 6: constant 64 filters, no BN
    assert count_parameters(nets["mlp"]["generator"]) == 6_880_768
    assert count_parameters(nets["dcgan"]["critic"]) == 2_765_568  # the critic keeps batch norm
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in build(nets["nobn"]["generator"]).modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in build(nets["nobn"]["critic"]).modules())


@pytest.mark.parametrize("scale", ["smoke", "small"])
def test_networks_at_reduced_scales_make_32px_grey_images(scale):
    s = cfg.resolve("wgan_stability", scale)
    for generator in s.networks.generators:
        pair = {role: build(spec) for role, spec in networks(s, generator, 1).items()}
        fake = pair["generator"](torch.randn(4, s.nz))
        assert fake.shape == (4, 1, 32, 32)
        assert pair["critic"](fake).shape == (4, 1)


def test_both_experiments_register_these_thresholds():
    for experiment in ("wgan_stability", "wgangp_lsun_architectures"):
        assert cfg.resolve(experiment, "small").outcome == {"proxy": PROXY, "inception": INCEPTION}


@pytest.mark.parametrize("measures, limits, expected", [
    ({"fid": 40.0, "intra_fid": 20.0, "effective_classes": 9.5, **DIVERSE}, PROXY, "works"),
    ({"fid": 160.0, "intra_fid": 60.0, "effective_classes": 8.0, **DIVERSE}, PROXY, "poor"),
    ({"fid": 400.0, "intra_fid": 10.0, "effective_classes": 3.0, **DIVERSE}, PROXY, "collapses"),   # sharp, few classes
    ({"fid": 400.0, "intra_fid": 180.0, "effective_classes": 1.0, **DIVERSE}, PROXY, "fails"),      # blobs: not collapse
    ({"fid": 90.0, "intra_fid": 101.0, "effective_classes": 9.0, **DIVERSE}, PROXY, "fails"),       # the gate comes first
    ({"fid": 90.0, "intra_fid": float("nan"), "effective_classes": 9.0, **DIVERSE}, PROXY, "fails"),
    # collapse within classes, before the gate: 30 real images repeated (past the gate, 10 classes) ...
    ({"fid": 20.0, "intra_fid": 84.0, "effective_classes": 9.6, "recall": 0.0, "duplicates": 1.0}, PROXY, "collapses"),
    # ... and one repeated image, whose intra-class FID fails the gate
    ({"fid": 900.0, "intra_fid": 170.0, "effective_classes": 1.0, "recall": 0.0, "duplicates": 1.0}, PROXY,
     "collapses"),
    ({"fid": 60.0, "intra_fid": 50.0, "effective_classes": 9.0, "recall": 0.45, "duplicates": 0.4}, PROXY,
     "collapses"),                                                                   # both bounds inclusive
    ({"fid": 60.0, "intra_fid": 50.0, "effective_classes": 9.0, "recall": 0.46, "duplicates": 1.0}, PROXY, "works"),
    ({"fid": 60.0, "intra_fid": 50.0, "effective_classes": 9.0, "recall": 0.0, "duplicates": 0.39}, PROXY, "works"),
    # low recall without repeats is quality, not collapse (5x5 blur: recall 0.01, duplicates 0.22)
    ({"fid": 184.0, "intra_fid": 154.0, "effective_classes": 7.4, "recall": 0.01, "duplicates": 0.22}, PROXY, "fails"),
    ({"fid": 60.0, **DIVERSE}, INCEPTION, "works"),
    ({"fid": 180.0, **DIVERSE}, INCEPTION, "poor"),
    ({"fid": 260.0, **DIVERSE}, INCEPTION, "fails"),
    ({"fid": 300.0, "recall": 0.0, "duplicates": 1.0}, INCEPTION, "collapses"),   # collapse at paper too
    ({"fid": 60.0}, Outcome(works_fid=100.0, gate_fid=250.0), "works"),          # no collapse threshold registered
])
def test_outcomes_follow_the_pre_registered_thresholds(measures, limits, expected):
    assert outcome(measures, limits) == expected


def test_collapse_thresholds_and_measures_come_together():
    with pytest.raises(ReplicationError, match="rerun the run's evaluation job"):
        outcome({"fid": 60.0, "intra_fid": 50.0, "effective_classes": 9.0}, PROXY)
    with pytest.raises(ReplicationError, match="set collapse_recall and collapse_duplicates together"):
        outcome({"fid": 60.0, **DIVERSE}, Outcome(works_fid=100.0, gate_fid=250.0, collapse_recall=0.45))


def test_claim_notes_show_the_collapse_measures():
    row = {"run": "gan_mlp_s0", "outcome": "collapses", "fid": 20.0, "recall": 0.0, "duplicates": 1.0, "precision": 0.9}
    assert describe(pd.Series(row)) == "gan_mlp_s0: collapses (FID 20, recall 0, duplicates 1, precision 0.9)"
    row.update(intra_fid=84.0, effective_classes=9.6, coverage=1.0)
    assert describe(pd.Series(row)) == ("gan_mlp_s0: collapses (FID 20, intra-class FID 84, effective classes 9.6, "
                                        "coverage 1, recall 0, duplicates 1, precision 0.9)")


def _table(outcomes: dict, seeds=(0,)) -> pd.DataFrame:
    rows = [{"run": f"{m}_{g}_s{s}", "method": m, "generator": g, "seed": s, "fid": 1.0, "intra_fid": 1.0,
             "effective_classes": 9.0, "coverage": 1.0, "outcome": outcomes[(m, g)]}
            for s in seeds for m in ("wgan", "gan") for g in ("dcgan", "nobn", "mlp")]
    return pd.DataFrame(rows)


PAPER_OUTCOMES = {("wgan", "dcgan"): "works", ("gan", "dcgan"): "works", ("wgan", "nobn"): "works",
                  ("gan", "nobn"): "fails", ("wgan", "mlp"): "works", ("gan", "mlp"): "collapses"}
CLAIM_KEYS = ["dcgan_both_work", "nobn_wgan_works_gan_fails", "mlp_wgan_works_gan_collapses", "no_wgan_collapse"]


def _values(outcomes, limits=PROXY, seeds=(0,)):
    out = judge(_table(outcomes, seeds), limits, "proxy measures", "files")
    return [out[k]["value"] for k in CLAIM_KEYS]


def test_the_papers_outcomes_give_every_claim():
    assert _values(PAPER_OUTCOMES) == [True, True, True, True]
    assert _values(PAPER_OUTCOMES, seeds=(0, 1)) == [True, True, True, True]


def test_a_positive_control_that_did_not_train_leaves_the_comparisons_not_evaluated():
    """The claims layer's trained rule: the GAN run expected to fail is gated by the GAN's DCGAN
    run (role control), which must have improved its FID on step 0 by the claim's factor."""
    from replication import claims as cl

    table = _table(PAPER_OUTCOMES)
    fid = {r: {"measure": "fid", "start": 300.0, "final": 50.0, "lower_is_better": True} for r in table["run"]}
    fid["gan_dcgan_s0"] = {**fid["gan_dcgan_s0"], "final": 250.0}  # x1.2 only
    out = judge(table, PROXY, "proxy measures", "files", fid)
    claims = {c.key: c for c in cl.load_claims() if c.experiment == "wgan_stability"}
    verdicts = {k: cl.judge(claims[k], out[k]) for k in CLAIM_KEYS}
    assert [verdicts[k][0] for k in CLAIM_KEYS] == [cl.NOT_EVALUATED, cl.NOT_EVALUATED, cl.NOT_EVALUATED,
                                                    cl.REPRODUCED]  # no GAN run in the last claim
    assert verdicts["nobn_wgan_works_gan_fails"][1].startswith("did not train: gan_dcgan_s0 (fid 300 at step 0, 250")
    assert out["nobn_wgan_works_gan_fails"]["runs"]["gan_nobn_s0"]["role"] == "fails"  # no training asked of it


@pytest.mark.parametrize("change, expected", [
    ({("gan", "nobn"): "works"}, [True, False, True, True]),           # the GAN did not fail
    ({("gan", "mlp"): "fails"}, [True, True, False, True]),            # blobs are not collapse
    ({("wgan", "mlp"): "collapses"}, [True, True, False, False]),      # a collapsed WGAN
    ({("wgan", "nobn"): "poor"}, [True, False, True, True]),           # WGAN half: recognisable is not 'works'
    ({("wgan", "nobn"): "fails"}, [True, False, True, True]),          # a failed WGAN run shows nothing about collapse
    ({("gan", "dcgan"): "poor"}, [False, True, True, True]),           # a positive control that trained but
    ({("wgan", "dcgan"): "fails"}, [False, True, True, True]),         # did not work: judged (the claims layer gates training)
])
def test_each_outcome_change_flips_its_claims(change, expected):
    assert _values({**PAPER_OUTCOMES, **change}) == expected


def test_collapse_is_not_judged_without_a_wgan_run_past_the_gate():
    out = judge(_table({**PAPER_OUTCOMES, **{("wgan", g): "fails" for g in ("dcgan", "nobn", "mlp")}}), PROXY,
                "proxy measures", "files")
    assert out["no_wgan_collapse"]["value"] is None and "passes the quality gate" in out["no_wgan_collapse"]["reason"]


def test_a_claim_must_hold_for_every_seed():
    table = _table(PAPER_OUTCOMES, seeds=(0, 1))
    table.loc[(table["run"] == "gan_mlp_s1"), "outcome"] = "poor"
    out = judge(table, PROXY, "proxy measures", "files")
    assert out["mlp_wgan_works_gan_collapses"]["value"] is False


def test_collapse_is_judged_without_class_labels_and_not_without_a_collapse_threshold():
    out = judge(_table(PAPER_OUTCOMES), INCEPTION, "Inception measures", "files")  # paper: recall and duplicates
    assert [out[k]["value"] for k in CLAIM_KEYS] == [True, True, True, True]
    out = judge(_table(PAPER_OUTCOMES), Outcome(works_fid=100.0, gate_fid=250.0), "Inception measures", "files")
    assert out["dcgan_both_work"]["value"] is True and out["nobn_wgan_works_gan_fails"]["value"] is True
    assert out["mlp_wgan_works_gan_collapses"]["value"] is None and out["no_wgan_collapse"]["value"] is None
    assert "no collapse measure" in out["no_wgan_collapse"]["reason"]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """Fashion-MNIST in a private data root and a smoke-size proxy classifier (built once)."""
    import os

    from replication.data import fetch

    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    root = tmp_path_factory.mktemp("data")
    fetch("fashion-mnist", root)
    results = tmp_path_factory.mktemp("proxy")
    deltas = results / "proxy.yaml"
    deltas.write_text(yaml.safe_dump({"metrics_calibration": {"proxy": {"n_train": 500, "n_test": 200}}}))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPLICATION_DATA", str(root))
        execute_run("metrics_calibration", "proxy_fashion-mnist", "smoke", "cpu", 1, results, deltas)
    return root, results / "smoke" / "metrics_calibration"


@pytest.fixture()
def fashion_root(prepared, monkeypatch):
    monkeypatch.setenv("REPLICATION_DATA", str(prepared[0]))
    return prepared[0]


def _proxy(results, prepared):
    """The proxy classifier where the experiment's upstream run puts it."""
    import shutil

    shutil.copytree(prepared[1], results / "smoke" / "metrics_calibration")


def test_bad_inputs_are_one_line(fashion_root, prepared, tmp_path):
    results = tmp_path / "results"
    deltas = tmp_path / "bad.yaml"
    deltas.write_text(yaml.safe_dump({"wgan_stability": {"quality": {"uint8_rule": "clip"}}}))
    with pytest.raises(ReplicationError, match="unknown uint8_rule 'clip'") as err:
        execute_run("wgan_stability", "gan_mlp_s0", "smoke", "cpu", 1, results, deltas)
    assert "\n" not in str(err.value)
    with pytest.raises(ReplicationError, match="missing proxy classifier"):  # upstream not built
        execute_run("wgan_stability", "gan_mlp_s0", "smoke", "cpu", 1, results)
    deltas.write_text(yaml.safe_dump({"wgan_stability": {"networks": {"generators": {"mlp": {"arch": "mlp_gg"}}}}}))
    _proxy(results, prepared)
    with pytest.raises(ReplicationError, match="unknown network arch 'mlp_gg'"):
        execute_run("wgan_stability", "gan_mlp_s0", "smoke", "cpu", 1, results, deltas)
    assert not (results / "smoke" / "wgan_stability" / "gan_mlp_s0" / "result.json").exists()


def test_a_killed_run_resumes_bit_identically(fashion_root, prepared, tmp_path):
    """Train to the first checkpoint (a run stopped there), resume to the end, and compare with
    an uninterrupted run: the same final weights and evaluation rows."""
    from replication.io import load_torch

    done = {}
    for name, stops in (("whole", [None]), ("resumed", [3, None])):
        results = tmp_path / name
        _proxy(results, prepared)
        for stop in stops:
            deltas = tmp_path / f"{name}.yaml"
            block = {"methods": {"gan": {"training": {"iterations": stop}}}} if stop else {}
            deltas.write_text(yaml.safe_dump({"wgan_stability": block} if block else {}))
            execute_run("wgan_stability", "gan_nobn_s0", "smoke", "cpu", 1, results, deltas)
        run = results / "smoke" / "wgan_stability" / "gan_nobn_s0"
        done[name] = (load_torch(run / "final" / "generator.pt")["state_dict"], (run / "evaluation.csv").read_text())
    (w1, e1), (w2, e2) = done["whole"], done["resumed"]
    assert e1 == e2 and len(e1.splitlines()) == 4  # header + steps 0, 3, 6
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    assert not math.isnan(float(e1.splitlines()[-1].split(",")[1]))


def test_images_reach_the_resolution_by_exact_zero_padding():
    from replication.data import at_resolution

    images = torch.randint(1, 256, (3, 1, 28, 28), dtype=torch.uint8)
    padded = at_resolution(images, 32)
    assert padded.shape == (3, 1, 32, 32) and torch.equal(padded[..., 2:30, 2:30], images)
    assert int(padded.sum()) == int(images.sum()) and at_resolution(padded, 32) is padded
    with pytest.raises(ReplicationError, match="larger than the resolution 16"):
        at_resolution(images, 16)


def test_the_evaluation_job_measures_the_final_checkpoint_alone(fashion_root, prepared, tmp_path):
    """The claims read ``final_metrics.json``: the evaluation job reruns from the final networks
    (no training state) and gives the same measures twice."""
    import json
    import shutil

    from replication.runs import execute_evaluation

    results = tmp_path / "results"
    _proxy(results, prepared)
    execute_run("wgan_stability", "gan_mlp_s0", "smoke", "cpu", 1, results)
    shutil.rmtree(results / ".state")  # a pulled checkpoint: no resumable state
    first = json.loads(execute_evaluation("wgan_stability", "gan_mlp_s0", "smoke", "cpu", 1, results).read_text())
    second = json.loads(execute_evaluation("wgan_stability", "gan_mlp_s0", "smoke", "cpu", 1, results).read_text())
    assert first["metrics"] == second["metrics"]
    measures = first["metrics"]
    assert {"fid", "intra_fid", "effective_classes", "coverage", "precision", "recall", "duplicates"} <= set(measures)
    assert measures["proxy"]
    assert measures["samples"] == cfg.resolve("wgan_stability", "smoke").quality.samples
    assert outcome(measures, cfg.resolve("wgan_stability", "smoke").outcome["proxy"]) in {"works", "poor", "collapses", "fails"}
    header = (results / "smoke" / "wgan_stability" / "gan_mlp_s0" / "evaluation.csv").read_text().splitlines()[0]
    assert {"precision", "recall", "duplicates"} <= set(header.split(","))  # the training probe's too


@pytest.mark.parametrize("experiment, drop_last", [("wgan_stability", False), ("wgangp_lsun_architectures", True)])
def test_real_batches_follow_the_codes_epoch_ends(experiment, drop_last):
    """WGAN main.py's DataLoader passes an epoch's smaller last batch; the gradient penalty needs
    real and fake batches of one size (tflib yields full batches only): at every scale."""
    for scale in cfg.SCALES:
        assert cfg.resolve(experiment, scale).data.drop_last is drop_last
