"""The browsable Snakemake report: every artifact has a category, a title and a caption; the
scorecard is its landing page with each row linking to its figure; and the report of a real
``reports/<scale>/all`` build (``snakemake --report``) shows every artifact of it under its category."""

import json
import re
import subprocess
from urllib.parse import unquote

import pandas as pd
import pytest
from docutils.core import publish_parts

from helpers import REPO, snakemake_bin

from replication import config as cfg
from replication import report as rep


def test_every_artifact_has_a_category_a_title_and_a_caption():
    for exp in cfg.experiment_ids():
        for artifact in cfg.paper_file(exp)["artifacts"]:
            assert rep.report_category(artifact) in rep.report_index()["papers"].values()
            assert rep.report_subcategory(artifact)
            caption = rep.REPORT_DIR / "artifacts" / f"{rep.notebook_name(artifact)}.rst"
            assert caption.exists() and len(caption.read_text().split()) > 15, caption
    labels = rep.report_labels("wgan/fig3", "smoke", "fig3_samples.png")
    assert labels["scale"] == "smoke" and labels["file"] == "fig3_samples.png" and "method" in labels


def test_an_artifact_missing_from_the_report_index_is_one_clear_error():
    with pytest.raises(Exception, match=r"artifact 'wgan/fig99' has no entry in .*artifacts.yaml") as err:
        rep.report_subcategory("wgan/fig99")
    assert "\n" not in str(err.value)


def test_landing_page_rows_link_to_their_figures(tmp_path):
    scale_dir = tmp_path / "smoke"
    scale_dir.mkdir()
    rep.figure_path(tmp_path, "smoke", "wgan/fig3").write_bytes(b"png")
    rep.figure_path(tmp_path, "smoke", "wgan/fig3", part="samples").write_bytes(b"png")
    rep.figure_path(tmp_path, "smoke", "wae/table1", ".csv").write_text("a\n1\n")
    pd.DataFrame([
        {"claim_id": "estimate_tracks_quality", "artifact": "wgan/fig3", "verdict": "reproduced", "reason": "",
         "reproduced": 0.9, "published": "falls", "tolerance": "≥ 0.5"},
        {"claim_id": "fid_order", "artifact": "wae/table1", "verdict": "not evaluated", "reason": "min_scale small",
         "reproduced": "", "published": "63 > 55 > 42", "tolerance": "holds"},
        {"claim_id": "only_gp_trains_all", "artifact": "wgan_gp/fig2", "verdict": "not reproduced", "reason": "",
         "reproduced": "3 of 7", "published": "7 of 7", "tolerance": "holds"},
    ]).to_csv(scale_dir / "scorecard.csv", index=False)
    index = rep.write_report_index("smoke", tmp_path)
    html = publish_parts(index.read_text(), writer="html", settings_overrides={"report_level": 2})["body"]
    assert "system-message" not in html and "&#x27;" not in html  # valid rst; quotes kept for the JS
    links = [(call, unquote(arg), text) for call, arg, text in
             re.findall(r'href="javascript:app\.(\w+)\(\'([^\']+)\'\)">([^<]+)</a>', html)]
    assert links == [("showResultInfo", f"{scale_dir}/wgan/fig3/fig3.png", "wgan/fig3"),  # the main figure
                     ("showResultInfo", f"{scale_dir}/wae/table1/table1.csv", "wae/table1"),  # a table
                     ("showCategory", rep.report_category("wgan_gp/fig2"), "wgan_gp/fig2")]  # nothing drawn
    assert "<strong>not evaluated</strong>" in html and "only_gp_trains_all" in html


def test_the_manifest_lists_its_scales_files_but_not_itself_or_the_report(tmp_path):
    root = tmp_path / "small"
    rep.figure_path(tmp_path, "small", "wgan/fig3").write_bytes(b"png")
    pd.DataFrame([{"claim_id": "c", "artifact": "wgan/fig3", "verdict": "reproduced", "reproduced": 1, "published": 1,
                   "tolerance": "", "reason": ""}]).to_csv(root / "scorecard.csv", index=False)
    for stale in ("all", "report.html"):  # an earlier manifest, a report built after it
        (root / stale).write_text("old")
    out = rep.write_manifest("small", ["wgan_curves"], tmp_path)
    assert out == rep.manifest_path("small", tmp_path) == root / "all"
    manifest = json.loads(out.read_text())
    assert manifest["scale"] == "small"
    assert sorted(manifest["files"]) == [str(root / "scorecard.csv"), str(root / "wgan/fig3/fig3.png")]


def _manifest():
    """The manifest of the scale built here (make smoke builds reports/smoke/all)."""
    for scale in cfg.SCALES:
        manifest = rep.manifest_path(scale, REPO / "reports")
        if manifest.exists():
            return json.loads(manifest.read_text())
    pytest.skip("no reports/<scale>/all: build one first (make smoke)")


def _embedded(html: str, name: str):
    return json.loads(re.search(rf'<script id="{name}">\s*var \w+ = (.*?);\n\s*</script>', html, re.S).group(1))


def test_report_of_the_built_study_shows_every_artifact_with_its_category(tmp_path):
    """``snakemake --report`` over the experiments of a built reports/<scale>/all (make smoke builds it
    in CI): each artifact's figures and tables under paper -> artifact, labelled and captioned, the
    scorecard on the landing page with rows that open figures of the report."""
    manifest = _manifest()
    scale = manifest["scale"]
    out = tmp_path / "report.html"
    proc = subprocess.run([snakemake_bin(), "--report", str(out), "--config", f"scale={scale}",
                           f"experiments=[{','.join(manifest['experiments'])}]"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = out.read_text()
    categories, results = _embedded(html, "categories"), _embedded(html, "results")
    for artifact in rep.artifacts(manifest["experiments"]):
        folder = rep.artifact_dir("reports", scale, artifact)
        shown = [str(p) for p in rep.report_files(folder)]
        assert shown, f"{artifact}: nothing drawn in {folder}"
        assert all(path in manifest["files"] for path in shown)
        listed = categories[rep.report_category(artifact)][rep.report_subcategory(artifact)]
        assert sorted(listed) == shown, artifact
        for path in shown:
            assert results[path]["labels"]["scale"] == scale and results[path]["labels"]["file"] in path
            assert artifact in results[path]["caption"] and "Protocol" in results[path]["caption"]
    assert categories["Scorecard"]["Other"] == [f"reports/{scale}/scorecard.html"]

    landing = _embedded(html, "workflow-desc")
    targets = [unquote(t) for t in re.findall(r"javascript:app\.showResultInfo\('([^']+)'\)", landing)]
    assert len(targets) == len(manifest["claims"]) - landing.count("javascript:app.showCategory(")
    assert targets and all(t in results for t in targets)
    for claim in manifest["claims"]:
        assert claim["claim_id"] in landing


def test_notebooks_read_settings_that_exist():
    """Settings are typed (frozen dataclasses; a few fields are plain mappings): a notebook that
    subscripts a dataclass (``S["methods"]`` with ``S = res.settings.surface``) or reads a field the
    settings no longer have (``settings.evaluation.features``: the features are the scale's) fails
    when it runs. Every attribute a notebook reads from ``res.settings`` is evaluated on the
    experiment's real settings, and every expression it subscripts must be a mapping or a sequence."""
    import ast
    from types import SimpleNamespace

    found = []
    for exp in cfg.experiment_ids():
        settings = cfg.resolve(exp, "smoke")
        for artifact in cfg.paper_file(exp)["artifacts"]:
            path = rep.notebook_source(artifact)
            tree = ast.parse(path.read_text())
            env = {"res": SimpleNamespace(settings=settings)}

            def of_settings(node) -> bool:  # res.settings..., or a name bound to a part of it
                while isinstance(node, (ast.Attribute, ast.Subscript)):
                    if isinstance(node, ast.Attribute) and node.attr == "settings":
                        return True
                    node = node.value
                return isinstance(node, ast.Name) and node.id in env and node.id != "res"

            for node in ast.walk(tree):
                if isinstance(node, ast.Assign) and of_settings(node.value) and len(node.targets) == 1 \
                        and isinstance(node.targets[0], ast.Name):
                    try:
                        env[node.targets[0].id] = eval(compile(ast.Expression(node.value), path.name, "eval"), {}, env)
                    except (NameError, KeyError, IndexError):
                        continue  # built from a loop variable: not checked
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and of_settings(node.value):
                    try:
                        eval(compile(ast.Expression(node), path.name, "eval"), {}, env)
                    except AttributeError as err:
                        found.append(f"{path.name}:{node.lineno} {err}")
                    except (NameError, KeyError, IndexError, TypeError):
                        pass  # built from a loop variable, or a subscript (checked below)
                if isinstance(node, ast.Subscript) and of_settings(node.value):
                    try:
                        base = eval(compile(ast.Expression(node.value), path.name, "eval"), {}, env)
                    except (NameError, KeyError, IndexError):
                        continue  # built from a loop variable: not checked
                    if not isinstance(base, (dict, list, tuple)):
                        found.append(f"{path.name}:{node.lineno} subscripts a {type(base).__name__}")
    assert not found, f"notebooks read settings that are not there: {found}"


def test_sample_sheets_leave_a_cell_without_a_run_blank(tmp_path):
    """A sub-grid (extra deltas selecting runs, as the paper-shape check does) has cells without a
    run: the sheet is blank and says so instead of the notebook stopping."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from replication.recipes.plots import sample_sheets

    png = tmp_path / "grid.png"
    plt.imsave(png, [[0.0, 1.0], [1.0, 0.0]], cmap="gray")
    fig = sample_sheets([[(png, "works, FID 12"), None]], rows=["dcgan"], columns=["WGAN-GP", "DCGAN"])
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["works, FID 12", "not run"] and len(fig.axes[1].images) == 0 and len(fig.axes[0].images) == 1
