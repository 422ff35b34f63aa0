"""Claims of the papers, their verdicts, and the scorecard.

A claim lives in ``workflow/config/claims/<experiment>.yaml`` with its source, the exact
measure, the published value, a test with its tolerance and the rationale for it, the
smallest scale at which it means anything (``min_scale``), the seeds it rests on, and, for a
claim that compares methods or reads a quality level, the factor by which every run it needs
must have improved on its own step-0 value (``trained``). An experiment's ``summarize`` writes
``results/<scale>/<experiment>/measured.json``: one entry per measured key,
``{"value", "file", "note", "seeds", "runs", "protocol"}``; the scorecard joins the two.

The rules, in order (``judge``): fewer seeds than the claim registers -> not evaluated; a run
the claim needs did not train (``runs``: each run's step-0 and final quality, and its role) ->
not evaluated (did not train), whether or not a value could be measured; no value -> not
evaluated (its reason); a critic the claim reads is dead -> not evaluated; else the claim's
test, on every seed.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from replication import config as cfg
from replication.errors import ReplicationError
from replication.io import read_json, write_frame, write_text
from replication.settings import plain, setting_at

SCALE_RANK = {s: i for i, s in enumerate(cfg.SCALES)}
REPRODUCED, NOT_REPRODUCED, NOT_EVALUATED = "reproduced", "not reproduced", "not evaluated"


class Test:
    """A claim's test kind (``test: {kind: ...}`` in its YAML): whether a measured value passes,
    and the tolerance as the scorecard prints it. A non-finite or exactly-zero number never
    passes a numeric test: a dead network (gradient norms of 0, log -inf) must not satisfy a
    bound by accident."""

    def __init__(self, test: dict, seeds: int):
        self.test, self.seeds = test, seeds

    def passes(self, value: Any, published: Any) -> bool:
        """On every seed when the value is one per seed."""
        values = [float(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        return bool(values) and all(math.isfinite(v) and v != 0.0 and self.holds(v, published) for v in values)


class Within(Test):
    def text(self) -> str:
        return f"± {self.test['tolerance']:g}"

    def holds(self, value: float, published: Any) -> bool:
        return abs(value - float(published)) <= self.test["tolerance"]


class AtMost(Test):
    def text(self) -> str:
        return f"≤ {self.test['threshold']:g}"

    def holds(self, value: float, published: Any) -> bool:
        return value <= self.test["threshold"]


class AtLeast(Test):
    def text(self) -> str:
        return f"≥ {self.test['threshold']:g}"

    def holds(self, value: float, published: Any) -> bool:
        return value >= self.test["threshold"]


class Between(Test):
    def text(self) -> str:
        return f"in [{self.test['low']:g}, {self.test['high']:g}]"

    def holds(self, value: float, published: Any) -> bool:
        return self.test["low"] <= value <= self.test["high"]


class Holds(Test):
    def text(self) -> str:
        return "holds"

    def passes(self, value: Any, published: Any) -> bool:
        return value is True


class Ordering(Test):
    """Per-seed differences (a - b) of the ordered quantities; every one must clear the margin."""

    def text(self) -> str:
        return f"> {self.test['margin']:g} in each of {self.seeds} seeds"

    def passes(self, value: Any, published: Any) -> bool:
        values = [float(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        return (len(values) >= self.seeds and all(math.isfinite(v) for v in values)
                and all(v > self.test["margin"] for v in values))


TESTS = {"within": Within, "at_most": AtMost, "at_least": AtLeast, "between": Between, "holds": Holds,
         "ordering": Ordering}


@dataclass(frozen=True)
class Claim:
    id: str
    experiment: str
    paper: str
    artifact: str
    source: str
    claim: str
    measure: str
    published: Any
    key: str
    test: dict
    rationale: str
    min_scale: str
    seeds: int
    control: dict  # {setting: deltas over smoke, breaks: why} or {exempt: reason}
    untrained: dict | None = None  # {setting: deltas over smoke}: nothing trains -> "not evaluated (did not train)"
    trained: dict | None = None    # {factor: f}: every run the claim needs improved on its step 0 by f
    substitute: str | None = None  # where this measure differs from the paper's, and how
    notes: str | None = None       # the claim's history: tests or budgets revised, and why
    protocol: dict | None = None   # {generated, real, splits, reference, checkpoint}: texts with placeholders

    @property
    def kind(self) -> Test:
        return TESTS[self.test["kind"]](self.test, self.seeds)

    @property
    def tolerance_text(self) -> str:
        return self.kind.text()

    def passes(self, value: Any) -> bool:
        """The claim's own test."""
        return self.kind.passes(value, self.published)

    def untrained_runs(self, entry: dict) -> list[str]:
        """The runs of a measured entry that should have trained and did not: each run with role
        ``works`` (it must work) or ``control`` (the positive control that gates a run expected
        to fail) whose final quality is not better than its step-0 value by ``trained.factor``."""
        runs = entry.get("runs") or {}
        if runs and self.trained is None:
            raise ReplicationError(f"claim {self.id}: its measure lists the runs it needs, so it must state "
                                   "`trained: {factor: ...}`")
        factor = (self.trained or {}).get("factor", 1.0)
        return [run for run, r in runs.items() if r["role"] in ("works", "control") and not (
            r["final"] <= r["start"] / factor if r.get("lower_is_better", True) else r["final"] >= r["start"] * factor)]


PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*)\}")


def render(text: str, settings, where: str = "claim", features: str | None = None) -> str:
    """Fill ``{dotted.setting}`` placeholders from the resolved settings of the scale being
    judged (``{features}``: the scale's image-quality features), so claim texts never repeat
    (and never contradict) a number that lives in settings."""
    def value(match: re.Match) -> str:
        if match.group(1) == "features" and features is not None:
            return features
        try:
            node = setting_at(settings, match.group(1), where)
        except ReplicationError:
            raise ReplicationError(f"{where}: placeholder {{{match.group(1)}}} names no setting") from None
        if isinstance(node, float):
            return f"{node:g}"
        if isinstance(node, int) and not isinstance(node, bool) and abs(node) >= 10_000:
            return f"{node:,}"
        return str(list(node) if isinstance(node, tuple) else node)

    return PLACEHOLDER.sub(value, text)


def load_claims(config_dir: Path = cfg.CONFIG_DIR) -> list[Claim]:
    """Every claim of every experiment, schema-checked."""
    claims: list[Claim] = []
    for exp_id in cfg.experiment_ids(config_dir):
        path = config_dir / "claims" / f"{exp_id}.yaml"
        if not path.exists():
            continue
        doc = cfg.read_yaml(path) or []
        cfg.validate(doc, "claims", str(path))
        for entry in doc:
            claims.append(Claim(experiment=exp_id, **entry))
    ids = [c.id for c in claims]
    if len(ids) != len(set(ids)):
        raise ReplicationError(f"duplicate claim ids in {config_dir / 'claims'}")
    return claims


def verdict(claim: Claim, scale: str, measured: dict | None, selected: bool = True) -> tuple[str, str, Any]:
    """(verdict, reason, reproduced value) of one claim at one scale."""
    if not selected:
        return NOT_EVALUATED, "experiment not selected in this build", None
    if measured is None:
        return NOT_EVALUATED, f"no results at scale {scale}", None
    entry = measured.get(claim.key)
    if entry is None or entry.get("value") is None:
        reason = (entry or {}).get("reason", f"{claim.key} not measured")
        return NOT_EVALUATED, reason, None
    value = entry["value"]
    if SCALE_RANK[scale] < SCALE_RANK[claim.min_scale]:
        return NOT_EVALUATED, f"scale {scale} is below this claim's min_scale {claim.min_scale}", value
    return judge(claim, entry)


def judge(claim: Claim, entry: dict) -> tuple[str, str, Any]:
    """The claim's rules on a measured entry, whatever the scale (negative controls use this)."""
    value = entry.get("value")
    if entry.get("seeds", claim.seeds) < claim.seeds:
        return NOT_EVALUATED, f"{entry['seeds']} of {claim.seeds} seeds", value
    untrained = claim.untrained_runs(entry)  # before the value: a run that did not train is the reason
    if untrained:
        runs = entry["runs"]
        return NOT_EVALUATED, "did not train: " + ", ".join(
            f"{r} ({runs[r]['measure']} {runs[r]['start']:.4g} at step 0, {runs[r]['final']:.4g} at the end; "
            f"the claim asks x{claim.trained['factor']:g})" for r in untrained), value
    if value is None:
        return NOT_EVALUATED, entry.get("reason", f"{claim.key} not measured"), None
    dead = [run for run, r in (entry.get("runs") or {}).items() if r.get("live") is False]
    if dead:
        return NOT_EVALUATED, f"dead critic (constant output): {', '.join(dead)}", value
    return (REPRODUCED if claim.passes(value) else NOT_REPRODUCED), entry.get("note", ""), value


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value:.4g}"
    return str(value)


def training_precision(settings) -> str:
    """The arithmetic an experiment's runs train in: every ``precision`` its settings name (the
    engine's ``training.precision``), fp32 where none does (the engine's default). The scorecard
    names it beside each number, since bf16 is a speed lever at CPU scales."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "precision" and isinstance(value, str):
                    found.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(plain(settings))
    return "/".join(sorted(found)) or "fp32"


PROTOCOL = ("generated", "real", "splits", "reference", "checkpoint")  # the protocol columns besides features


PROXY_SIDECAR = "metrics_calibration/proxy_fashion-mnist/proxy.sha256"  # the proxy's identity, beside its classifier


def features_used(scale: str, results_root: Path) -> str:
    """The features image numbers use at this scale, with the weights' identity."""
    from replication.data.weights import INCEPTION_SHA256

    if cfg.features_of(scale) == "inception":
        return f"TF-Inception (torch-fidelity inception-v3-compat, sha256 {INCEPTION_SHA256[:12]})"
    sidecar = cfg.results_dir(results_root, scale) / PROXY_SIDECAR
    digest = sidecar.read_text().split()[0][:12] if sidecar.is_file() else "not built"
    return f"proxy classifier (metrics_calibration, sha256 {digest})"


def short_commit(commit: str) -> str:
    return commit[:12] + ("+dirty" if commit.endswith("+dirty") else "")


def trained_at(results_root: Path, scale: str, experiment: str) -> str:
    """The commits an experiment's runs trained at (their result.json), shortened."""
    commits = {read_json(p).get("commit", "unknown")
               for p in (cfg.results_dir(results_root, scale) / experiment).glob("*/result.json")}
    return ", ".join(sorted(short_commit(c) for c in commits)) or "—"


def scorecard(scale: str, selected: list[str], results_root: Path = Path("results"),
              config_dir: Path = cfg.CONFIG_DIR, extra_deltas=None) -> pd.DataFrame:
    from replication.provenance import last_change

    from replication.papercheck import REASON, built_with_standin

    standin = built_with_standin(results_root)  # numbers of a random-weight Inception: never scored
    rows = []
    for claim in load_claims(config_dir):
        path = cfg.results_dir(results_root, scale) / claim.experiment / "measured.json"
        chosen = claim.experiment in selected
        measured = read_json(path) if chosen and path.exists() else None
        result, reason, value = verdict(claim, scale, measured, chosen)
        if standin:
            result, reason, value = NOT_EVALUATED, REASON, None
        entry = (measured or {}).get(claim.key) or {}
        settings = cfg.resolve(claim.experiment, scale, extra_deltas)  # the runs' settings
        features = cfg.features_of(scale)
        text = {field: render(getattr(claim, field), settings, f"claim {claim.id}", features)
                for field in ("claim", "measure", "rationale")}
        protocol = {k: render(str(v), settings, f"claim {claim.id}", features) for k, v in (claim.protocol or {}).items()}
        changed = last_change(claim, scale, config_dir)
        rows.append({
            "paper": claim.paper, "artifact": claim.artifact, "claim": text["claim"], "measure": text["measure"],
            "published": _fmt(claim.published), "at start": _fmt(entry.get("start")), "reproduced": _fmt(value),
            "tolerance": claim.tolerance_text + (f"; on runs that trained (quality x{claim.trained['factor']:g} "
                                                 "better than at step 0)" if claim.trained else ""),
            "scale": scale, "precision": training_precision(settings),
            "verdict": result, "reason": reason, "seeds": claim.seeds,
            "measure vs paper": claim.substitute or "the paper's",
            "features": protocol.get("features") or (features_used(scale, results_root) if claim.protocol else "—"),
            **{k: protocol.get(k, "—") for k in PROTOCOL},
            "trained at": trained_at(results_root, scale, claim.experiment) if measured is not None else "—",
            "test last changed": changed["text"], "revised after a result": changed["revised"],
            "from": entry.get("file", str(path) if measured is not None else "—"),
            "control": (f"exempt: {claim.control['exempt']}" if "exempt" in claim.control
                        else f"fails when {claim.control['breaks']}"),
            "claim_id": claim.id, "rationale": text["rationale"], "source": claim.source, "notes": claim.notes or "",
        })
    return pd.DataFrame(rows)


def write_scorecard(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    cols = ["paper", "artifact", "claim", "measure", "measure vs paper", "published", "at start", "reproduced",
            "tolerance", "scale", "precision", "verdict", "test last changed", "control", "from"]
    counts = frame["verdict"].value_counts().to_dict()
    summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in (REPRODUCED, NOT_REPRODUCED, NOT_EVALUATED))
    md = [f"# Scorecard (scale `{frame['scale'].iat[0]}`)", "", summary, "",
          "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = [str(row[c]) for c in cols]
        if row["reason"]:
            cells[cols.index("verdict")] += f" ({row['reason']})"
        if row["revised after a result"]:
            cells[cols.index("test last changed")] += " (revised after a result)"
        md.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    md += ["", "## Tolerance rationales and history", ""]
    md += [f"- **{r.claim_id}** ({r.source}): {r.rationale}" + (f" History: {r.notes}" if r.notes else "")
           for r in frame.itertuples()]
    protocol_cols = ("claim_id", "features", *PROTOCOL, "trained at")
    md += ["", "## Protocol of every number", "", "| " + " | ".join(protocol_cols) + " |", "|" + "---|" * len(protocol_cols)]
    md += ["| " + " | ".join(str(row[c]).replace("|", "\\|") for c in protocol_cols) + " |" for _, row in frame.iterrows()]
    paths = [out_dir / "scorecard.md", out_dir / "scorecard.html", out_dir / "scorecard.csv"]
    write_text(paths[0], "\n".join(md) + "\n")
    colour = {REPRODUCED: "#d4edda", NOT_REPRODUCED: "#f8d7da", NOT_EVALUATED: "#eeeeee"}
    html_cols = cols + ["features", *PROTOCOL, "trained at"]
    body = "".join(
        "<tr style='background:{}'>{}</tr>".format(
            colour[row["verdict"]],
            "".join(f"<td title='{html.escape(str(row['rationale']))}'>{html.escape(str(row[c]))}"
                    + (f"<br><small>{html.escape(row['reason'])}</small>" if c == "verdict" and row["reason"] else "")
                    + ("<br><small>revised after a result</small>" if c == "test last changed"
                       and row["revised after a result"] else "")
                    + "</td>" for c in html_cols))
        for _, row in frame.iterrows())
    write_text(paths[1], "<!doctype html><meta charset='utf-8'><title>Scorecard</title>"
               "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px;vertical-align:top}"
               "table{border-collapse:collapse}</style>"
               f"<h1>Scorecard (scale {html.escape(frame['scale'].iat[0])})</h1><p>{html.escape(summary)}</p>"
               "<table><tr>" + "".join(f"<th>{c}</th>" for c in html_cols) + f"</tr>{body}</table>")
    write_frame(paths[2], frame)
    return paths
