"""wgan_curves (WGAN Figures 3, 4, 8): settings tied to the registry and the papers' schedules,
the median-filtered curves read at evaluations, the sweep's failure criterion, the GAN gate,
and the real-image batch source."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from replication import config as cfg
from replication.data.batches import ImageSource
from replication.errors import ReplicationError
from replication.runs import Results
from replication.experiments import wgan_curves as wc
from replication.io import write_json
from replication.nets import count_parameters
from replication.train import parse_training

PAPER = cfg.resolve("wgan_curves", "paper")


def test_paper_networks_have_the_codes_parameter_counts():
    """The settings' networks at 64x64x3 have the parameter counts of models/dcgan.py and models/mlp.py [C]."""
    counts = {name: count_parameters(wc.network_spec(PAPER, name, 3)) for name in PAPER.networks}
    assert counts == {"dcgan_g": 3_576_704, "mlp_g": 6_880_768, "dcgan_d": 2_765_568, "mlp_d": 6_817_793}


def test_paper_training_blocks_follow_main_py_and_pytorch_examples():
    wgan = parse_training(PAPER.methods["wgan"].training)
    steps = [wgan.critic_schedule.steps(it) for it in (0, 24, 25, 499, 500, 501, 1000)]
    assert steps == [100, 100, 5, 5, 100, 5, 100]  # Diters = 100 if it < 25 or it % 500 == 0 else 5
    assert (wgan.lipschitz.method, wgan.lipschitz.clip_value, wgan.lipschitz.timing) == ("clip", 0.01, "before")
    assert {k: (o.name, o.lr) for k, o in wgan.optimizers.items()} == {"critic": ("rmsprop", 5e-5), "generator": ("rmsprop", 5e-5)}
    gan = parse_training(PAPER.methods["gan"].training)
    assert gan.objective == "gan_ns" and gan.critic_schedule.steps(0) == 1 and gan.lipschitz.method == "none"
    assert all((o.name, o.lr, o.betas) == ("adam", 2e-4, (0.5, 0.999)) for o in gan.optimizers.values())
    assert (wgan.iterations, gan.iterations, wgan.batch_size) == (600_000, 400_000, 64)


def test_median_filter_removes_spikes_and_keeps_the_ends():
    x = np.full(300, 2.0)
    x[150] = 50.0  # a warm-up spike
    out = wc.smoothed(x, 101)
    assert np.allclose(out, 2.0)  # scipy.signal.medfilt would pull the first and last 50 towards 0


# -- a fabricated experiment: curves and scores chosen by the test ------------------------------

def _fabricate(tmp_path, curves: dict) -> Results:
    """Runs of wgan_curves at smoke with given per-iteration curves and FID at evaluations:
    curves[run] = (divergence per iteration, generator cost per iteration, {step: fid})."""
    res = Results("wgan_curves", "smoke", tmp_path)
    for run in res.runs():
        divergence, cost, fid = curves[run]
        write_json(res.path(run, "result.json"), {"summary": {"proxy": True}})
        pd.DataFrame({"step": range(len(divergence)), "divergence": divergence,
                      "generator_loss": cost}).to_csv(res.path(run, "training.csv"), index=False)
        pd.DataFrame({"step": list(fid), "fid": list(fid.values())}).to_csv(res.path(run, "evaluation.csv"), index=False)
    return res


def _curves(res, *, wgan_fid, mlp_shift=0.5, sweep_fid=None, gan_fid=None, gan_js=None):
    T = res.settings.methods["wgan"].training.iterations
    every = res.settings.methods["wgan"].training.evaluation.every
    steps = list(range(0, T + 1, every))
    falling = np.linspace(1.5, 0.2, T)
    out = {}
    for run in res.runs():
        p = res.params(run)
        if p["method"] == "wgan" and p["model"] != "mlp_mlp":
            shift = mlp_shift if p["model"] == "mlp_dcgan" else 0.0
            out[run] = (falling + shift, np.zeros(T), {s: wgan_fid(s) * (1 + shift) for s in steps})
        elif p["method"] == "wgan":
            out[run] = (np.full(T, 15.0), np.zeros(T), {s: (sweep_fid or (lambda s: 30.0))(s) for s in steps})
        else:
            out[run] = (gan_js if gan_js is not None else np.full(T, 0.69), np.linspace(3, 7.5, T),
                        {s: (gan_fid or (lambda s: 30.0))(s) for s in steps})
    return out


def test_summary_measures_the_claims_on_known_curves(tmp_path):
    res = Results("wgan_curves", "smoke", tmp_path)
    T = res.settings.methods["wgan"].training.iterations
    better = lambda s: 30.0 - 20.0 * s / T  # noqa: E731  FID falls with the estimate
    res = _fabricate(tmp_path, _curves(res, wgan_fid=better, gan_fid=better, gan_js=np.linspace(0.1, 0.69, T)))
    m = wc.summarize(res)
    assert m["wgan_estimate_fid_spearman"]["value"] == pytest.approx(1.0)
    # MLP run: estimate +0.5 absolute and FID x1.5 over the last quarter -> both differences positive
    assert m["wgan_mlp_above_dcgan"]["value"][0] > 0.1
    # the flat sweep run fails by quality (constant 30 > 0.5 x 30) and its estimate is flat
    assert m["wgan_failing_run_flat"]["value"] == pytest.approx(0.0)
    # the GAN runs improved (30 -> 10); the JS estimate rises and the cost rises as FID falls
    assert m["gan_curves_do_not_track"]["value"] == pytest.approx(-1.0)


def test_gates_give_not_evaluated_with_a_reason(tmp_path):
    res = Results("wgan_curves", "smoke", tmp_path)
    T = res.settings.methods["wgan"].training.iterations
    better = lambda s: 30.0 - 20.0 * s / T  # noqa: E731
    # every swept run learns (FID halves) and no GAN run improves
    res = _fabricate(tmp_path, _curves(res, wgan_fid=better, sweep_fid=better))
    m = wc.summarize(res)
    assert m["wgan_failing_run_flat"]["value"] is None and "no swept learning rate failed" in m["wgan_failing_run_flat"]["reason"]
    assert m["gan_curves_do_not_track"]["value"] is None and "no GAN run improved" in m["gan_curves_do_not_track"]["reason"]


def test_a_falling_gan_curve_that_tracks_quality_breaks_the_gan_claim(tmp_path):
    """The GAN claim can fail: an improved GAN run whose JS estimate falls with FID."""
    from replication import claims as cl

    res = Results("wgan_curves", "smoke", tmp_path)
    T = res.settings.methods["wgan"].training.iterations
    better = lambda s: 30.0 - 20.0 * s / T  # noqa: E731
    res = _fabricate(tmp_path, _curves(res, wgan_fid=better, gan_fid=better, gan_js=np.linspace(0.69, 0.1, T)))
    claim = next(c for c in cl.load_claims() if c.key == "gan_curves_do_not_track")
    verdict, _, value = cl.judge(claim, wc.summarize(res)["gan_curves_do_not_track"])
    assert value == pytest.approx(1.0) and verdict == cl.NOT_REPRODUCED


def test_sweep_chooses_the_smallest_failing_rate(tmp_path, monkeypatch):
    res = Results("wgan_curves", "small", tmp_path)
    runs = res.runs(method="wgan", model="mlp_mlp", seed=0)
    assert [res.params(r)["lr"] for r in runs] == sorted(res.params(r)["lr"] for r in runs) and len(runs) == 3
    fails = {runs[0]: False, runs[1]: True, runs[2]: True}
    monkeypatch.setattr(wc, "failed", lambda _res, run: fails[run])
    assert wc.chosen_failing_run(res, 0) == runs[1]


# -- data and bad input ------------------------------------------------------------------------

def test_image_source_scales_to_symmetric_range_and_keeps_the_last_batch():
    images = torch.tensor([0, 255, 128, 1, 2], dtype=torch.uint8).view(5, 1, 1, 1)
    src = ImageSource(images, 2, seed=0, device=torch.device("cpu"))
    batches = [src.next() for _ in range(3)]
    assert [len(b) for b in batches] == [2, 2, 1]  # no drop_last (WGAN main.py's DataLoader)
    values = sorted(torch.cat(batches).flatten().tolist())
    assert values[0] == -1.0 and values[-1] == 1.0 and values[2] == pytest.approx(2 * (2 / 255 - 0.5))
    state = src.state_dict()
    again = ImageSource(images, 2, seed=0, device=torch.device("cpu"))
    again.load_state_dict(state)
    assert torch.equal(src.next(), again.next())
    with pytest.raises(ValueError, match="uint8"):
        ImageSource(images.float(), 2, seed=0, device=torch.device("cpu"))


def test_bad_quality_settings_are_one_line(tmp_path):
    settings = cfg.resolve("wgan_curves", "smoke")
    deltas = tmp_path / "bad.yaml"
    deltas.write_text(yaml.safe_dump({"wgan_curves": {"quality": {"metric": "kid"}}}))
    with pytest.raises(ReplicationError, match="quality.metric: unknown metric 'kid'") as err:
        cfg.resolve("wgan_curves", "smoke", str(deltas))
    assert "\n" not in str(err.value)
    assert math.isnan(wc.spearman([1, 2, 3], [5, 5, 5]))  # a constant score ranks nothing
    with pytest.raises(ReplicationError, match="unknown network 'resnet_g'"):
        wc.network_spec(settings, "resnet_g", 1)


def test_relative_range_of_degenerate_curves():
    # a critic whose output went constant logs -Loss_D = 0 at every step: perfectly flat, not undefined
    assert wc.relative_range_of([0.0] * 50) == 0.0
    assert wc.relative_range_of([3.0] * 50) == 0.0
    assert wc.relative_range_of([-0.1, 0.0, 0.0, 0.2]) == math.inf   # moving around a zero median
    assert wc.relative_range_of([1.0, 2.0, 3.0]) == pytest.approx(1.0)
    assert math.isnan(wc.relative_range_of([]))
