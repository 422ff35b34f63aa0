"""When a claim's settings last changed, read along main's first-parent line: a merged branch's
commits count as one change, at the merge (walking every commit by date would report a
branch's older states as changes back and forth)."""

import os
import subprocess

import yaml

from replication import config as cfg
from replication import provenance


def _git(repo, *args, when=None):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    if when:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def test_a_merged_branch_is_one_change_at_its_merge(tmp_path, monkeypatch):
    repo, path = tmp_path, "settings.yaml"
    write = lambda gate: (repo / path).write_text(yaml.safe_dump({"settings": {"gate": gate}}))  # noqa: E731
    _git(repo, "init", "-q", "-b", "main")
    write(1)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "a", when=1_000_000)
    _git(repo, "checkout", "-qb", "branch")
    write(2)
    _git(repo, "commit", "-qam", "b: gate 2", when=1_000_100)
    _git(repo, "checkout", "-q", "main")
    write(3)
    _git(repo, "commit", "-qam", "c: gate 3", when=1_000_200)
    _git(repo, "merge", "-q", "-X", "theirs", "branch", "-m", "merge", when=1_000_300)  # gate 3 -> 2 at the merge
    merge = _git(repo, "rev-parse", "HEAD").strip()

    monkeypatch.setattr(cfg, "REPO", repo)
    for cached in (provenance._commits, provenance._yaml_at):
        cached.cache_clear()
    try:
        gate = lambda doc: (doc or {}).get("settings", {}).get("gate")  # noqa: E731
        assert provenance._last(path, gate) == (merge, 1_000_300)
        assert [c for c, _ in provenance._commits(path)][-1] == merge and len(provenance._commits(path)) == 3
    finally:
        for cached in (provenance._commits, provenance._yaml_at):
            cached.cache_clear()
