"""When a claim's test and its runs' budget last changed, from the repository's git history, and
whether that change came after a verdict of the claim had been recorded.

A claim's test is its YAML entry's ``test``, ``min_scale``, ``seeds`` and ``trained``; its
judging blocks are the settings its experiment lists under ``judging:`` (what decides a verdict:
thresholds, rules, measure parameters); its runs' budget is every iteration, sample, seed,
width and batch count of the experiment's settings at the scale (the scale file's block below
paper). A verdict counts as recorded once a scorecard with it is committed under
``reports/published/`` or a claim's ``notes`` say so (verdicts typed before any scorecard was
published, written into the notes by hand).
"""

from __future__ import annotations

import datetime
import functools
import json
import subprocess
from pathlib import Path

import yaml

from replication import config as cfg

BUDGET_KEYS = ("iterations", "samples", "seeds", "width", "batch_size", "architectures", "images")
PUBLISHED = "reports/published"


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cfg.REPO, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


@functools.cache
def _commits(path: str) -> tuple[tuple[str, int], ...]:
    """(commit, unix time) of every commit that touched ``path``, oldest first."""
    out = _git("log", "--first-parent", "--format=%H %ct", "--", path) or ""  # main's line: a merged branch's history is one change
    return tuple((c, int(t)) for c, t in (line.split() for line in reversed(out.splitlines())))


@functools.cache
def _yaml_at(commit: str, path: str):
    text = _git("show", f"{commit}:{path}")
    try:
        return yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return None


def _budget(node) -> list:
    """Every budget number in a settings tree, as sorted (key, value) pairs (paths move; counts do not)."""
    found = []

    def walk(n):
        if isinstance(n, dict):
            for k, v in n.items():
                found.extend([(k, json.dumps(v))] if k in BUDGET_KEYS and not isinstance(v, dict) else [])
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)
    walk(node)
    return sorted(found)


def _last(path: str, key) -> tuple[str, int] | None:
    """The latest commit at which ``key(yaml at commit)`` changed."""
    last, previous = None, object()
    for commit, when in _commits(path):
        value = key(_yaml_at(commit, path))
        if value != previous:
            last, previous = (commit, when), value
    return last


def last_change(claim, scale: str, config_dir: Path = cfg.CONFIG_DIR) -> dict:
    """{"text": "<commit> <date> (test | judging | budget)", "revised": bool}."""
    noted = "revised after a result" in (claim.notes or "")
    if config_dir != cfg.CONFIG_DIR or _git("rev-parse", "HEAD") is None:
        return {"text": "unknown (no git history)", "revised": noted}
    exp, claims = claim.experiment, f"workflow/config/claims/{claim.experiment}.yaml"
    settings_file = f"workflow/config/experiments/{exp}.yaml"
    judging = cfg.paper_file(exp).get("judging", [])

    def test(doc):
        entry = next((e for e in doc or [] if isinstance(e, dict) and e.get("id") == claim.id), {})
        return json.dumps([entry.get(k) for k in ("test", "min_scale", "seeds", "trained")], sort_keys=True)

    changes = {"test": _last(claims, test),
               "judging": _last(settings_file, lambda d: json.dumps([((d or {}).get("settings") or {}).get(k)
                                                                     for k in judging], sort_keys=True))}
    budget = (_last(settings_file, lambda d: _budget(((d or {}).get("settings")) or {})) if scale == "paper" else
              _last(f"workflow/config/scales/{scale}.yaml", lambda d: _budget((d or {}).get(exp) or {})))
    changes["budget"] = budget
    found = {k: v for k, v in changes.items() if v is not None}
    if not found:
        return {"text": "not committed", "revised": noted}
    what, (commit, when) = max(found.items(), key=lambda kv: kv[1][1])
    date = datetime.datetime.fromtimestamp(when, datetime.timezone.utc).date().isoformat()
    return {"text": f"{commit[:10]} {date} ({what})", "revised": noted or _published_before(claim, scale, when)}


def _published_before(claim, scale: str, when: int) -> bool:
    """Whether a scorecard committed under reports/published before ``when`` judged the claim."""
    path = f"{PUBLISHED}/{scale}/scorecard.csv"
    for commit, t in _commits(path):
        if t >= when:
            break
        text = _git("show", f"{commit}:{path}") or ""
        if any(line.split(",", 1)[0] == claim.id or f",{claim.id}," in line for line in text.splitlines()
               if "not evaluated" not in line):
            return True
    return False
