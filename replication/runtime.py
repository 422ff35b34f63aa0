"""Device choice, thread limits and seeding shared by every run."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from replication.errors import ReplicationError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; an explicit name must be available."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ReplicationError(f"device '{name}' requested but CUDA is not available; use device=auto or cpu")
    return device


def set_threads(threads: int) -> None:
    """Use exactly the cores Snakemake granted this job (no oversubscription)."""
    threads = max(1, int(threads))
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict:
    """Every global random stream a run touches, for bitwise resume; plain data only (ints,
    lists, tuples, byte tensors), so a checkpoint loads with ``torch.load(weights_only=True)``."""
    state = {
        "python": random.getstate(),  # (version, tuple of ints, None)
        "numpy": numpy_state_as_data(np.random.get_state()),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def numpy_state_as_data(state: tuple) -> tuple:
    """``np.random.get_state()``'s ('MT19937', uint32 key array, pos, has_gauss, gauss) with the
    key as a list of ints: a numpy array would need numpy's globals to unpickle."""
    name, key, pos, has_gauss, gauss = state
    return name, np.asarray(key, dtype=np.uint32).tolist(), int(pos), int(has_gauss), float(gauss)


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    name, key, *rest = state["numpy"]
    np.random.set_state((name, np.asarray(key, dtype=np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux)."""
    import platform
    from pathlib import Path

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine(device: torch.device) -> dict:
    """What a run ran on: the CPU model and its cores, and the accelerator's name if it used one."""
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    return {"cpu": cpu_model(), "cores": os.cpu_count(), **({"accelerator": gpu} if gpu else {})}


def project_commit() -> str:
    """The commit of the code a run uses (``git rev-parse HEAD`` of this checkout), ``+dirty``
    when the package or the workflow differ from it, ``unknown`` outside a git checkout."""
    import subprocess
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "replication", "workflow"], cwd=repo,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
