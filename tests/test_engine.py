"""The training engine: declared training blocks, objectives, the loop, evaluation during
training, bitwise resume, and device placement."""

import math

import pandas as pd
import pytest
import torch
from torch import nn

from replication import objectives as obj
from replication.data.batches import SamplerSource, TensorSource
from replication.errors import ReplicationError
from replication.io import load_torch
from replication.nets.registry import NETWORKS, register
from replication.settings import merge
from replication.train import EvalData, Sources, build_trainer, parse_training
from replication.settings.training import ConvergenceSpec
from replication.train.convergence import Plateau
from replication.train.metric_log import MetricLog
from replication.train.optim import TFRMSprop
from replication.settings.training import CriticScheduleSpec
from helpers import Killed, kill_at

BLOCK = {
    "objective": "wgan", "iterations": 23, "batch_size": 16, "lipschitz": {"method": "clip"},
    "critic_schedule": {"n_critic": 3}, "log_every": 4, "checkpoint_every": 5,
    "optimizers": {"critic": {"name": "rmsprop", "lr": 1e-3}, "generator": {"name": "adam", "lr": 1e-3, "betas": [0.5, 0.9]}},
    "lr_schedule": {"name": "linear_decay"},
}


@pytest.fixture(autouse=True, scope="module")
def bn_network():
    """A batch-norm generator registered for this module only (the registry's test lists the rest)."""
    @register("test_bn_mlp", "test", doc="Two-layer MLP with batch norm (engine tests only).")
    def _test_bn_mlp(in_features: int = 2, out_features: int = 2, width: int = 16) -> nn.Module:
        return nn.Sequential(nn.Linear(in_features, width), nn.BatchNorm1d(width), nn.ReLU(),
                             nn.Linear(width, out_features))
    yield
    del NETWORKS["test_bn_mlp"]


NETS = {"generator": {"arch": "test_bn_mlp", "in_features": 2, "out_features": 2, "width": 16},
        "critic": {"arch": "mlp", "in_features": 2, "out_features": 1, "width": 16, "depth": 2}}


# -- the declared training block ------------------------------------------------------------

def test_training_block_defaults_and_strict_keys():
    spec = parse_training({"objective": "wgan", "iterations": 10, "optimizers": {"critic": {"name": "adam", "lr": 1e-4}}})
    assert spec.lipschitz.method == "none" and spec.critic_schedule.n_critic == 5 and spec.precision == "fp32"
    assert spec.optimizers["critic"].betas == (0.9, 0.999)
    for bad, message in [({**BLOCK, "iteratons": 3}, "unknown key 'iteratons'; valid keys: objective"),
                         ({**BLOCK, "objective": "wgna"}, "unknown objective 'wgna'; choose one of wgan"),
                         ({**BLOCK, "iterations": "10"}, "iterations: must be int"),
                         ({**BLOCK, "lipschitz": {"method": "clip", "clip": 0.1}}, "lipschitz: unknown key 'clip'"),
                         ({k: v for k, v in BLOCK.items() if k != "iterations"}, "missing key 'iterations'")]:
        with pytest.raises(ReplicationError, match=message) as err:
            parse_training(bad)
        assert "\n" not in str(err.value)


def test_a_gan_discriminator_may_be_penalised():
    """A Lipschitz constraint acts on the critic's raw output, the logit under a GAN objective."""
    spec = parse_training({**BLOCK, "objective": "gan_minimax", "lipschitz": {"method": "gp", "gp_lambda": 10.0}})
    assert spec.lipschitz.method == "gp" and spec.objective == "gan_minimax"


def test_method_deltas_merge_recursively():
    out = merge(BLOCK, {"optimizers": {"critic": {"name": "adam"}}, "lipschitz": {"method": "gp"}}, "methods.m")
    assert out["optimizers"]["critic"] == {"name": "adam", "lr": 1e-3}
    assert out["optimizers"]["generator"] == BLOCK["optimizers"]["generator"]
    assert BLOCK["optimizers"]["critic"]["name"] == "rmsprop"  # the base block is untouched
    with pytest.raises(ReplicationError, match="unknown key 'gp_lamda'"):  # strict: a typo is an error
        merge(BLOCK, {"lipschitz": {"gp_lamda": 1.0}}, "methods.m")
    added = merge(BLOCK, {"acgan": {"critic_scale": 1.0}}, "methods.m", new_keys=True)  # a variant may add a field
    assert parse_training(added).acgan.critic_scale == 1.0
    with pytest.raises(ReplicationError, match="must be int"):
        merge(BLOCK, {"iterations": "3"}, "methods.m", new_keys=True)


def test_wgan_warmup_rule():
    s = CriticScheduleSpec(n_critic=5, wgan_warmup=True)
    assert [s.steps(i) for i in (0, 24, 25, 26, 499, 500, 501, 1000)] == [100, 100, 5, 5, 5, 100, 5, 100]
    assert CriticScheduleSpec(n_critic=5).steps(0) == 5


def test_lr_schedules():
    spec = parse_training({**BLOCK, "iterations": 100})
    assert [spec.lr_factor(i) for i in (0, 50, 100)] == [1.0, 0.5, 0.0]
    spec = parse_training({**BLOCK, "lr_schedule": {"name": "milestones", "at": [30, 50], "factors": [0.5, 0.2]}})
    assert [spec.lr_factor(i) for i in (29, 30, 49, 50)] == [1.0, 0.5, 0.5, pytest.approx(0.1)]


def test_tf_rmsprop_matches_tf1_update():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = TFRMSprop([p], lr=0.1)
    p.grad = torch.tensor([2.0, 0.5])
    opt.step()
    ms = 0.9 * 1.0 + 0.1 * torch.tensor([4.0, 0.25])  # accumulator starts at 1
    expected = torch.tensor([1.0, -2.0]) - 0.1 * torch.tensor([2.0, 0.5]) / torch.sqrt(ms + 1e-10)
    assert torch.allclose(p.detach(), expected)


# -- objectives -----------------------------------------------------------------------------

def test_losses_and_estimates():
    real, fake = torch.tensor([2.0, 4.0]), torch.tensor([0.0, 1.0])
    loss = obj.critic_loss("wgan", real, fake)
    assert obj.divergence_estimate("wgan", loss).item() == pytest.approx(3.0 - 0.5)
    big = torch.tensor([30.0])  # a perfect discriminator: BCE -> 0 and the JS bound -> log 2
    assert obj.divergence_estimate("gan_minimax", obj.critic_loss("gan_minimax", big, -big)).item() == \
        pytest.approx(math.log(2), abs=1e-6)
    logit = torch.tensor([-20.0], requires_grad=True)  # minimax saturates where D rejects fakes; -log D does not
    (g_minimax,) = torch.autograd.grad(obj.generator_loss("gan_minimax", logit), logit)
    (g_ns,) = torch.autograd.grad(obj.generator_loss("gan_ns", logit), logit)
    assert abs(g_minimax.item()) < 1e-8 and abs(g_ns.item()) > 0.99
    # LSGAN: the optimum D(x) = 1 on real, 0 on fake gives zero loss; the reverse gives 1
    one, zero = torch.ones(4), torch.zeros(4)
    assert obj.critic_loss("lsgan", one, zero).item() == 0.0 and obj.critic_loss("lsgan", zero, one).item() == 1.0
    with pytest.raises(ReplicationError, match="unknown objective 'wgan_gp'"):
        obj.get("wgan_gp")


def test_gradient_penalty_of_a_linear_critic_is_exact():
    torch.manual_seed(0)
    critic = nn.Linear(3, 1).double()
    real, fake = torch.randn(64, 3, dtype=torch.float64), torch.randn(64, 3, dtype=torch.float64)
    expected = (critic.weight.norm() - 1) ** 2
    assert obj.gradient_penalty(critic, real, fake).item() == pytest.approx(expected.item(), rel=1e-12, abs=1e-15)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8, 0.0]], dtype=torch.float64))  # unit norm: no penalty
    assert obj.gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-24)


# -- data streams and logs ------------------------------------------------------------------------

def test_tensor_source_epochs_and_resume():
    data = torch.arange(10).float().unsqueeze(1)
    a = TensorSource(data, batch_size=4, seed=3, drop_last=False)
    assert [len(a.next()) for _ in range(3)] == [4, 4, 2]  # like a DataLoader without drop_last
    state = a.state_dict()
    expected = [a.next() for _ in range(5)]
    b = TensorSource(data, batch_size=4, seed=99, drop_last=False)
    b.load_state_dict(state)
    assert all(torch.equal(x, y) for x, y in zip(expected, [b.next() for _ in range(5)]))


def test_metric_log_truncates_to_checkpoint(tmp_path):
    log = MetricLog(tmp_path / "m.csv", ["x"])
    for step in range(6):
        log.record(step, {"x": torch.tensor(float(step))})
    assert [r["step"] for r in log.flush()] == list(range(6))
    log.truncate(2)
    assert pd.read_csv(tmp_path / "m.csv")["step"].tolist() == [0, 1, 2]


def test_plateau_criterion():
    stop = Plateau(ConvergenceSpec(column="v", window=5, rel_tol=0.01, min_iterations=10))
    assert not stop.update([{"step": i, "v": float(i)} for i in range(10)])  # still rising
    assert stop.update([{"step": 10 + i, "v": 100.0} for i in range(10)])
    assert stop.converged_at == 20


# -- the loop ---------------------------------------------------------------------------------

def _sources(device="cpu", batch=16):
    device = torch.device(device)
    return Sources(real=SamplerSource(lambda n, g: torch.randn(n, 2, generator=g) + 2, batch, device, 1),
                   noise=SamplerSource(lambda n, g: torch.randn(n, 2, generator=g), batch, device, 2))


def _trainer(state_dir, block=BLOCK, evaluation=None, on_iteration=None, device="cpu", nets=NETS):
    block = {**block, **({"evaluation": evaluation} if evaluation else {})}
    held = EvalData(real=lambda n, g: torch.randn(n, 2, generator=g) + 2, noise=lambda n, g: torch.randn(n, 2, generator=g))
    return build_trainer(block, nets, _sources(device), device=torch.device(device), state_dir=state_dir,
                         seed_for=lambda purpose: len(purpose), eval_data=held, on_iteration=on_iteration,
                         progress="test")



EVAL = {"every": 4, "probes": ["divergence", "critic_loss"], "samples": 32}


@pytest.mark.parametrize("lipschitz", [{"method": "clip", "timing": "before"}, {"method": "gp"}])
def test_interrupted_training_resumes_bitwise(tmp_path, lipschitz):
    block = {**BLOCK, "lipschitz": lipschitz}
    straight = _trainer(tmp_path / "a", block, EVAL).fit()
    with pytest.raises(Killed):  # after the checkpoint at 10 and a flush at 12: rows 10-12 must be dropped
        _trainer(tmp_path / "b", block, EVAL, on_iteration=kill_at(13)).fit()
    resumed = _trainer(tmp_path / "b", block, EVAL)
    assert resumed.resume() and resumed.iteration == 10
    resumed.fit()
    for name in ("metrics.csv", "evaluation.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    for role in ("generator", "critic"):
        for key, value in straight.networks[role].state_dict().items():
            assert torch.equal(value, resumed.networks[role].state_dict()[key])
    evaluation = pd.read_csv(tmp_path / "a" / "evaluation.csv")
    assert evaluation["step"].tolist() == [0, 4, 8, 12, 16, 20, 23]  # step 0 (before training), cadence, end
    assert pd.read_csv(tmp_path / "a" / "metrics.csv")["lr_factor"].iloc[-1] == pytest.approx(1 - 22 / 23)


def test_evaluation_never_changes_the_trajectory(tmp_path):
    """With a batch-norm generator: the same weights, BN statistics and losses with and without
    evaluation (eval mode, forked RNG, restored running buffers)."""
    block = {**BLOCK, "lipschitz": {"method": "gp"}}
    plain = _trainer(tmp_path / "plain", block).fit()
    evaluated = _trainer(tmp_path / "eval", block, {"every": 1, "probes": ["divergence", "critic_loss"], "samples": 8}).fit()
    assert (tmp_path / "plain" / "metrics.csv").read_bytes() == (tmp_path / "eval" / "metrics.csv").read_bytes()
    for role in ("generator", "critic"):
        a, b = plain.networks[role].state_dict(), evaluated.networks[role].state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), role  # BN running_mean/var included
    assert len(pd.read_csv(tmp_path / "eval" / "evaluation.csv")) == 24
    opt_a, opt_b = (t.step.optimizers["critic"].state_dict()["state"] for t in (plain, evaluated))
    assert all(torch.equal(opt_a[i]["square_avg"], opt_b[i]["square_avg"]) for i in opt_a)


def test_fixed_generator_and_outputs(tmp_path):
    device = torch.device("cpu")
    block = {k: v for k, v in BLOCK.items() if k != "lr_schedule"}
    block["optimizers"] = {"critic": BLOCK["optimizers"]["critic"]}
    sources = Sources(real=SamplerSource(lambda n, g: torch.randn(n, 2, generator=g) + 2, 16, device, 1),
                      fake=SamplerSource(lambda n, g: torch.randn(n, 2, generator=g), 16, device, 2))
    t = build_trainer(block, {"critic": NETS["critic"]}, sources, device=device, state_dir=tmp_path / "s",
                      seed_for=lambda p: 0).fit()
    assert "generator" not in t.step.optimizers and t.iteration == 23
    written = t.write_outputs(tmp_path / "out")
    final = load_torch(written["critic"])
    assert final["spec"] == NETS["critic"] and final["step"] == 23
    assert all(p.abs().max() <= 0.01 for p in t.networks["critic"].parameters())  # clipped after each step
    with pytest.raises(ReplicationError, match="needs a `fake` batch source"):
        build_trainer(block, {"critic": NETS["critic"]}, Sources(real=sources.real), device=device,
                      state_dir=tmp_path / "x", seed_for=lambda p: 0)


@pytest.mark.parametrize("timing", ["before", "after"])
def test_clipping_bounds_every_critic_parameter(tmp_path, timing):
    t = _trainer(tmp_path, {**BLOCK, "lipschitz": {"method": "clip", "clip_value": 0.01, "timing": timing}})
    seen = []
    t.networks["critic"].register_forward_pre_hook(lambda m, i: seen.append(max(p.abs().max().item() for p in m.parameters())))
    for _ in range(3):
        t.step.critic_step()
    top = max(p.abs().max().item() for p in t.networks["critic"].parameters())
    if timing == "after":  # WGAN Algorithm 1 / TF code: every parameter within +-c after the step
        assert top <= 0.01
    else:  # WGAN main.py: clamped before the step, so the loss only ever sees clipped weights
        assert max(seen) <= 0.01 < top


def test_every_tensor_of_a_step_lives_on_the_run_device(tmp_path):
    """On the `meta` device any tensor made on the CPU inside a step (a constant, a noise draw,
    a penalty's alpha) fails loudly when it meets the networks' tensors: what a CUDA run needs."""
    nets = {"generator": {"arch": "mlp", "in_features": 2, "out_features": 2, "width": 8, "depth": 1}, "critic": NETS["critic"]}
    for lipschitz in ({"method": "gp"}, {"method": "clip"}):
        block = {**BLOCK, "lipschitz": lipschitz, "optimizers": {"critic": {"name": "adam", "lr": 1e-3},
                                                                 "generator": {"name": "adam", "lr": 1e-3}}}
        t = build_trainer(block, nets, _sources("meta"), device=torch.device("meta"), state_dir=tmp_path / lipschitz["method"],
                          seed_for=lambda p: 0)
        out = t.step.iteration(0)
        assert all(v.device.type == "meta" for v in out.values() if isinstance(v, torch.Tensor))


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    t = _trainer(tmp_path, {**BLOCK, "iterations": 5}).fit()
    data = t.checkpoint_path.read_bytes()
    t.checkpoint_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReplicationError, match="unreadable checkpoint .*delete it"):
        load_torch(t.checkpoint_path)


def test_quality_and_sample_grid_probes_during_training(tmp_path):
    """Image evaluation through the metric stack: proxy FID of fresh samples and a PNG grid of
    the fixed noise batch at every evaluation (an untrained proxy suffices for the plumbing)."""
    from replication.metrics.fidelity import reference_statistics
    from replication.metrics.proxy import proxy_extractor, save_proxy
    from replication.metrics.proxy_net import ProxyNet
    from replication.train.evaluation import quality_probe

    torch.manual_seed(0)
    save_proxy(tmp_path / "proxy.pt", ProxyNet(), {"dataset": "test", "classes": 10, "feature_dim": 32})
    extractor = proxy_extractor(tmp_path / "proxy.pt")
    reference = reference_statistics(torch.rand(200, 1, 28, 28) * 2 - 1, extractor, "uniform noise")
    nets = {"generator": {"arch": "mlp", "in_features": 8, "out_features": 784, "width": 16, "depth": 1,
                          "output_activation": "tanh", "output_shape": [1, 28, 28]},
            "critic": {"arch": "mlp", "in_features": 784, "out_features": 1, "width": 16, "depth": 1}}
    device = torch.device("cpu")
    noise = lambda n, g: torch.randn(n, 8, generator=g)  # noqa: E731
    sources = Sources(real=SamplerSource(lambda n, g: torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, 16, device, 1),
                      noise=SamplerSource(noise, 16, device, 2))
    block = {**BLOCK, "iterations": 4, "evaluation": {"every": 2, "probes": ["quality", "sample_grid"], "grid": 16}}
    t = build_trainer(block, nets, sources, device=device, state_dir=tmp_path / "s", seed_for=lambda p: 0,
                      eval_data=EvalData(noise=noise),
                      probes={"quality": quality_probe(extractor, reference, metrics=("fid",), n=64)}).fit()
    rows = pd.read_csv(t.evaluator.log_path)
    assert rows["step"].tolist() == [0, 2, 4] and (rows["fid"] > 0).all()
    written = t.write_outputs(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out" / "samples").iterdir()) == \
        ["step_0000000.png", "step_0000002.png", "step_0000004.png"]
    assert written["evaluation"].exists()


class _LabelledSource:
    """(images, labels) batches: labels flow through batch sources like images."""

    def __init__(self, n, shape, classes, seed, noise=False):
        self.g, self.n, self.shape, self.classes, self.noise = torch.Generator().manual_seed(seed), n, shape, classes, noise

    def next(self):
        x = torch.randn(self.n, *self.shape, generator=self.g)
        return (x if self.noise else x.tanh()), torch.randint(0, self.classes, (self.n,), generator=self.g)

    def state_dict(self):
        return {"g": self.g.get_state()}

    def load_state_dict(self, state):
        self.g.set_state(state["g"])


def test_conditional_generator_and_acgan_critic(tmp_path):
    """gan_cifar_resnet.py's ACGAN: in critic steps the fakes get the real batch's labels; the
    classifier head learns on real images only; the generator batch is 2x the critic batch."""
    nets = {"generator": {"arch": "resnet_cifar_g", "width": 8, "num_classes": 10},
            "critic": {"arch": "resnet_cifar_d", "width": 8, "acgan": True}}
    block = {**BLOCK, "iterations": 2, "critic_schedule": {"n_critic": 2}, "lipschitz": {"method": "gp"},
             "batch_size": 4, "generator_batch_size": 8, "acgan": {"critic_scale": 1.0, "generator_scale": 0.1},
             "optimizers": {"critic": {"name": "adam", "lr": 2e-4, "betas": [0.0, 0.9]},
                            "generator": {"name": "adam", "lr": 2e-4, "betas": [0.0, 0.9]}}}
    sources = Sources(real=_LabelledSource(4, (3, 32, 32), 10, 1), noise=_LabelledSource(4, (128,), 10, 2, noise=True))
    t = build_trainer(block, nets, sources, device=torch.device("cpu"), state_dir=tmp_path, seed_for=lambda p: 0)
    seen = []
    t.networks["generator"].register_forward_pre_hook(lambda m, args: seen.append((len(args[0]), args[1].clone())))
    real_labels = []
    original = t.step.real_batch
    t.step.real_batch = lambda: (lambda b: (real_labels.append(b[1].clone()), b)[1])(original())
    out = t.step.iteration(0)
    assert out["classifier_loss"] > 0
    assert [n for n, _ in seen] == [4, 4, 8]  # two critic steps at the critic batch, then the 2x generator batch
    assert all(torch.equal(y, r) for (_, y), r in zip(seen[:2], real_labels))
    with pytest.raises(ReplicationError, match="needs a real batch source that yields"):
        unlabelled = Sources(real=SamplerSource(lambda n, g: torch.randn(n, 3, 32, 32, generator=g), 4,
                                                torch.device("cpu"), 1), noise=sources.noise)
        build_trainer(block, nets, unlabelled, device=torch.device("cpu"), state_dir=tmp_path / "u",
                      seed_for=lambda p: 0).step.critic_step()


def test_training_time_in_evaluation_rows_excludes_evaluation_and_resumes(tmp_path):
    """WGAN-GP Fig 3's time axis: with ``training_time`` each evaluation row carries the run's
    training time so far (wall and process CPU): 0 at step 0, non-decreasing, without the
    probes' own time; a resumed run continues from the checkpoint's totals, and every other
    column stays bitwise equal to the uninterrupted run's."""
    import time

    probe_seconds = 0.1

    def slow_probe(ev):  # CPU work in every evaluation, which must not count as training time
        end = time.process_time() + probe_seconds
        while time.process_time() < end:
            pass
        return {}

    evaluation = {"every": 8, "probes": ["divergence", "slow"], "samples": 32, "training_time": True}
    held = EvalData(real=lambda n, g: torch.randn(n, 2, generator=g) + 2, noise=lambda n, g: torch.randn(n, 2, generator=g))

    def trainer(state_dir, on_iteration=None):
        return build_trainer({**BLOCK, "evaluation": evaluation}, NETS, _sources(), device=torch.device("cpu"),
                             state_dir=state_dir, seed_for=lambda purpose: len(purpose), eval_data=held,
                             probes={"slow": slow_probe}, on_iteration=on_iteration)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: a probe's wall time is at least its CPU time
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        trainer(tmp_path / "a").fit()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        with pytest.raises(Killed):  # checkpoint at 10, killed at 13: rows 16 and 23 come from the resumed run
            trainer(tmp_path / "b", on_iteration=kill_at(13)).fit()
        trainer(tmp_path / "b").fit()
        untimed = _trainer(tmp_path / "c", {**BLOCK, "iterations": 4}, EVAL).fit().evaluator.log_path
    finally:
        torch.set_num_threads(threads)
    a, b = (pd.read_csv(tmp_path / run / "evaluation.csv") for run in ("a", "b"))
    times = ["train_seconds_wall", "train_seconds_cpu"]
    assert a["step"].tolist() == [0, 8, 16, 23]
    pd.testing.assert_frame_equal(a.drop(columns=times), b.drop(columns=times))
    for frame in (a, b):
        for column in times:
            assert frame[column].iat[0] == 0 and frame[column].is_monotonic_increasing
        assert frame["train_seconds_cpu"].iat[-1] > 0
    # four probes ran inside fit(): none of their time counts
    assert a["train_seconds_wall"].iat[-1] <= wall - 4 * probe_seconds
    assert a["train_seconds_cpu"].iat[-1] <= cpu - 4 * probe_seconds
    assert b["train_seconds_cpu"].iat[2] > b["train_seconds_cpu"].iat[1]  # the resumed run continued its totals
    assert "train_seconds_wall" not in pd.read_csv(untimed)  # off by default


def test_a_changed_setting_starts_the_run_over_instead_of_resuming(tmp_path):
    """A changed setting reruns a job (Snakemake's params trigger); the run must then train under
    the new settings from scratch, not resume (or find finished) the state saved under the old."""
    from replication.runs import execute_run

    def run(results, lr):
        deltas = tmp_path / f"lr{lr}.yaml"
        deltas.write_text(f"wgangp_toy: {{deep: {{methods: {{gp: {{training: {{optimizers: "
                          f"{{generator: {{lr: {lr}}}}}}}}}}}}}}}\n")
        execute_run("wgangp_toy", "deep_gp", "smoke", "cpu", 1, results, deltas)
        return load_torch(results / "smoke/wgangp_toy/deep_gp/final/generator.pt")["state_dict"]

    state = tmp_path / "a/.state/smoke/wgangp_toy/deep_gp"
    old = run(tmp_path / "a", 1e-4)
    checkpoints = sorted(state.rglob("checkpoint.pt"))
    saved = [p.stat().st_mtime_ns for p in checkpoints]
    assert checkpoints and run(tmp_path / "a", 1e-4).keys() == old.keys()  # same settings: resumed, finished
    assert [p.stat().st_mtime_ns for p in checkpoints] == saved
    new = run(tmp_path / "a", 1e-2)
    fresh = run(tmp_path / "b", 1e-2)
    for key in fresh:
        assert torch.equal(new[key], fresh[key]), key
    assert any(not torch.equal(new[key], old[key]) for key in old)
    assert (state.parent / "deep_gp.stale").is_dir()
