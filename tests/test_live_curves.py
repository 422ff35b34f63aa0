"""Live training curves: every run writes TensorBoard event files as it trains (the engine's
metric log, flushed in blocks), a resumed run hides the points after its checkpoint, and a
running ``replicate run`` can be followed from its event files before it ends."""

import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers import REPO, Killed, kill_at

from replication.data.batches import SamplerSource
from replication.train import EvalData, Sources, build_trainer
from replication.train.metric_log import LiveCurves

BLOCK = {
    "objective": "wgan", "iterations": 23, "batch_size": 16, "lipschitz": {"method": "clip"},
    "critic_schedule": {"n_critic": 2}, "log_every": 4, "checkpoint_every": 5,
    "optimizers": {"critic": {"name": "rmsprop", "lr": 1e-3}, "generator": {"name": "rmsprop", "lr": 1e-3}},
    "evaluation": {"every": 4, "probes": ["critic_loss"], "samples": 32},
}
NETS = {"generator": {"arch": "mlp", "in_features": 2, "out_features": 2, "width": 16, "depth": 2},
        "critic": {"arch": "mlp", "in_features": 2, "out_features": 1, "width": 16, "depth": 2}}


def curves(log_dir: Path) -> dict[str, dict[int, float]]:
    """{tag: {step: value}} as TensorBoard shows it (purged points gone; all points kept)."""
    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: {e.step: e.value for e in acc.Scalars(tag)} for tag in acc.Tags()["scalars"]}


def _trainer(tmp_path: Path, on_iteration=None, block=BLOCK):
    device = torch.device("cpu")
    sources = Sources(real=SamplerSource(lambda n, g: torch.randn(n, 2, generator=g) + 2, 16, device, 1),
                      noise=SamplerSource(lambda n, g: torch.randn(n, 2, generator=g), 16, device, 2))
    held = EvalData(real=lambda n, g: torch.randn(n, 2, generator=g) + 2, noise=lambda n, g: torch.randn(n, 2, generator=g))
    return build_trainer(block, NETS, sources, device=device, state_dir=tmp_path / "state", eval_data=held,
                         seed_for=lambda purpose: len(purpose), on_iteration=on_iteration, live_dir=tmp_path / "live")



def test_resumed_run_shows_each_step_once_with_the_csv_values(tmp_path):
    with pytest.raises(Killed):  # after the checkpoint at 10 and a flush at 12: points 10-12 are stale
        _trainer(tmp_path, on_iteration=kill_at(13)).fit()
    stale = curves(tmp_path / "live" / "training")
    assert max(stale["critic_loss"]) == 11
    _trainer(tmp_path).fit()

    metrics = pd.read_csv(tmp_path / "state" / "metrics.csv")
    live = curves(tmp_path / "live" / "training")
    assert set(live) == set(metrics.columns) - {"step"}
    for tag, points in live.items():  # float32 in the events, the same float32 in the CSV
        assert points == pytest.approx(dict(zip(metrics["step"], metrics[tag])), rel=1e-6), tag
    evaluation = pd.read_csv(tmp_path / "state" / "evaluation.csv")
    live_eval = curves(tmp_path / "live" / "evaluation")["critic_loss_heldout"]
    assert sorted(live_eval) == evaluation["step"].tolist() == [0, 4, 8, 12, 16, 20, 23]
    assert live_eval == pytest.approx(dict(zip(evaluation["step"], evaluation["critic_loss_heldout"])))


def test_long_runs_are_thinned_to_the_points_tensorboard_keeps(tmp_path):
    live = LiveCurves(tmp_path, stride=10)
    live.write([{"step": s, "loss": float(s), "note": "text"} for s in range(35)])
    live.close()
    assert curves(tmp_path) == {"loss": {0: 0.0, 10: 10.0, 20: 20.0, 30: 30.0}}


LIVE_DELTAS = {"wgan_distances": {"learn": {"training": {"iterations": 20_000, "log_every": 10}}}}


def test_a_running_job_can_be_followed_from_its_event_files(tmp_path):
    """``replicate run`` in a subprocess: its curves are read while it still trains (then it is
    stopped), and they are the rows of its training log at that time."""
    deltas = tmp_path / "deltas.yaml"
    deltas.write_text(yaml.safe_dump(LIVE_DELTAS))
    results = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-m", "replication.cli", "run", "wgan_distances", "learn_wgan",
                             "--scale", "smoke", "--results", str(results), "--extra-deltas", str(deltas)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    live_dir = results / "smoke" / "wgan_distances" / "learn_wgan" / "tensorboard" / "training"
    seen: dict = {}
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and len(seen.get("critic_loss", ())) < 3:
            if live_dir.exists():
                seen = curves(live_dir)
            time.sleep(0.2)
        assert proc.poll() is None, f"the run ended before its curves were read: {proc.stderr.read()[-2000:]}"
        logged = pd.read_csv(results / ".state" / "smoke" / "wgan_distances" / "learn_wgan" / "metrics.csv")
    finally:
        proc.kill()
        proc.wait()
    assert len(seen.get("critic_loss", ())) >= 3, "no live curves within 120 s"
    assert set(seen) == set(logged.columns) - {"step"}
    logged = logged.set_index("step")
    for tag, points in seen.items():  # one point in 20 (20,000 iterations): the logged values
        assert all(step % 20 == 0 for step in points)
        assert points == pytest.approx(logged.loc[list(points), tag].to_dict(), rel=1e-6), tag
