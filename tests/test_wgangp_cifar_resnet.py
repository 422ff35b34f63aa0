"""WGAN-GP Table 3 (wgangp_cifar_resnet): the two models' declared settings against
gan_cifar_resnet.py, the labelled and dequantised data path, conditional sampling in
evaluation, a checkpoint of the other model, and the claims' measures on hand-made results
(a value past the margin or tolerance flips the verdict)."""


import pandas as pd
import pytest
import torch

from replication import claims as cl
from replication import config as cfg
from replication.data.batches import ImageSource, SamplerSource
from replication.data.toy import labelled_gaussian_noise
from replication.errors import ReplicationError
from replication.runs import Results, RunContext
from replication.experiments import wgangp_cifar_resnet as exp
from replication.io import write_json
from replication.nets import build
from replication.train import EvalData, Sources, build_trainer

EXP = "wgangp_cifar_resnet"


@pytest.mark.parametrize("scale", cfg.SCALES)
def test_every_model_is_a_valid_training_block(scale):
    settings = cfg.resolve(EXP, scale)
    assert list(settings.models) == list(exp.MODELS)
    for model in exp.MODELS:
        spec, networks = settings.models[model].training, settings.models[model].networks
        assert (spec.acgan is not None) == (model == "conditional") == (exp.classes_of(networks) == 10)
        assert spec.gen_batch == 2 * spec.batch_size and spec.evaluation.probes[0] == "quality"


def test_paper_settings_follow_gan_cifar_resnet_py():
    """gan_cifar_resnet.py [C]: Adam 2e-4 (0, 0.9) decayed linearly to 0 over 100k, n_critic 5,
    lambda 10, batch 64 / 128, ACGAN scales 1.0 / 0.1, and the registry pair's parameter counts."""
    settings = cfg.resolve(EXP, "paper")
    setup = {m: (settings.models[m].training, settings.models[m].networks) for m in exp.MODELS}
    for model, (spec, networks) in setup.items():
        assert (spec.iterations, spec.batch_size, spec.gen_batch, spec.critic_schedule.n_critic) == (100_000, 64, 128, 5)
        assert spec.lipschitz.method == "gp" and spec.lipschitz.gp_lambda == 10.0
        assert all((o.name, o.lr, o.betas) == ("adam", 2e-4, (0.0, 0.9)) for o in spec.optimizers.values())
        assert [spec.lr_factor(i) for i in (0, 50_000, 100_000)] == [1.0, 0.5, 0.0]
    assert setup["conditional"][0].acgan.critic_scale == 1.0
    assert setup["conditional"][0].acgan.generator_scale == 0.1
    count = {m: tuple(sum(p.numel() for p in build(nets[r]).parameters()) for r in ("generator", "critic"))
             for m, (_, nets) in setup.items()}
    assert count == {"unconditional": (1_204_483, 1_053_825), "conditional": (1_218_307, 1_055_115)}
    assert settings.evaluation.samples == 50_000 and settings.evaluation.protocol == "wgan_gp_is"


def test_an_unknown_model_is_one_line(tmp_path):
    from replication.runs import execute_run

    with pytest.raises(ReplicationError, match="unknown run 'acgan_s0' of wgangp_cifar_resnet at scale smoke; runs: "
                                               "unconditional_s0, conditional_s0"):
        execute_run(EXP, "acgan_s0", "smoke", "cpu", 1, tmp_path)


# -- data: labelled, dequantised real batches; (z, labels) noise ------------------------------------

def test_labelled_dequantised_batches_stay_in_their_bin_and_resume():
    """gan_cifar_resnet.py: 2 (x/256 - 0.5) + U[0, 1/128) keeps every value inside its pixel's
    bin ((x+1) 128 floors back to the uint8 value); labels travel with their rows; a source
    restored from its state draws the same batches (noise included)."""
    images = torch.arange(40 * 3 * 4 * 4, dtype=torch.int64).remainder(256).to(torch.uint8).view(40, 3, 4, 4)
    labels = torch.arange(40) % 10
    images[:, 0, 0, 0] = labels.to(torch.uint8) * 7  # a pixel that names the row's label
    source = ImageSource(images, 8, seed=3, device=torch.device("cpu"), drop_last=True, labels=labels, dequantize=True)
    for _ in range(6):  # past an epoch boundary
        x, y = source.next()
        assert x.dtype == torch.float32 and x.min() >= -1 and x.max() < 1
        pixels = torch.floor((x + 1) * 128)
        assert torch.equal(pixels[:, 0, 0, 0], (y * 7).float())
        assert (x - (pixels / 128 - 1)).abs().max() < 1 / 128 and (x != pixels / 128 - 1).any()
    state = source.state_dict()
    ahead = [source.next() for _ in range(3)]
    source.load_state_dict(state)
    for x, y in ahead:
        x2, y2 = source.next()
        assert torch.equal(x, x2) and torch.equal(y, y2)
    plain = ImageSource(images, 8, seed=3, device=torch.device("cpu"))
    assert isinstance(plain.next(), torch.Tensor)  # no labels: images alone, 2 (x/255 - 0.5) as before


def test_labelled_noise_source_and_conditional_sampling_in_evaluation(tmp_path):
    """(z, y) noise: the engine trains a conditional generator on it and the evaluation's grid
    and samples pass the drawn labels to G (not labels G would draw for itself)."""
    noise = labelled_gaussian_noise(6, 10)
    z, y = SamplerSource(noise, 5, torch.device("cpu"), 1).next()
    assert z.shape == (5, 6) and y.dtype == torch.int64 and 0 <= int(y.min()) and int(y.max()) < 10

    class Real:
        g = torch.Generator().manual_seed(0)

        def next(self):
            return torch.rand(4, 3, 32, 32, generator=self.g) * 2 - 1, torch.randint(10, (4,), generator=self.g)

        def state_dict(self):
            return {}

        def load_state_dict(self, state):
            pass

    nets = {"generator": {"arch": "resnet_cifar_g", "nz": 6, "width": 8, "num_classes": 10},
            "critic": {"arch": "resnet_cifar_d", "width": 8, "acgan": True}}
    block = {"objective": "wgan", "iterations": 1, "batch_size": 4, "generator_batch_size": 8,
             "lipschitz": {"method": "gp"}, "critic_schedule": {"n_critic": 1},
             "acgan": {"critic_scale": 1.0, "generator_scale": 0.1}, "log_every": 1, "checkpoint_every": 1,
             "optimizers": {"critic": {"name": "adam", "lr": 2e-4, "betas": [0.0, 0.9]},
                            "generator": {"name": "adam", "lr": 2e-4, "betas": [0.0, 0.9]}},
             "evaluation": {"every": 1, "probes": ["sample_grid", "labels"], "grid": 10}}
    seen = []

    def labels_probe(ev):
        ev.fake_samples(6, 3)
        return {}

    t = build_trainer(block, nets, Sources(real=Real(), noise=SamplerSource(noise, 4, torch.device("cpu"), 2)),
                      device=torch.device("cpu"), state_dir=tmp_path, seed_for=lambda p: 7,
                      eval_data=EvalData(noise=noise), probes={"labels": labels_probe})
    t.networks["generator"].register_forward_pre_hook(lambda m, args: seen.append(args[1] if len(args) > 1 else None))
    t.fit()
    assert (tmp_path / "samples" / "step_0000001.png").exists()
    fixed = t.evaluator.fixed_noise
    assert isinstance(fixed, tuple) and torch.equal(seen[0], fixed[1])  # step-0 grid: the fixed labels
    assert all(y is not None for y in seen)


def test_a_checkpoint_of_the_other_model_is_one_line(tmp_path):
    settings = cfg.resolve(EXP, "smoke")
    ctx = RunContext(EXP, "unconditional_s0", "smoke", settings, {"model": "unconditional", "seed": 0}, tmp_path,
                     tmp_path / "state", torch.device("cpu"), tmp_path)
    conditional = build({"arch": "resnet_cifar_g", "width": 8, "num_classes": 10})
    with pytest.raises(ReplicationError, match="the checkpoint's generator has 10 classes, the unconditional model 0"):
        exp.EVALUATE(ctx, {"generator": conditional})


def test_a_data_set_without_labels_cannot_train_the_conditional_model(monkeypatch):
    from replication.data import ImageSet

    from replication.recipes import images
    from replication.settings.experiments import ImageData

    unlabelled = ImageSet(torch.zeros(4, 1, 28, 28, dtype=torch.uint8), None, "lsun-bedroom", "train")
    monkeypatch.setattr(images, "load_images", lambda name, split: unlabelled)
    data = ImageData(dataset="lsun-bedroom", resolution=32, channels=3)
    assert images.load(data)[0].shape == (4, 3, 32, 32)
    with pytest.raises(ReplicationError, match="lsun-bedroom/train has no labels: the conditional model needs them"):
        images.load(data, labelled=True)


# -- the claims on hand-made results at scale small ------------------------------------------------

def _write_results(root, fid=None, is_mean=None, fid_start=600.0, trained_to=0.2):
    fid = fid or {"unconditional": 40.0, "conditional": 30.0}
    is_mean = is_mean or {"unconditional": 7.8, "conditional": 8.4}
    res = Results(EXP, "small", root)
    T, every = res.settings.training["iterations"], res.settings.training["evaluation"]["every"]
    steps = list(range(0, T + 1, every))
    for model in exp.MODELS:
        for seed in res.settings.seeds:
            run = res.run(task="train", model=model, seed=seed)
            res.path(run).mkdir(parents=True, exist_ok=True)
            curve_fid = [fid_start * (1 - (1 - trained_to) * s / T) for s in steps]
            pd.DataFrame({"step": steps, "is": [1.2 + 5 * s / T for s in steps], "fid": curve_fid}).to_csv(
                res.path(run, "evaluation.csv"), index=False)
            record = {"metric": "IS", "proxy": True, "extractor": "replication-proxy-cnn"}
            write_json(res.path(run, "final_metrics.json"), {"metrics": {
                "model": model, "seed": seed, "n_samples": 50_000, "is_mean": is_mean[model], "is_std": 0.05,
                "splits": 10, "fid": fid[model], "kid_mean": fid[model] / 1e3, "kid_std": 1e-4,
                "reference": "fashion-mnist/train (60000 images)", "records": [record]}})
    return res


def _verdicts(res):
    measured = exp.summarize(res)
    claims = [cl.Claim(experiment=EXP, **entry) for entry in cfg.read_yaml(cfg.CONFIG_DIR / "claims" / f"{EXP}.yaml")]
    return {c.key: cl.judge(c, measured[c.key])[0] for c in claims}, measured


def test_claims_hold_on_the_papers_numbers_and_flip_past_each_tolerance(tmp_path):
    verdicts, measured = _verdicts(_write_results(tmp_path / "paper_like"))
    assert set(verdicts.values()) == {cl.REPRODUCED}, verdicts
    assert measured["conditional_fid_gain"]["value"] == [pytest.approx(0.25)]
    # 0.31 below each published IS, and a conditional FID only 9% below the unconditional one
    verdicts, _ = _verdicts(_write_results(tmp_path / "off", fid={"unconditional": 40.0, "conditional": 36.4},
                                           is_mean={"unconditional": 7.55, "conditional": 8.11}))
    assert set(verdicts.values()) == {cl.NOT_REPRODUCED}, verdicts
    verdicts, _ = _verdicts(_write_results(tmp_path / "inside", is_mean={"unconditional": 8.15, "conditional": 8.13}))
    assert verdicts["unsupervised_is"] == verdicts["supervised_is"] == cl.REPRODUCED  # 0.29 off: within 0.30


def test_an_untrained_model_cannot_decide_the_comparison(tmp_path):
    """Both models' FID at the last evaluation less than the claim's factor (x1.5) below step 0:
    the comparison reads "not evaluated (did not train)" in the claims layer, however large the
    final FID gap; at x1.67 the same gap is judged."""
    verdicts, measured = _verdicts(_write_results(tmp_path / "short", fid={"unconditional": 500.0, "conditional": 100.0},
                                                  trained_to=0.8))
    assert verdicts["conditional_fid_gain"] == cl.NOT_EVALUATED
    assert measured["conditional_fid_gain"]["runs"]["conditional_s0"]["final"] == pytest.approx(480.0)
    verdicts, _ = _verdicts(_write_results(tmp_path / "trained", fid={"unconditional": 500.0, "conditional": 100.0},
                                           trained_to=0.6))
    assert verdicts["conditional_fid_gain"] == cl.REPRODUCED
