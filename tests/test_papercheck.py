"""The paper-shape check's pieces: the random-weight Inception stand-in (selected only by the
check, never scored) and the check's deltas (iteration and sample counts only)."""

from __future__ import annotations

import pytest
import torch

from replication import claims
from replication import config as cfg
from replication.metrics import inception
from replication.papercheck import REASON, built_with_standin


@pytest.fixture
def standin(tmp_path, monkeypatch):
    """The stand-in installed as the check's job entry does (undone afterwards)."""
    from replication.papercheck.standin import install

    monkeypatch.setattr(inception, "inception_extractor", inception.inception_extractor)
    install(tmp_path / "results")
    return inception.inception_extractor()


def test_standin_has_inceptions_layers_and_leaves_the_callers_random_streams(standin):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    from replication.metrics.fidelity import evaluate_samples, reference_statistics

    assert standin.standin and not standin.proxy and standin.weights_sha256.startswith("stand-in:")
    from replication.papercheck.standin import RandomInception

    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    first = RandomInception(standin.name, ["2048"])
    assert torch.equal(torch.rand(3), expected)  # building it drew nothing from the global stream
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(),
                                                 RandomInception(standin.name, ["2048"]).state_dict().values()))
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY
    assert issubclass(FEATURE_EXTRACTORS_REGISTRY[standin.name], FeatureExtractorInceptionV3)

    # IS and FID run on it at any sample count (the check cuts counts below FID's 2,048 dimensions)
    images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    reference = reference_statistics(images, standin, "noise", batch_size=2)
    assert reference["features"].shape == (2, 2048) and reference["features"].std() > 1e-3  # no denormals
    records = evaluate_samples(images.flip(0), standin, metrics=("is", "fid"), reference=reference, splits=2,
                               batch_size=2)
    assert [r["metric"] for r in records] == ["IS", "FID"]
    assert all((r["extractor"], r["weights_sha256"]) == (standin.name, standin.weights_sha256) for r in records)


def test_without_the_check_inception_needs_its_pinned_weights_and_full_rank(tmp_path):
    from replication.errors import ReplicationError
    from replication.metrics.fidelity import fid_statistics

    with pytest.raises(ReplicationError, match="missing Inception weights"):
        inception.inception_extractor(tmp_path)  # no stand-in unless the check installs it
    with pytest.raises(ReplicationError, match="FID needs more samples than feature dimensions"):
        fid_statistics(torch.zeros(10, 2048))


def test_scorecard_refuses_results_built_with_the_standin(tmp_path):
    results = tmp_path / "results"
    frame = claims.scorecard("paper", cfg.experiment_ids(), results)
    assert not built_with_standin(results) and (frame["reason"] != REASON).all()
    from replication.papercheck import mark_results

    mark_results(results)
    frame = claims.scorecard("paper", cfg.experiment_ids(), results)
    assert (frame["verdict"] == claims.NOT_EVALUATED).all() and (frame["reason"] == REASON).all()
    assert (frame["reproduced"] == "—").all()
    path, = [p for p in claims.write_scorecard(frame, tmp_path / "card") if p.suffix == ".md"]
    assert "not evaluated (paper-shape check: random-weight Inception stand-in)" in path.read_text()


# -- the check's deltas and plan ---------------------------------------------------------------

COUNTS = {"iterations", "log_every", "checkpoint_every", "every", "samples", "images", "n_train", "n_test", "epochs",
          "train_pool", "n_eval", "null_draws", "kid_subsets", "kid_subset_size", "subsets", "subset_size",
          "warmup_steps", "pretrain_steps", "min_iterations", "window", "slope_window", "block", "grad_window",
          "fid_samples", "reference_images", "sharpness_samples", "reconstruction_images", "curve_samples",
          "floor_draws", "eval_samples", "figure_samples", "ot_repeats", "measure_batches"}


def test_the_check_cuts_only_iteration_and_sample_counts():
    """Every key of the check's deltas is a count, never raised above the paper's, seeds a prefix of
    the paper's; run selections name paper runs; every experiment is covered."""
    from replication.papercheck.check import DELTAS
    from replication.settings import plain

    doc = cfg.read_yaml(DELTAS)
    assert sorted(doc) == cfg.experiment_ids()
    for exp, deltas in doc.items():
        paper = plain(cfg.resolve(exp, "paper"))

        def walk(delta, node, where):
            for key, value in delta.items():
                here = f"{exp}.{where}{key}"
                if key == "runs" and not where:
                    assert set(value) <= set(cfg.runs_of(exp, "paper")), here
                elif key == "seeds":
                    assert value == node[key][:len(value)] and value, here
                elif isinstance(value, dict):
                    walk(value, node[key], f"{where}{key}.")
                else:
                    assert key in COUNTS, f"{here} is not an iteration or sample count"
                    assert node[key] is None or value <= node[key], f"{here}: {value} raises the paper's {node[key]}"
        walk(deltas, paper, "")


def test_table2_check_runs_the_baseline_and_the_smallest_and_largest_architectures():
    from replication.experiments.wgangp_architectures import architecture_table
    from replication.papercheck.check import DELTAS

    table = architecture_table(cfg.resolve("wgangp_architectures", "paper"))
    sampled = table[table["architecture"] != "baseline"]
    size = sampled["params_generator"] + sampled["params_critic_wgangp"]
    smallest, largest = sampled["architecture"][size.idxmin()], sampled["architecture"][size.idxmax()]
    kept = cfg.runs_of("wgangp_architectures", "paper", DELTAS)
    assert {p["architecture"] for p in kept.values() if p["task"] == "train"} == \
        {"baseline", int(smallest[1:]), int(largest[1:])}
    assert {p["method"] for p in kept.values() if p["task"] == "train"} == {"gan", "wgangp"}


def test_the_plan_has_every_job_of_the_dag_in_order(tmp_path):
    """Each selected run (its declared upstream runs first), each evaluation, summary, notebook and
    the scorecard, every job after the jobs it reads."""
    from replication.papercheck.check import DELTAS, plan

    jobs = plan(["wae", "wgangp_lsun_architectures"], tmp_path / "r", tmp_path / "p")
    names = [j.name for j in jobs]
    assert names[0] == "metrics_calibration/proxy_fashion-mnist"  # both declare it upstream
    for exp in ("wae", "wgangp_lsun_architectures"):
        assert {f"{exp}/{r}" for r in cfg.runs_of(exp, "paper", DELTAS)} <= set(names)
        assert {f"{exp}/{r} evaluate" for r in cfg.evaluated_runs(exp, "paper", DELTAS)} <= set(names)
    assert len(cfg.runs_of("wgangp_lsun_architectures", "paper", DELTAS)) == 10  # 7 x WGAN-GP + 3 on the baseline
    assert {"wae/fig2 notebook", "wae/table1 notebook", "wgan_gp/fig2 notebook", "scorecard"} <= set(names)
    position = {n: i for i, n in enumerate(names)}
    assert all(position[d] < position[j.name] for j in jobs for d in j.deps)
    assert all("--extra-deltas" in j.args for j in jobs)


def test_readme_budget_is_the_budget_of_the_settings():
    """The README's GPU budget is replication.budget's table of the current settings."""
    from replication.budget import markdown

    assert markdown() in (cfg.REPO / "README.md").read_text(), "rerun `python -m replication.budget` into the README"


def test_two_paper_shape_jobs_run_on_their_fixtures(tmp_path):
    """Two jobs of the check as it runs them (a process each, the stand-in installed, the check's
    deltas): Table 2's real-data IS on ImageNet 32 pickle batches, and a WGAN Figure 3 GAN run on an
    LSUN lmdb at 64x64 with its FID probes (it once stopped reading an undeclared proxy run)."""
    import dataclasses
    import json

    from replication.papercheck.check import DELTAS, SCALE, plan, prepare_data, run_jobs

    prepare_data(tmp_path / "data", ["imagenet32", "lsun-bedroom"])
    jobs = {j.name: j for j in plan(["wgangp_architectures", "wgan_curves"], tmp_path / "results", tmp_path / "reports")}
    picked = [dataclasses.replace(jobs[name], deps=[]) for name in
              ("wgangp_architectures/real_score", "wgan_curves/gan_mlp_mlp_s0")]
    rows = run_jobs(picked, tmp_path, parallel=2, timeout=900)
    assert [rows[j.name]["status"] for j in picked] == ["ok", "ok"], (tmp_path / "logs").iterdir()
    assert all(rows[j.name]["peak_mib"] > 100 and rows[j.name]["seconds"] > 0 for j in picked)
    real = json.loads((tmp_path / "results" / SCALE / "wgangp_architectures" / "real_score" / "result.json").read_text())
    assert real["summary"]["extractor"] == inception.STANDIN_EXTRACTOR
    assert real["summary"]["n_samples"] == cfg.resolve("wgangp_architectures", SCALE, DELTAS).evaluation.samples
    curve = (tmp_path / "results" / SCALE / "wgan_curves" / "gan_mlp_mlp_s0" / "evaluation.csv").read_text()
    assert curve.splitlines()[0].split(",")[:2] == ["step", "fid"] and len(curve.splitlines()) == 3  # steps 0, 1
    assert built_with_standin(tmp_path / "results")
