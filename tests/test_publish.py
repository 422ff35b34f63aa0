"""A published study (replication.publish) on a tiny fake one: what is copied and what is not,
the stamp, re-judging and comparing from the published copy alone, and the README's status
table, which must be what ``replicate readme-status`` generates."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from replication import claims as cl
from replication import config as cfg
from replication import publish as pub
from replication.cli import main
from replication.compare import compare
from replication.errors import ReplicationError
from replication.io import write_json
from replication.provenance import PUBLISHED

SCALE, EXP = "small", "wgan_critics"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
RUNS = ("gan_s0", "wgan_s0")
PROXY = "metrics_calibration/proxy_fashion-mnist"  # read by the scorecard, its experiment not published
VERDICTS = ["verdict", "reason", "reproduced", "trained at", "features"]


@pytest.fixture(autouse=True)
def no_history(monkeypatch):
    """The scorecard's git-history column costs seconds per claim; it reads no results."""
    monkeypatch.setattr("replication.provenance.last_change", lambda *a, **k: {"text": "—", "revised": False})


def fake_study(root: Path, commits=(COMMIT, COMMIT)) -> tuple[Path, Path]:
    """results/ and reports/ of a built `small` study of one experiment: measured values (two
    claims reproduced, one not, the rest not evaluated), two runs with checkpoints, curves (one
    over the size limit), live curves, the proxy classifier's run, figures (PNG, PDF, CSV), the
    scorecard and the report."""
    results, reports = root / "results", root / "reports"
    exp = results / SCALE / EXP
    cite = f"results/{SCALE}/{EXP}/gan_s0/result.json"
    write_json(exp / "measured.json", {
        "critics_converged": {"value": True, "file": cite, "seeds": 3},
        "gan_grad_ratio_fake": {"value": 1e-5, "file": cite, "seeds": 3, "note": "worst of 3 seeds"},
        "wgan_grad_ratio_fake": {"value": 0.01, "file": cite, "seeds": 3}})
    for run, commit in zip(RUNS, commits):
        folder = exp / run
        write_json(folder / "config.json", {"experiment": EXP, "run": run, "commit": commit})
        write_json(folder / "result.json", {"experiment": EXP, "run": run, "scale": SCALE, "summary": {},
                                            "seconds": 90.0, "commit": commit, "torch": "2.14.1", "device": "cpu",
                                            "machine": {"cpu": "Test CPU", "cores": 2}, "threads": 1})
        (folder / "training.csv").write_text("iteration,loss\n0,1.0\n1,0.5\n")
        (folder / "samples.csv").write_text("x\n0.1\n")
        (folder / "final").mkdir()
        (folder / "final" / "critic.pt").write_bytes(b"weights")
        (folder / "tensorboard" / "training").mkdir(parents=True)
        (folder / "tensorboard" / "training" / "events.out.tfevents.1").write_bytes(b"events")
    (exp / "wgan_s0" / "evaluation.csv").write_bytes(b"1" * (pub.MAX_BYTES + 1))
    proxy = results / SCALE / PROXY
    write_json(proxy / "result.json", {"seconds": 30.0, "commit": commits[0], "torch": "2.14.1", "device": "cpu"})
    (proxy / "proxy.sha256").write_text("c0ffee00c0ffee00  proxy.pt\n")
    (proxy / "proxy.pt").write_bytes(b"weights")
    figures = reports / SCALE / "wgan" / "fig2"
    figures.mkdir(parents=True)
    for name in ("fig2.png", "fig2.pdf", "fig2.csv"):
        (figures / name).write_bytes(b"figure")
    (reports / SCALE / "notebooks").mkdir()
    (reports / SCALE / "notebooks" / "wgan_fig2.ipynb").write_text("{}")
    (reports / SCALE / "report.html").write_text("<html></html>")
    cl.write_scorecard(cl.scorecard(SCALE, [EXP], results), reports / SCALE)
    return results, reports


@pytest.fixture
def study(tmp_path):
    """A fake study and its published copy."""
    results, reports = fake_study(tmp_path)
    out = tmp_path / "reports" / "published"
    folder, stamp = pub.publish(SCALE, results, reports, out)
    return results, reports, out, folder, stamp


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_publish_copies_the_study_and_no_checkpoints(study):
    _, _, out, folder, stamp = study
    assert folder == out / SCALE
    runs = {f"results/{EXP}/{run}/{name}" for run in RUNS for name in ("result.json", "config.json", "training.csv")}
    runs |= {f"results/{PROXY}/result.json", f"results/{PROXY}/proxy.sha256"}
    assert _files(folder) == {"scorecard.md", "scorecard.html", "scorecard.csv", "STAMP.json", "STAMP.md",
                              "report.html", "wgan/fig2/fig2.png", "wgan/fig2/fig2.csv",
                              f"results/{EXP}/measured.json", *runs}
    assert [s["file"] for s in stamp["skipped"]] == [f"results/{EXP}/wgan_s0/evaluation.csv"]
    assert stamp["skipped"][0]["bytes"] > pub.MAX_BYTES


def test_the_stamp_holds_commits_machine_and_wall_time(study):
    _, _, _, folder, stamp = study
    assert json.loads((folder / cfg.STAMP).read_text()) == stamp
    assert stamp["scale"] == SCALE and stamp["trained_at"] == [COMMIT] and "mixed" not in stamp
    assert stamp["published"]["date"] and stamp["published"]["commit"]
    assert stamp["machine"]["runs"] == [{"cpu": "Test CPU", "cores": 2}]  # what the runs recorded
    assert stamp["machine"]["published_on"]["cpu"] and stamp["machine"]["published_on"]["cores"] >= 1
    assert stamp["runs"] == {"count": 3, "torch": ["2.14.1"], "devices": {"cpu": 3}, "threads": [1]}
    wall = stamp["experiments"][EXP]
    assert wall["runs"] == 2 and wall["seconds"] == 180.0 and wall["evaluation_seconds"] is None
    assert wall["span_seconds"] >= 0 and wall["first_output"] <= wall["last_output"]
    assert list(stamp["experiments"]) == [EXP] and stamp["upstream"][PROXY]["seconds"] == 30.0
    assert stamp["total"]["seconds"] == 210.0 and stamp["rejudged"] == []
    head = (folder / "scorecard.md").read_text().splitlines()
    assert head[0].startswith("# Scorecard") and head[2].startswith("- **Published study** of scale `small`")
    assert f"- **Trained at** `{COMMIT[:12]}`" in head and "Wall time" in head[5]
    assert "Trained at " + COMMIT[:12] in (folder / "scorecard.html").read_text()
    assert "| `wgan_critics` | 2 | 3 min |" in (folder / "STAMP.md").read_text()


@pytest.mark.parametrize("commits", [(COMMIT, "f" * 40), (COMMIT + "+dirty", COMMIT + "+dirty")])
def test_publish_refuses_mixed_or_dirty_commits_unless_allowed(tmp_path, commits, capsys):
    results, reports = fake_study(tmp_path, commits)
    out = tmp_path / "published"
    argv = ["publish", "--scale", SCALE, "--results", str(results), "--reports", str(reports), "--out", str(out)]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--allow-mixed" in error and not out.joinpath(SCALE).exists()
    assert main([*argv, "--allow-mixed"]) == 0
    stamp = json.loads((out / SCALE / cfg.STAMP).read_text())
    assert stamp["mixed"] == {c: sorted([f"{EXP}/{r}" for r, k in zip(RUNS, commits) if k == c]
                                        + ([PROXY] if c == commits[0] else [])) for c in set(commits)}
    assert "(mixed, published with --allow-mixed)" in (out / SCALE / "scorecard.md").read_text()


def test_publish_needs_a_built_study(tmp_path):
    with pytest.raises(ReplicationError, match="build the study first"):
        pub.publish(SCALE, tmp_path / "results", tmp_path / "reports", tmp_path / "published")


def _verdicts(frame):
    return frame[["claim_id", *VERDICTS]].to_dict("records")


def test_scorecard_and_rejudge_from_the_published_copy_give_the_original_verdicts(study, tmp_path):
    results, _, out, folder, _ = study
    original = cl.scorecard(SCALE, [EXP], results)
    assert list(original["verdict"]).count(cl.REPRODUCED) == 2 
    assert "proxy classifier (metrics_calibration, sha256 c0ffee00c0ff)" in set(original["features"])
    assert _verdicts(cl.scorecard(SCALE, [EXP], folder / "results")) == _verdicts(original)
    assert main(["scorecard", "--scale", SCALE, "--experiments", EXP, "--results", str(folder / "results"),
                 "--out", str(tmp_path / "rebuilt")]) == 0
    with open(tmp_path / "rebuilt" / "scorecard.csv", newline="") as handle:
        assert [r["verdict"] for r in csv.DictReader(handle)] == list(original["verdict"])
    with pytest.raises(ReplicationError, match="scale small, not paper"):
        cl.scorecard("paper", [EXP], folder / "results")

    # A verdict judged before a claim changed (here: typed into the published csv) comes back
    # from the values and the current claims, and the stamp shows it.
    with open(folder / "scorecard.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    claim = next(r["claim_id"] for r in rows if r["verdict"] == cl.REPRODUCED)
    for r in rows:
        r["verdict"] = cl.NOT_REPRODUCED if r["claim_id"] == claim else r["verdict"]
    with open(folder / "scorecard.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["rejudge", "--scale", SCALE, "--published", str(out)]) == 0
    stamp = json.loads((folder / cfg.STAMP).read_text())
    assert stamp["trained_at"] == [COMMIT] and len(stamp["rejudged"]) == 1
    assert stamp["rejudged"][0]["changed"] == {claim: [cl.NOT_REPRODUCED, cl.REPRODUCED]}
    with open(folder / "scorecard.csv", newline="") as handle:
        assert [r["verdict"] for r in csv.DictReader(handle)] == list(original["verdict"])
    text = (folder / "scorecard.md").read_text()
    assert text.count("- **Published study**") == 1
    assert f"1 verdict changed ({claim}: not reproduced → reproduced)" in text
    assert "Re-judged" in (folder / "STAMP.md").read_text()


def test_rejudge_needs_a_published_study(tmp_path):
    with pytest.raises(ReplicationError, match="replicate publish --scale small"):
        pub.rejudge(SCALE, tmp_path)


def test_compare_finds_no_difference_between_a_study_and_its_published_copy(study, capsys):
    results, _, _, folder, _ = study
    assert compare(folder / "results", results, SCALE, [EXP]) == []
    assert main(["compare", str(folder / "results"), str(results), "--scale", SCALE, "--experiments", EXP]) == 0
    assert "no differences" in capsys.readouterr().out
    measured = results / SCALE / EXP / "measured.json"
    values = json.loads(measured.read_text())
    values["wgan_grad_ratio_fake"]["value"] = 0.0105
    write_json(measured, values)
    assert compare(folder / "results", results, SCALE, [EXP]) == [
        f"{EXP}/wgan_grad_ratio_fake/value: 0.01 != 0.0105"]
    assert compare(folder / "results", results, SCALE, [EXP], tolerance=0.1) == []


def test_readme_status_block_from_the_published_scorecards(study, tmp_path):
    _, _, out, _, _ = study
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n## Experiments\n\n{pub.STATUS_BEGIN}\nold\n{pub.STATUS_END}\n\ntyped table\n")
    assert pub.readme_status(readme, out) == readme
    block = pub.readme_block(readme)
    assert block == pub.status_block(readme.parent, out) and readme.read_text().endswith("\n\ntyped table\n")
    n, card = sum(c.experiment == EXP for c in cl.load_claims()), f"reports/published/{SCALE}"
    assert (f"| `{EXP}` | wgan/fig2 | [2 of {n} reproduced, 1 not reproduced, {n - 3} not evaluated]"
            f"({card}/scorecard.md) |") in block
    assert f"[`small`]({card}/scorecard.md): trained at `{COMMIT[:12]}`" in block
    assert f"[stamp]({card}/STAMP.md)" in block
    assert "| `wgan_distances` | wgan/fig1, wgan/exercise_tables | not published |" in block

    pub.rejudge(SCALE, out)  # a new publication or re-judging makes the README's block stale
    assert pub.readme_block(readme) != pub.status_block(readme.parent, out)
    with pytest.raises(ReplicationError, match="status:begin"):
        (tmp_path / "other.md").write_text("no markers\n")
        pub.readme_status(tmp_path / "other.md", out)


def test_readme_without_a_published_study_says_so(tmp_path):
    block = pub.status_block(tmp_path, tmp_path / "published")
    assert "No published study yet" in block and "make publish-small" in block


def test_the_readme_status_block_is_what_readme_status_generates():
    """Edit the published study, not the README: `replicate readme-status` (make publish-small)."""
    readme = cfg.REPO / "README.md"
    assert pub.readme_block(readme) == pub.status_block(readme.parent, cfg.REPO / PUBLISHED), (
        "README.md's status block is stale or edited by hand: run `replicate readme-status`")
