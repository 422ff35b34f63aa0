"""The shared adversarial trainer: schedule, optimisers, losses, logging, bitwise resume."""

import math

import pandas as pd
import pytest
import torch

from replication import objectives as obj
from replication.data.batches import SamplerSource, TensorSource
from replication.errors import ReplicationError
from replication.io import load_torch
from replication.nets import MLP
from replication.train.adversarial import AdversarialSettings, AdversarialTrainer
from replication.train.convergence import Plateau
from replication.train.metric_log import MetricLog
from replication.train.optim import TFRMSprop, build_optimizer
from replication.train.schedule import CriticSchedule


def test_wgan_warmup_rule():
    s = CriticSchedule(n_critic=5, wgan_warmup=True)
    assert [s.steps(i) for i in (0, 24, 25, 26, 499, 500, 501, 1000)] == [100, 100, 5, 5, 5, 100, 5, 100]
    assert CriticSchedule(n_critic=5).steps(0) == 5


def test_tf_rmsprop_matches_tf1_update():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = TFRMSprop([p], lr=0.1)
    p.grad = torch.tensor([2.0, 0.5])
    opt.step()
    ms = 0.9 * 1.0 + 0.1 * torch.tensor([4.0, 0.25])  # accumulator starts at 1
    expected = torch.tensor([1.0, -2.0]) - 0.1 * torch.tensor([2.0, 0.5]) / torch.sqrt(ms + 1e-10)
    assert torch.allclose(p.detach(), expected)


def test_losses_and_estimates():
    real, fake = torch.tensor([2.0, 4.0]), torch.tensor([0.0, 1.0])
    loss = obj.critic_loss("wgan", real, fake)
    assert obj.divergence_estimate("wgan", loss).item() == pytest.approx(3.0 - 0.5)
    # A perfect discriminator: BCE -> 0 and the JS bound -> log 2.
    big = torch.tensor([30.0])
    gan = obj.critic_loss("gan_minimax", big, -big)
    assert obj.divergence_estimate("gan_minimax", gan).item() == pytest.approx(math.log(2), abs=1e-6)
    # Minimax generator loss saturates where D rejects the fakes; -log D does not.
    logit = torch.tensor([-20.0], requires_grad=True)
    (g_minimax,) = torch.autograd.grad(obj.generator_loss("gan_minimax", logit), logit)
    (g_ns,) = torch.autograd.grad(obj.generator_loss("gan_ns", logit), logit)
    assert abs(g_minimax.item()) < 1e-8 and abs(g_ns.item()) > 0.99


def test_tensor_source_epochs_and_resume():
    data = torch.arange(10).float().unsqueeze(1)
    a = TensorSource(data, batch_size=4, seed=3, drop_last=False)
    sizes = [len(a.next()) for _ in range(3)]
    assert sizes == [4, 4, 2]  # last batch of an epoch is smaller, like a DataLoader without drop_last
    state = a.state_dict()
    expected = [a.next() for _ in range(5)]
    b = TensorSource(data, batch_size=4, seed=99, drop_last=False)
    b.load_state_dict(state)
    assert all(torch.equal(x, y) for x, y in zip(expected, [b.next() for _ in range(5)]))


def test_metric_log_truncates_to_checkpoint(tmp_path):
    log = MetricLog(tmp_path / "m.csv", ["x"])
    for step in range(6):
        log.record(step, {"x": torch.tensor(float(step))})
    rows = log.flush()
    assert [r["step"] for r in rows] == list(range(6))
    log.truncate(2)
    assert pd.read_csv(tmp_path / "m.csv")["step"].tolist() == [0, 1, 2]


def test_plateau_criterion():
    stop = Plateau(column="v", window=5, rel_tol=0.01, min_iterations=10)
    assert not stop.update([{"step": i, "v": float(i)} for i in range(10)])  # still rising
    assert stop.update([{"step": 10 + i, "v": 100.0} for i in range(10)])
    assert stop.converged_at == 20


def _trainer(state_dir, iterations, on_iteration=None, lipschitz="clip"):
    torch.manual_seed(0)
    gen = MLP(2, 2, 16, 1)
    critic = MLP(2, 1, 16, 2)
    settings = AdversarialSettings(objective="wgan", iterations=iterations, lipschitz=lipschitz,
                                   schedule=CriticSchedule(n_critic=3), log_every=4, checkpoint_every=5)
    real = SamplerSource(lambda n, g: torch.randn(n, 2, generator=g) + 2, 32, torch.device("cpu"), 1)
    noise = SamplerSource(lambda n, g: torch.randn(n, 2, generator=g), 32, torch.device("cpu"), 2)
    return AdversarialTrainer(gen, critic, build_optimizer("rmsprop", gen.parameters(), 1e-3),
                              build_optimizer("rmsprop", critic.parameters(), 1e-3), real, noise, settings,
                              state_dir, on_iteration=on_iteration, progress="test")


class Killed(Exception):
    pass


@pytest.mark.parametrize("lipschitz", ["clip", "gp"])
def test_interrupted_training_resumes_bitwise(tmp_path, lipschitz):
    straight = _trainer(tmp_path / "a", 23, lipschitz=lipschitz)
    straight.fit()

    def die(step):
        if step == 13:  # after the checkpoint at 10 and a flush at 12: rows 10-12 must be dropped
            raise Killed

    with pytest.raises(Killed):
        _trainer(tmp_path / "b", 23, on_iteration=die, lipschitz=lipschitz).fit()
    resumed = _trainer(tmp_path / "b", 23, lipschitz=lipschitz)
    assert resumed.resume() and resumed.step == 10
    resumed.fit()
    assert (tmp_path / "a" / "metrics.csv").read_bytes() == (tmp_path / "b" / "metrics.csv").read_bytes()
    for key, value in straight.critic.state_dict().items():
        assert torch.equal(value, resumed.critic.state_dict()[key])


def test_clipping_bounds_every_critic_parameter(tmp_path):
    trainer = _trainer(tmp_path, 3)
    trainer.settings.clip_timing = "after"
    trainer.critic_step()
    assert all(p.abs().max() <= 0.01 for p in trainer.critic.parameters())


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    trainer = _trainer(tmp_path, 5)
    trainer.fit()
    data = trainer.checkpoint_path.read_bytes()
    trainer.checkpoint_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReplicationError, match="unreadable checkpoint .*delete it"):
        load_torch(trainer.checkpoint_path)
