"""WGAN-GP Table 2: the seeded sampler (reproducible, a scale studies a prefix of the paper's
list), Table 1's networks at the base DCGAN's parameter counts with each method's critic
normalisation and Appendix B's weight decay, the threshold rescaling, the counts, the sign test
and the claims' logic (the baseline gates the comparison; the only-GAN bound flips it), one clear
line on bad input, a killed run that resumes bit-identically, and a study killed mid-way whose
rerun trains only the missing jobs."""

import os
import signal
import subprocess
import time

import pandas as pd
import pytest
import torch
import yaml
from helpers import snakemake_bin
from test_wgan_stability import _proxy, fashion_root, prepared  # noqa: F401 (the smoke proxy, built once)
from test_workflow import _workdir
from torch import nn

from replication import config as cfg
from replication.errors import ReplicationError
from replication.runs import execute_evaluation, execute_run
from replication.experiments.wgangp_architectures import (BASELINE, OUTCOMES, architecture_table, factors_of, judge,
                                                          equivalence, outcome_counts, published_comparison, published_table,
                                                          rescaled, run_setup, sign_test, study_from)
from replication.nets import build, count_parameters
from replication.nets.sampler import sample_architecture

EXP = "wgangp_architectures"


def test_runs_expand_a_count_of_architectures_into_indices():
    paper, small = cfg.runs_of(EXP, "paper"), cfg.runs_of(EXP, "small")
    assert len(paper) == 2 + 2 * 200 + 2  # sampler list, real score, 200 architectures x 2 methods, the baseline x 2
    assert paper["wgangp_a199"] == {"task": "train", "architecture": 199, "method": "wgangp"}
    assert paper["gan_baseline"] == {"task": "train", "method": "gan", "architecture": BASELINE}
    assert set(cfg.evaluated_runs(EXP, "paper")) == {r for r, p in paper.items() if p["task"] == "train"}
    assert set(small) < set(paper)  # a smaller scale studies a prefix of the paper's list


def test_sampler_is_seeded_uniform_and_keeps_its_draws_across_widths():
    s = cfg.resolve(EXP, "paper")
    space, seed = s.sampler.space, s.sampler.seed
    draws = [sample_architecture(space, seed, i) for i in range(200)]
    assert draws == [sample_architecture(space, seed, i) for i in range(200)]  # reproducible from the seed
    assert draws != [sample_architecture(space, seed + 1, i) for i in range(200)]
    for role in ("generator", "critic"):
        for factor, choices in space.items():
            seen = pd.Series([d[role][factor] for d in draws]).value_counts()
            assert set(seen.index) == set(choices)  # every choice drawn, none outside the space
            assert seen.min() >= 200 / len(choices) / 2  # roughly uniform
    thin = {**space, "width": [4, 8, 16]}  # a scale's smaller widths, listed in the same order
    for i in range(20):
        a, b = draws[i], sample_architecture(thin, seed, i)
        for role in a:
            assert {k: v for k, v in a[role].items() if k != "width"} == {k: v for k, v in b[role].items() if k != "width"}
            assert space["width"].index(a[role]["width"]) == thin["width"].index(b[role]["width"])


def test_baseline_dcgan_has_the_reconstructed_parameter_counts_and_depth_adds_layers():
    s = cfg.resolve(EXP, "paper")
    _, nets = run_setup(s, "wgangp", BASELINE)
    # igul222/nn wgan_imagenet32_stab.py's DCGAN at DIM 64 [C], counted by hand:
    # G 128*4096+4096 + BN 512 + deconv 256->128 (819,328) + 256 + 128->64 (204,864) + 128 + 64->3 (4,803)
    assert count_parameters(nets["generator"]) == 1_558_275
    # D conv 3->64 (4,864) + 64->128 (204,928) + LN 256 + 128->256 (819,456) + 512 + Linear 4096->1 (4,097)
    assert count_parameters(nets["critic"]) == 1_034_113
    deeper = {**nets["generator"], "depth": 8}  # four 3x3 convs 128->128 at 8x8, each with its norm
    assert count_parameters(deeper) - count_parameters(nets["generator"]) == 4 * (128 * 128 * 9 + 128 + 256)
    g = build({**nets["generator"], "depth": 20})
    assert sum(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) for m in g.modules()) == 20


def test_each_method_normalises_the_critic_its_way_with_appendix_b_settings():
    s = cfg.resolve(EXP, "paper")
    for method, norm in (("gan", nn.BatchNorm2d), ("wgangp", nn.GroupNorm)):
        training, nets = run_setup(s, method, BASELINE)
        critic, generator = build(nets["critic"]), build(nets["generator"])
        assert any(isinstance(m, norm) for m in critic.modules())
        assert any(isinstance(m, nn.BatchNorm2d) for m in generator.modules())  # G's batch norm either way
        assert training.optimizers["critic"].weight_decay == 0.001  # a normalised critic
    gan, wgangp = run_setup(s, "gan", BASELINE)[0], run_setup(s, "wgangp", BASELINE)[0]
    o = gan.optimizers["generator"]
    assert (o.name, o.lr, o.betas, o.weight_decay) == ("adam", 0.0002, (0.5, 0.999), 0.0)
    o = wgangp.optimizers["generator"]
    assert (o.name, o.lr, o.betas, o.weight_decay) == ("adam", 0.0001, (0.0, 0.9), 0.0)
    assert (wgangp.lipschitz.method, wgangp.lipschitz.gp_lambda) == ("gp", 10.0) and wgangp.critic_schedule.n_critic == 5
    assert gan.iterations == wgangp.iterations == 100_000
    plain = next(i for i in range(200) if not factors_of(s, i)["critic"]["norm"])
    training, nets = run_setup(s, "wgangp", plain)
    assert training.optimizers["critic"].weight_decay == 0.0
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in build(nets["critic"]).modules())


@pytest.mark.parametrize("scale", ["smoke", "small"])
def test_architectures_at_reduced_scales_keep_their_depth_and_take_the_datas_channels(scale):
    s, paper = cfg.resolve(EXP, scale), cfg.resolve(EXP, "paper")
    table = architecture_table(s)
    assert list(table["architecture"]) == [f"a{i:03d}" for i in range(s.sampler.architectures)] + [BASELINE]
    for i in range(min(3, s.sampler.architectures)):
        _, nets = run_setup(s, "wgangp", i)
        g, d = build(nets["generator"]), build(nets["critic"])
        fake = g(torch.randn(4, s.nz))
        assert fake.shape == (4, s.data.channels, 32, 32) and d(fake).shape == (4, 1)
        assert table.loc[i, "params_generator"] == count_parameters(nets["generator"])
        full = run_setup(paper, "wgangp", i)[1]
        for role in ("generator", "critic"):  # depth, nonlinearity and norm as at paper; width and channels differ
            assert {k: v for k, v in nets[role].items() if k not in ("width", "channels")} == {
                k: v for k, v in full[role].items() if k not in ("width", "channels")}


def test_thresholds_rescale_to_the_proxy_by_the_settings_rule():
    from replication.settings.experiments import Rescale

    rule = Rescale(baseline_score=7.24, baseline_fraction_of_real=0.504)
    assert rescaled([1.0, 5.0, 9.0], 12.0, rule, proxy=False) == [1.0, 5.0, 9.0]  # Inception: as published
    low, base = rescaled([1.0, 7.24], 9.0, rule, proxy=True)
    assert low == 1.0 and base == pytest.approx(1 + 0.504 * 8.0)  # the paper's DCGAN -> half the real score's excess
    with pytest.raises(ReplicationError):
        rescaled([5.0], None, rule, proxy=True)


def test_published_table_rows_sum_to_200_and_match_themselves():
    published = published_table(cfg.resolve(EXP, "paper"))
    assert len(published) == 17 and (published[list(OUTCOMES)].sum(axis=1) == 200).all()
    assert published.loc[published["threshold"] == 5.0, list(OUTCOMES)].values.tolist() == [[0, 147, 42, 11]]


def test_counts_and_sign_test():
    table = pd.DataFrame({"gan": [2.0, 6.0, 1.0, 4.0], "wgangp": [5.0, 7.0, 1.0, 3.0]})
    counts = outcome_counts(table, [3.5])
    assert counts.iloc[0].to_dict() == {"only_gan": 1, "only_wgangp": 1, "both": 1, "neither": 1}
    assert sign_test(0, 0) == 1.0  # ties only: nothing to count
    assert sign_test(5, 0) == pytest.approx(1 / 32) and sign_test(4, 0) == pytest.approx(1 / 16)
    assert sign_test(9, 1) == pytest.approx(11 / 1024)


def _study(gan, wgangp, baseline=(7.0, 7.5), real=None):
    """A synthetic study on Inception features (thresholds as published)."""
    s = cfg.resolve(EXP, "paper")
    rows = [{"architecture": f"a{i:03d}", "gan": g, "wgangp": w, "proxy": False} for i, (g, w) in enumerate(zip(gan, wgangp))]
    rows.append({"architecture": BASELINE, "gan": baseline[0], "wgangp": baseline[1], "proxy": False})
    return study_from(pd.DataFrame(rows), real or {"is_mean": 11.0}, s), s.judging


def _claims(*args, **kwargs):
    st, judging = _study(*args, **kwargs)
    out = judge(st, judging, "protocol", "files")
    return out["counts_match_published"]["value"], out["wgangp_more_often"]["value"]


def test_claims_follow_the_scores():
    wins = ([2.0] * 12 + [7.0] * 8, [7.0] * 12 + [7.5] * 8)  # at 6.5: 12 only WGAN-GP, 8 both
    assert _claims(*wins)[1] is True                                  # sign test p = 2^-12, no only GAN
    assert _claims(wins[1], wins[0])[1] is False                      # the methods swapped
    assert _claims([7.0] * 20, [7.5] * 20)[1] is False                # all ties at the test threshold: p = 1
    one_gan = ([2.0] * 10 + [7.0] * 3 + [7.0] * 7, [7.0] * 10 + [1.5] * 3 + [7.5] * 7)
    assert _claims(*one_gan)[1] is False                              # p = 0.046, but 3 of 20 only GAN > the 10% bound
    result = judge(*_study(*wins, baseline=(1.0, 7.5)), "protocol", "files")["wgangp_more_often"]
    assert result["value"] is None and "baseline DCGAN" in result["reason"]  # no positive control: not evaluated


def test_the_sign_test_is_made_at_the_highest_threshold_the_gan_baseline_clears():
    for baseline, row in ((7.24, 7.0), (7.0, 6.5), (4.0, 3.5), (1.01, 1.0)):
        st, _ = _study([2.0], [2.0], baseline=(baseline, 1.0))
        assert st["counts"]["published_threshold"].iloc[st["test_row"]] == row
    st, _ = _study([2.0], [2.0], baseline=(1.0, 9.0))
    assert st["test_row"] is None


def test_counts_against_the_published_table():
    published = published_table(cfg.resolve(EXP, "paper"))
    same = published_comparison(published[list(OUTCOMES)], published)
    assert len(same) == 68 and same["p_bonferroni"].min() == 1.0  # the published counts match themselves
    shifted = published[list(OUTCOMES)].copy()
    shifted.loc[8, ["only_wgangp", "neither"]] = [117, 41]  # 30 of 147 'only WGAN-GP' at 5.0 fail instead
    worst = published_comparison(shifted, published).sort_values("p_bonferroni").iloc[0]
    assert worst["p_bonferroni"] < 0.05 and worst["threshold"] == 5.0


def test_the_count_comparison_is_an_equivalence_test():
    """TOST at the headline cells: the published counts are equivalent to themselves; a 22%
    shortfall of 'only WGAN-GP' at 5.0 (115 against 147 of 200, which the old Fisher test with a
    Bonferroni correction passed) is not; a shift well inside the margin is."""
    settings = cfg.resolve(EXP, "paper")
    published = published_table(settings)
    same = equivalence(published[list(OUTCOMES)], published, settings.judging)
    assert len(same) == 8 and same["p_tost"].max() < 0.05
    short = published[list(OUTCOMES)].copy()
    short.loc[8, ["only_wgangp", "neither"]] = [115, 43]
    cells = equivalence(short, published, settings.judging).set_index(["threshold", "outcome"])
    assert cells.loc[(5.0, "only_wgangp"), "p_tost"] > 0.5
    close = published[list(OUTCOMES)].copy()
    close.loc[8, ["only_wgangp", "neither"]] = [140, 18]
    assert equivalence(close, published, settings.judging)["p_tost"].max() < 0.05


def test_bad_inputs_are_one_line():
    s = cfg.resolve(EXP, "smoke")
    for method, architecture, message in (("wgan", 0, "unknown method"), ("gan", 2, "unknown architecture"),
                                          ("gan", "dcgan", "unknown architecture"), ("gan", -1, "unknown architecture")):
        with pytest.raises(ReplicationError, match=message) as err:
            run_setup(s, method, architecture)
        assert "\n" not in str(err.value)


def _deltas(path, block):
    path.write_text(yaml.safe_dump({EXP: block} if block else {}))
    return path


def test_a_killed_run_resumes_bit_identically_and_evaluates_from_its_checkpoint(fashion_root, prepared, tmp_path):
    """Train to the first checkpoint (a run stopped there), resume to the end, compare with an
    uninterrupted run; then the evaluation job scores the final checkpoint alone, and refuses a
    checkpoint of another width in one line."""
    from replication.io import load_torch, read_json

    done = {}
    for name, stops in (("whole", [4]), ("resumed", [2, 4])):  # checkpoint every 2 at smoke
        results = tmp_path / name
        _proxy(results, prepared)
        for stop in stops:
            deltas = _deltas(tmp_path / f"{name}.yaml", {"training": {"iterations": stop}})
            execute_run(EXP, "wgangp_a001", "smoke", "cpu", 1, results, deltas)
        run = results / "smoke" / EXP / "wgangp_a001"
        done[name] = load_torch(run / "final" / "generator.pt")["state_dict"]
    assert all(torch.equal(done["whole"][k], done["resumed"][k]) for k in done["whole"])

    scored = read_json(execute_evaluation(EXP, "wgangp_a001", "smoke", "cpu", 1, tmp_path / "whole", deltas))
    assert scored["metrics"]["is_mean"] >= 1.0 and scored["metrics"]["n_samples"] == 200
    wider = _deltas(tmp_path / "wider.yaml", {"training": {"iterations": 4}, "sampler": {"space": {"width": [4, 8, 16]}}})
    with pytest.raises(ReplicationError, match="does not match architecture a001") as err:
        execute_evaluation(EXP, "wgangp_a001", "smoke", "cpu", 1, tmp_path / "whole", wider)
    assert "\n" not in str(err.value)
    two = _deltas(tmp_path / "two.yaml", {"data": {"channels": 2}})  # Fashion-MNIST is grey (3 would repeat it)
    with pytest.raises(ReplicationError, match="1 channel") as err:
        execute_run(EXP, "gan_a000", "smoke", "cpu", 1, tmp_path / "whole", two)
    assert "\n" not in str(err.value) and not (tmp_path / "whole" / "smoke" / EXP / "gan_a000" / "result.json").exists()


KILL_RUNS = ["gan_a000", "wgangp_a000", "gan_baseline", "wgangp_baseline"]


def _snakemake(work, deltas, *extra, **popen):
    targets = [f"results/smoke/{EXP}/{run}/result.json" for run in KILL_RUNS]
    return subprocess.Popen([snakemake_bin(), "--cores", "1", "--rerun-incomplete", *extra, *targets, "--config",
                             "scale=smoke", f"extra_deltas={deltas}"], cwd=work, start_new_session=True, text=True,
                            **popen)


@pytest.mark.slow
def test_a_study_killed_mid_way_reruns_only_the_missing_trainings(fashion_root, prepared, tmp_path):
    work = _workdir(tmp_path)
    _proxy(work / "results", prepared)
    deltas = _deltas(tmp_path / "one.yaml", {"sampler": {"architectures": 1}})
    out, state = work / "results" / "smoke" / EXP, work / "results" / ".state" / "smoke" / EXP

    def killable() -> bool:  # two trainings done and the next one started (so Snakemake has recorded the two)
        done = [r for r in KILL_RUNS if (out / r / "result.json").exists()]
        return len(done) >= 2 and any((state / r).exists() for r in KILL_RUNS if r not in done)

    proc = _snakemake(work, deltas, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not killable():  # kill mid-way: after two of the four jobs, during the third
        assert proc.poll() is None and time.time() < deadline, "the study ended before it could be killed"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {r: (out / r / "result.json").read_bytes() for r in KILL_RUNS if (out / r / "result.json").exists()}
    assert 2 <= len(finished) < len(KILL_RUNS)

    unlock = subprocess.run([snakemake_bin(), "--unlock", "--config", "scale=smoke", f"extra_deltas={deltas}"],
                            cwd=work, capture_output=True)
    assert unlock.returncode == 0
    dry = _snakemake(work, deltas, "-n", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    planned = {line.split("run=")[1].split(",")[0].strip() for line in dry.communicate()[0].splitlines()
               if "wildcards:" in line and f"experiment={EXP}" in line}
    assert planned == set(KILL_RUNS) - set(finished)  # only the missing trainings
    assert _snakemake(work, deltas, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).wait(timeout=300) == 0
    for run in KILL_RUNS:
        assert (out / run / "result.json").exists()
    assert all((out / r / "result.json").read_bytes() == b for r, b in finished.items())  # not retrained
