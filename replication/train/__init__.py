"""The training engine: a declared training block + named networks + data sources -> a
resumable trainer, in one call.

    trainer = build_trainer(settings["training"], {"generator": {...}, "critic": {...}},
                            Sources(real=..., noise=...), device=..., state_dir=..., seed_for=...)
    trainer.fit(); trainer.write_outputs(out_dir)

Experiments call it through ``RunContext.make_trainer`` (replication.experiments), which fills
in the device, the state folder, seeds and the progress label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from replication.settings.training import TrainingSpec, parse_training
from replication.train.adversarial import AdversarialStep, Sources
from replication.train.autoencoder import AutoEncoderStep
from replication.train.evaluation import PROBES, EvalData, Evaluator
from replication.train.loop import Trainer
from replication.train.metric_log import LIVE_POINTS, LiveCurves

__all__ = ["AdversarialStep", "AutoEncoderStep", "EvalData", "Sources", "Trainer", "TrainingSpec", "build_networks",
           "build_trainer", "parse_training"]


def build_networks(specs: dict[str, dict], device: torch.device, seed_for: Callable[[str], int]) -> dict:
    """Each network from the registry, initialised from its own seed (``init/<role>``)."""
    from replication.nets import build

    networks = {}
    for role, spec in specs.items():
        torch.manual_seed(seed_for(f"init/{role}"))
        networks[role] = build(spec).to(device)
    return networks


def build_trainer(training: dict | TrainingSpec, networks: dict[str, dict], sources: Sources, *,
                  device: torch.device, state_dir: Path, seed_for: Callable[[str], int],
                  eval_data: EvalData | None = None, probes: dict | None = None, progress: str = "train",
                  on_iteration: Callable[[int], None] | None = None, where: str = "training",
                  live_dir: Path | None = None) -> Trainer:
    """``live_dir``: where the run's curves go as TensorBoard event files while it trains
    (``training/`` and ``evaluation/``, the two CSV logs); None writes none."""
    spec = parse_training(training, where)
    nets = build_networks(networks, device, seed_for)
    step = (AutoEncoderStep if spec.autoencoder is not None else AdversarialStep)(spec, nets, sources)
    live = None if live_dir is None else LiveCurves(Path(live_dir) / "training", spec.iterations // LIVE_POINTS)
    evaluator = None
    if spec.evaluation is not None:
        evaluator = Evaluator(spec.evaluation, {**PROBES, **(probes or {})}, eval_data or EvalData(),
                              seed_for("eval"), device, Path(state_dir), Path(state_dir) / "evaluation.csv",
                              live=None if live_dir is None else LiveCurves(Path(live_dir) / "evaluation"))
    return Trainer(step, spec, state_dir, evaluator, network_specs=networks, progress=progress,
                   on_iteration=on_iteration, live=live)
