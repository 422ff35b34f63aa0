"""The network registry: ``build({"arch": name, **params})`` for every network of the papers.

Builders register with ``@register(name, family, **paper_params)``; their keyword defaults
are the paper values, and ``paper_params`` supplies the required ones (or overrides) used by
``list_networks`` to count parameters at paper width."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from replication.errors import ReplicationError


@dataclass(frozen=True)
class NetworkEntry:
    name: str
    family: str
    builder: Callable[..., nn.Module]
    doc: str
    paper_params: dict[str, Any] = field(default_factory=dict)

    def parameters(self) -> list[inspect.Parameter]:
        return list(inspect.signature(self.builder).parameters.values())

    def required(self) -> list[str]:
        return [p.name for p in self.parameters() if p.default is inspect.Parameter.empty]


NETWORKS: dict[str, NetworkEntry] = {}
FAMILIES = ("toy", "mlp", "dcgan", "resnet", "language", "wae")  # listing order


def register(name: str, family: str, doc: str | None = None, **paper_params: Any):
    """Decorator registering a builder under ``name``; decorators stack (aliases)."""

    def decorate(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in NETWORKS:
            raise ValueError(f"network {name!r} is registered twice")
        line = doc or (inspect.getdoc(builder) or name).splitlines()[0]
        NETWORKS[name] = NetworkEntry(name, family, builder, line, dict(paper_params))
        return builder

    return decorate


def _known() -> str:
    return ", ".join(sorted(NETWORKS))


CONTROL_KEYS = ("distinct_outputs",)  # keys any generator spec takes, for negative controls


def build(spec: Mapping[str, Any]) -> nn.Module:
    """Build ``spec['arch']`` with the remaining keys as keyword parameters.

    ``distinct_outputs: k`` (any generator) wraps the network in ``FewOutputs``: a collapsed
    generator that emits at most k distinct outputs however it trains (negative controls).
    Every problem (unknown arch, unknown or missing parameter, invalid value) raises a
    one-line ``ReplicationError``."""
    if not isinstance(spec, Mapping) or "arch" not in spec:
        raise ReplicationError(f"network spec needs an 'arch' key; known architectures: {_known()}")
    params = {k: v for k, v in spec.items() if k != "arch" and k not in CONTROL_KEYS}
    name = spec["arch"]
    entry = NETWORKS.get(name)
    if entry is None:
        close = difflib.get_close_matches(str(name), NETWORKS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ReplicationError(f"unknown network arch {name!r}{hint}; known architectures: {_known()}")
    valid = [p.name for p in entry.parameters()]
    shown = ", ".join(valid) or "(none)"
    unknown = [k for k in params if k not in valid]
    if unknown:
        close = difflib.get_close_matches(unknown[0], valid, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ReplicationError(f"network {name!r}: unknown parameter {unknown[0]!r}{hint}; "
                               f"valid parameters: {shown}")
    missing = [k for k in entry.required() if k not in params]
    if missing:
        raise ReplicationError(f"network {name!r}: missing required parameter(s) {', '.join(missing)}; "
                               f"valid parameters: {shown}")
    try:
        net = entry.builder(**params)
    except (ValueError, TypeError, KeyError) as err:
        msg = " ".join(str(err).split())
        raise ReplicationError(f"network {name!r}: {msg}") from None
    if spec.get("distinct_outputs") is not None:
        from replication.nets.layers import FewOutputs

        latent = next((p for p in entry.parameters() if p.name in ("nz", "latent")), None)
        if latent is None:
            raise ReplicationError(f"network {name!r}: distinct_outputs needs a generator (a builder with nz or latent)")
        net = FewOutputs(net, int(spec["distinct_outputs"]), params.get(latent.name, latent.default))
    return net


def count_parameters(spec: Mapping[str, Any]) -> int:
    """Number of parameters of ``build(spec)``, built on the meta device (no memory, fast)."""
    with torch.device("meta"):
        model = build(spec)
    return sum(p.numel() for p in model.parameters())


def list_networks() -> list[dict[str, Any]]:
    """One row per registered network: name, family, doc, params (count at paper width)."""
    rows = []
    order = sorted(NETWORKS.values(),  # by family, registration order within a family
                   key=lambda e: FAMILIES.index(e.family) if e.family in FAMILIES else len(FAMILIES))
    for entry in order:
        name = entry.name
        rows.append({"name": name, "family": entry.family, "doc": entry.doc,
                     "params": count_parameters({"arch": name, **entry.paper_params})})
    return rows
