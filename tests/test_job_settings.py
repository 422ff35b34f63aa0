"""The settings a job is started with reach what it reads: the data root (`replicate --data-root`,
before or after the command) and the extra setting deltas of notebooks and the scorecard, so
figures and claim texts describe the runs as they were run. (That the workflow passes them to
every job: tests/test_workflow.py.)"""

import json
import re

import pandas as pd
import yaml

from helpers import REPO, run_cli

from replication import cli
from replication import report as rep

PROBE = '''# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None

# %%
import json
from pathlib import Path

from replication.data import data_root
from replication.runs import Results

res = Results("metrics_calibration", scale, results, extra_deltas)
seen = {"epochs": res.settings.proxy.epochs, "data_root": str(data_root())}
Path(reports, "seen.json").write_text(json.dumps(seen))
'''


def _deltas(tmp_path, epochs: int):
    path = tmp_path / "deltas.yaml"
    path.write_text(yaml.safe_dump({"metrics_calibration": {"proxy": {"epochs": epochs}}}))
    return path


def test_every_report_notebook_takes_the_extra_deltas_into_its_results():
    for source in sorted(rep.NOTEBOOKS.glob("*.py")):
        text = source.read_text()
        parameters = text.split('# %% tags=["parameters"]', 1)[1].split("# %%", 1)[0]
        assert "\nextra_deltas = None" in parameters, source.name
        calls = re.findall(r"Results\(([^)]*)\)", text)
        assert calls and all(call.split(",")[-1].strip() == "extra_deltas" for call in calls), (source.name, calls)


def test_a_notebook_runs_with_the_jobs_extra_deltas_and_data_root(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "probe_settings.py").write_text(PROBE)
    monkeypatch.setattr(rep, "NOTEBOOKS", notebooks)
    monkeypatch.setenv("REPLICATION_DATA", str(tmp_path / "elsewhere"))  # restored after the test
    reports = tmp_path / "reports"
    assert cli.main(["--data-root", str(tmp_path / "data"), "notebook", "probe/settings", "--scale", "smoke",
                     "--results", str(tmp_path / "results"), "--reports", str(reports),
                     "--extra-deltas", str(_deltas(tmp_path, 7))]) == 0
    assert (reports / "smoke" / "notebooks" / "probe_settings.ipynb").exists()
    assert json.loads((reports / "seen.json").read_text()) == {"epochs": 7, "data_root": str(tmp_path / "data")}


def test_the_scorecard_renders_claims_with_the_runs_extra_deltas(tmp_path):
    out = tmp_path / "card"
    proc = run_cli("scorecard", "--scale", "smoke", "--experiments", "metrics_calibration", "--results",
                   str(tmp_path / "results"), "--out", str(out), "--extra-deltas", str(_deltas(tmp_path, 7)))
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_csv(out / "scorecard.csv", keep_default_na=False)
    measure = frame.loc[frame["claim_id"] == "metrics_proxy_test_accuracy", "measure"].item()
    assert "trained 7 epoch(s)" in measure


def test_a_run_reads_its_data_under_the_data_root_given(tmp_path):
    for argv in (["--data-root", str(tmp_path / "d1"), "run", "metrics_calibration", "proxy_fashion-mnist"],
                 ["run", "metrics_calibration", "proxy_fashion-mnist", "--data-root", str(tmp_path / "d2")]):
        proc = run_cli(*argv, "--scale", "smoke", "--results", str(tmp_path / "results"), cwd=REPO)
        root = argv[argv.index("--data-root") + 1]
        assert proc.returncode == 2
        assert proc.stderr.strip() == (f"replicate: error: dataset fashion-mnist is not prepared in {root}/fashion-mnist: "
                                       f"run `replicate fetch fashion-mnist --root {root}`")
