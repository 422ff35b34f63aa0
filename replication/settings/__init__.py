"""Typed settings: one strict parser, one strict merge and one dotted-path accessor.

Every block of an experiment's settings is a frozen dataclass (``training.py``: the engine's
training block; ``experiments.py``: everything else). ``parse(cls, mapping, where)`` builds one
from YAML values: an unknown key, a missing key, a wrong type or a name outside its choices is
one ReplicationError naming the file and the key. Nothing here imports torch, so Snakemake
parses and checks every experiment's settings before any job starts.

Choices come from the registries (``replication.registries``), never from a second list::

    objective: str = choice(OBJECTIVES)

A mapping of variants (methods, models) declared ``variants(over=("training", "networks"))``
gets each variant's blocks merged over the shared sibling blocks of the same names before the
variant is parsed, with the same strict ``merge`` that applies scale deltas.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import field
from typing import Any

from replication.errors import ReplicationError


def choice(choices, default=dataclasses.MISSING):
    """A field whose value must be one of ``choices`` (a tuple, or a Registry's names)."""
    return field(default=default, metadata={"choices": choices})


def block(typename: str, /, **fields) -> type:
    """A small settings type in one line: ``block("Grid1d", low=float, high=float, points=int)``
    (frozen, every field required; ``(type, choice(...))`` for a choice), like the dataclasses
    written out for the larger blocks."""
    cls = dataclasses.make_dataclass(typename, [(k, *v) if isinstance(v, tuple) else (k, v) for k, v in fields.items()],
                                     frozen=True, kw_only=True)
    cls.__module__ = "replication.settings.experiments"
    return cls


def variants(over: tuple[str, ...] = ("training",)):
    """A ``dict[str, Variant]`` field whose entries are deltas over the sibling blocks ``over``."""
    return field(metadata={"over": over})


def parse(cls, value: Any, where: str):
    """A mapping -> ``cls`` (a dataclass), strictly; nested dataclasses, dicts, tuples, unions."""
    if not isinstance(value, dict):
        raise ReplicationError(f"{where}: expected a mapping, got {value!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ReplicationError(f"{where}: unknown key {', '.join(map(repr, unknown))}; valid keys: {', '.join(fields)}")
    missing = [n for n, f in fields.items() if n not in value
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ReplicationError(f"{where}: missing key {', '.join(map(repr, missing))}")
    hints = typing.get_type_hints(cls)
    out = {}
    for name, raw in value.items():
        meta = fields[name].metadata
        if "over" in meta:  # variants: each entry merged over the shared blocks first
            shared = {k: value.get(k) or {} for k in meta["over"]}
            raw = {v: {**delta, **{k: merge(shared[k], delta.get(k) or {}, f"{where}.{name}.{v}.{k}", new_keys=True)
                                   for k in meta["over"]}}
                   for v, delta in _mapping(raw, f"{where}.{name}").items()}
        out[name] = _convert(hints[name], raw, f"{where}.{name}")
        choices = meta.get("choices")
        if choices is not None and out[name] not in choices:
            names = getattr(choices, "names", choices)
            raise ReplicationError(f"{where}.{name}: unknown {name} {raw!r}; choose one of {', '.join(names)}")
    spec = cls(**out)
    check = getattr(spec, "check", None)
    if check is not None:
        check(where)
    return spec


def _mapping(raw: Any, where: str) -> dict:
    if not isinstance(raw, dict):
        raise ReplicationError(f"{where}: expected a mapping, got {raw!r}")
    return raw


def _convert(hint, raw, where: str):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if raw is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) > 1:  # e.g. str | int: the first that takes the value
            for option in inner:
                try:
                    return _convert(option, raw, where)
                except ReplicationError:
                    continue
            raise ReplicationError(f"{where}: must be {' or '.join(a.__name__ for a in inner)}, got {raw!r}")
        return _convert(inner[0], raw, where)
    if dataclasses.is_dataclass(hint):
        return parse(hint, raw, where)
    if hint is dict or origin is dict:
        raw = _mapping(raw, where)
        return {k: _convert(args[1], v, f"{where}.{k}") for k, v in raw.items()} if args else copy.deepcopy(raw)
    if origin is tuple:
        if not isinstance(raw, (list, tuple)):
            raise ReplicationError(f"{where}: expected a list, got {raw!r}")
        return tuple(_convert(args[0], v, where) for v in raw)
    if hint is float and isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    if hint in (int, str, bool) and type(raw) is not hint:
        raise ReplicationError(f"{where}: must be {hint.__name__}, got {raw!r}")
    return raw


def variant_paths(cls, prefix: str = "") -> tuple[str, ...]:
    """The dotted paths of ``cls``'s variant mappings (methods, models), nested blocks included."""
    hints, out = typing.get_type_hints(cls), []
    for f in dataclasses.fields(cls):
        if "over" in f.metadata:
            out.append(prefix + f.name)
        elif dataclasses.is_dataclass(hints[f.name]):
            out.extend(variant_paths(hints[f.name], f"{prefix}{f.name}."))
    return tuple(out)


def merge(base: dict, delta: dict, where: str, *, new_keys: bool = False, open_paths: tuple[str, ...] = (),
          _path: str = "") -> dict:
    """``base`` with ``delta`` merged in recursively. A key must exist in ``base`` unless
    ``new_keys`` (a variant may set a field its shared block leaves to the default) or ``base``
    is a network's registry spec (it has ``arch``: any builder parameter, checked by the registry
    when the network is built), and a value keeps the type of the value it replaces (an int may
    replace a float; None is open). Below a variant (``open_paths``: e.g. ``methods.wgan.*``) a
    delta may set what the variant leaves to its shared block; parsing checks those keys."""
    out = copy.deepcopy(base)
    opened = new_keys or "arch" in base or any(_path.startswith(p + ".") for p in open_paths)
    for key, value in delta.items():
        if key not in base:
            if not opened:
                raise ReplicationError(f"{where}: unknown key {key!r}; valid keys: {', '.join(sorted(base))}")
            out[key] = copy.deepcopy(value)
            continue
        old = base[key]
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = merge(old, value, f"{where}.{key}", new_keys=new_keys, open_paths=open_paths,
                             _path=f"{_path}.{key}" if _path else key)
        elif old is not None and (isinstance(old, bool) != isinstance(value, bool) or (
                not isinstance(value, type(old)) and not (isinstance(old, float) and isinstance(value, int)))):
            raise ReplicationError(f"{where}: {key!r} must be {type(old).__name__} like {old!r}, got {value!r}")
        else:
            out[key] = copy.deepcopy(value)
    return out


def setting_at(node: Any, path: str, where: str) -> Any:
    """The value at a dotted path (``methods.wgan.training.iterations``) through dataclasses,
    mappings and lists (a numeric part indexes a list)."""
    for part in str(path).split("."):
        if dataclasses.is_dataclass(node) and part in {f.name for f in dataclasses.fields(node)}:
            node = getattr(node, part)
        elif isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise ReplicationError(f"{where}: no setting {path!r}")
    return node


def plain(spec: Any) -> Any:
    """Settings as JSON values (dataclasses -> dicts, tuples -> lists)."""
    if dataclasses.is_dataclass(spec):
        return {f.name: plain(getattr(spec, f.name)) for f in dataclasses.fields(spec)}
    if isinstance(spec, dict):
        return {k: plain(v) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [plain(v) for v in spec]
    return spec
