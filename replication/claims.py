"""Claims of the papers, their verdicts, and the scorecard.

A claim lives in ``workflow/config/claims/<experiment>.yaml`` with its source, the exact
measure, the published value, a test with its tolerance and the rationale for it, the
smallest scale at which it means anything (``min_scale``) and the seeds it rests on. An
experiment's ``summarize`` writes ``results/<scale>/<experiment>/measured.json``: one entry
per measured key, ``{"value": ..., "file": ..., "note": ...}``; the scorecard joins the two.
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
        value = float(value)
        return math.isfinite(value) and value != 0.0 and self.holds(value, published)


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

    @property
    def kind(self) -> Test:
        return TESTS[self.test["kind"]](self.test, self.seeds)

    @property
    def tolerance_text(self) -> str:
        return self.kind.text()

    def passes(self, value: Any) -> bool:
        """The claim's own test."""
        return self.kind.passes(value, self.published)


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
    """The claim's test on a measured entry, whatever the scale (negative controls use this)."""
    value = entry.get("value")
    if value is None:
        return NOT_EVALUATED, entry.get("reason", f"{claim.key} not measured"), None
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


def scorecard(scale: str, selected: list[str], results_root: Path = Path("results"),
              config_dir: Path = cfg.CONFIG_DIR, extra_deltas=None) -> pd.DataFrame:
    from replication.papercheck import REASON, built_with_standin

    standin = built_with_standin(results_root)  # numbers of a random-weight Inception: never scored
    rows = []
    for claim in load_claims(config_dir):
        path = results_root / scale / claim.experiment / "measured.json"
        chosen = claim.experiment in selected
        measured = read_json(path) if chosen and path.exists() else None
        result, reason, value = verdict(claim, scale, measured, chosen)
        if standin:
            result, reason, value = NOT_EVALUATED, REASON, None
        entry = (measured or {}).get(claim.key) or {}
        settings = cfg.resolve(claim.experiment, scale, extra_deltas)  # the runs' settings
        text = {field: render(getattr(claim, field), settings, f"claim {claim.id}", cfg.features_of(scale))
                for field in ("claim", "measure", "rationale")}
        rows.append({
            "paper": claim.paper, "artifact": claim.artifact, "claim": text["claim"], "measure": text["measure"],
            "published": _fmt(claim.published), "at start": _fmt(entry.get("start")), "reproduced": _fmt(value), "tolerance": claim.tolerance_text,
            "scale": scale, "precision": training_precision(settings), "verdict": result, "reason": reason, "seeds": claim.seeds,
            "from": entry.get("file", str(path) if measured is not None else "—"),
            "control": (f"exempt: {claim.control['exempt']}" if "exempt" in claim.control
                        else f"fails when {claim.control['breaks']}"),
            "claim_id": claim.id, "rationale": text["rationale"], "source": claim.source,
        })
    return pd.DataFrame(rows)


def write_scorecard(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    cols = ["paper", "artifact", "claim", "measure", "published", "at start", "reproduced", "tolerance", "scale",
            "precision", "verdict", "control", "from"]
    counts = frame["verdict"].value_counts().to_dict()
    summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in (REPRODUCED, NOT_REPRODUCED, NOT_EVALUATED))
    md = [f"# Scorecard (scale `{frame['scale'].iat[0]}`)", "", summary, "",
          "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = [str(row[c]) for c in cols]
        if row["reason"]:
            cells[cols.index("verdict")] += f" ({row['reason']})"
        md.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    md += ["", "## Tolerance rationales", ""]
    md += [f"- **{r.claim_id}** ({r.source}): {r.rationale}" for r in frame.itertuples()]
    paths = [out_dir / "scorecard.md", out_dir / "scorecard.html", out_dir / "scorecard.csv"]
    write_text(paths[0], "\n".join(md) + "\n")
    colour = {REPRODUCED: "#d4edda", NOT_REPRODUCED: "#f8d7da", NOT_EVALUATED: "#eeeeee"}
    body = "".join(
        "<tr style='background:{}'>{}</tr>".format(
            colour[row["verdict"]],
            "".join(f"<td title='{html.escape(str(row['rationale']))}'>{html.escape(str(row[c]))}"
                    + (f"<br><small>{html.escape(row['reason'])}</small>" if c == "verdict" and row["reason"] else "")
                    + "</td>" for c in cols))
        for _, row in frame.iterrows())
    write_text(paths[1], "<!doctype html><meta charset='utf-8'><title>Scorecard</title>"
               "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px;vertical-align:top}"
               "table{border-collapse:collapse}</style>"
               f"<h1>Scorecard (scale {html.escape(frame['scale'].iat[0])})</h1><p>{html.escape(summary)}</p>"
               "<table><tr>" + "".join(f"<th>{c}</th>" for c in cols) + f"</tr>{body}</table>")
    write_frame(paths[2], frame)
    return paths
