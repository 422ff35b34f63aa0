"""The repository explains itself: every citation in it can be followed from a clone.

Source notes cite the primary source directly (docs/sources.md): a paper with its section,
equation, table, figure or appendix, or an official repository and file. This test scans
every tracked text file (``git ls-files``) and fails on

- names of planning documents that were never part of the repository, and paths into
  folders beside it;
- names of Markdown files, or repository paths, that do not exist in the repository;
- bare section pointers that name no paper: a section sign followed by a number, ``s`` +
  number pointers (with a decimal, an ``item``/``gap`` suffix, in parentheses, after a
  paper's name, or numbers 3 to 19, which no stride in this repository uses), and
  "section N" not preceded by the paper's name ("WGAN Section 4.2", "WGAN-GP Appendix B"
  and "WAE Section 4" pass);
- evidence tags that are not defined in docs/sources.md (only [P], [C], [I] are).

The failure message lists ``file:line`` for each hit. This file itself is not scanned, since
it spells the patterns out.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SELF = Path(__file__).resolve().relative_to(ROOT).as_posix()

# Documents outside the repository (planning notes the project was written from).
OUTSIDE_DOCUMENTS = re.compile(
    # the names are split so that this file does not itself cite them
    r"\b(?:WGAN_" r"WGANGP|WAE_" r"AND_METRICS|HARNESS_" r"ANCHORS|EXPERIMENT_" r"DONE|EXPERIMENTS|DESIGN)\b"
    r"|\.\./(?:sha" r"red|seeds)\b|\bsha" r"red/spec\b|\bseed slides\b")

SECTION_SIGN = re.compile(r"\u00a7\s*\d+(?:\.\d+)*(?:\s*-\s*\d+(?:\.\d+)*)?(?:\s+(?:item|gap)\s+\d+)?")

# "s" + number pointers. Strides ("k4 s2", "Conv2d(k5, s2, p2)") are s1/s2 without a decimal,
# so s1/s2 are flagged only where a pointer shape is unambiguous.
S_POINTERS = [
    re.compile(r"\bs\d+\.\d+"),                                   # s2.4, s1.8
    re.compile(r"\bs\d+\s+(?:item|gap|row|table)s?(?:\s+\d+(?:-\d+)?)?\b"),  # s11 item 8, s9 table
    re.compile(r"\(\s*s\d+\s*\)"),                                # (s5)
    re.compile(r"\b(?:WGAN-GP|WGAN|WAE)\s+s\d+\b"),               # WGAN s2, WGAN-GP s9
    re.compile(r"\bs(?:[3-9]|1\d)\b(?!://)"),                     # s5, s10 (s3:// is a URL)
    re.compile(r"\bs\d+\s+(?:and|to)\s+s\d+\b"),                  # s6.1 and s10
    re.compile(r"\bs\d+\s+\[(?:[PCIRA]|INF|CODE)\b"),             # s3 [C]
]

SECTION = re.compile(r"\b[Ss]ections?\s+\d+(?:\.\d+)*")
# A section number must follow the paper it belongs to (within the same clause: no ';' and no
# full stop ending a sentence in between).
PAPER_BEFORE = re.compile(r"\b(?:WGAN-GP|WGAN|WAE|et al\.(?:\s*\d{4})?|arXiv\s*[\d.v]+)\b(?:[^;.\n]|\.(?!\s)){0,80}$")

# Tags of the planning notes; docs/sources.md defines [P], [C] and [I] only.
FOREIGN_TAG = re.compile(
    r"(?<![\w\])])\[(?:[^\[\]\n]*?[\s,;])?"
    r"(?:R|A|INF|CODE|PAPER-R|EXT-CODE|ISSUE|recalled)(?:\s*#\d+)?(?=[\s,;\]])[^\[\]\n]*\]")

MARKDOWN_NAME = re.compile(r"(?<![\w/{}.$<-])((?:[\w.-]+/)*[\w-]+\.md)\b")
REPO_PATH = re.compile(r"(?<![\w/.$-])((?:docs|benchmarks|tests|replication|workflow|reports/notebooks)"
                       r"(?:/[\w.-]+)*\w)(?![\w{<*])")


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    return [p for p in out.decode().split("\0") if p]


def text_of(path: Path) -> str | None:
    """The file's text, or None for binaries, links and files missing from the work tree."""
    if path.is_symlink() or not path.is_file():
        return None
    raw = path.read_bytes()
    if b"\0" in raw[:8192]:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def problems_in_line(line: str, paths: set[str], dirs: set[str], names: set[str]) -> list[str]:
    found: list[str] = []
    found += [f"document outside the repository {m.group(0)!r}" for m in OUTSIDE_DOCUMENTS.finditer(line)]
    found += [f"bare section pointer {m.group(0)!r}" for m in SECTION_SIGN.finditer(line)]
    spans = sorted({m.span() for rx in S_POINTERS for m in rx.finditer(line)}, key=lambda s: (s[0], -s[1]))
    kept: list[tuple[int, int]] = []
    for start, end in spans:  # one message per pointer: overlapping matches are merged
        if kept and start < kept[-1][1]:
            kept[-1] = (kept[-1][0], max(end, kept[-1][1]))
        else:
            kept.append((start, end))
    found += [f"bare section pointer {line[a:b]!r}" for a, b in kept]
    for m in SECTION.finditer(line):
        if not PAPER_BEFORE.search(line[max(0, m.start() - 120):m.start()]):
            found.append(f"section without its paper {m.group(0)!r}")
    found += [f"undefined source tag {m.group(0)!r}" for m in FOREIGN_TAG.finditer(line)]
    for m in MARKDOWN_NAME.finditer(line):
        name = m.group(1)
        if 0 < m.start() and m.end() < len(line) and line[m.start() - 1] in "\"'" and line[m.end()] in "\"'":
            continue  # a string literal naming a generated file ("scorecard.md")
        if OUTSIDE_DOCUMENTS.search(name):
            continue  # reported above
        if name not in paths and ("/" in name or name not in names):
            found.append(f"file not in the repository {name!r}")
    for m in REPO_PATH.finditer(line):
        path = m.group(1)
        if path not in paths and path not in dirs:
            found.append(f"path not in the repository {path!r}")
    return found


def test_no_reference_points_outside_the_repository():
    files = tracked_files()
    paths = set(files)
    dirs = {str(Path(p).parents[i].as_posix()) for p in files for i in range(len(Path(p).parents) - 1)}
    names = {Path(p).name for p in files}
    report = []
    for rel in files:
        if rel == SELF:
            continue
        text = text_of(ROOT / rel)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            report += [f"{rel}:{number}: {p}" for p in problems_in_line(line, paths, dirs, names)]
    if report:
        pytest.fail(f"{len(report)} references point outside the repository (cite the primary source, "
                    "see docs/sources.md):\n" + "\n".join(report), pytrace=False)


def test_the_patterns_tell_citations_from_pointers():
    files = set(tracked_files())
    dirs = {"replication", "tests", "docs"}
    names = {Path(p).name for p in files}

    def flagged(line: str) -> bool:
        return bool(problems_in_line(line, files, dirs, names))

    for good in ["WGAN Section 4.2 and Figure 3 [P]", "WGAN-GP Appendix B [P], gan_cifar.py [C]",
                 "WAE Section 4 [P]; tolstikhin/wae wae.py [C]", "WGAN-GP Sections 3-4",
                 "Conv2d(k5, s2, p2)", "k4 s2 SAME", "deconv s1 -> sigmoid", "frechet_distance(s1, s2)",
                 "dvc remote add s3://bucket/x", "main.py Diters rule [C]", "see README.md",
                 "docs/sources.md", "Salimans et al. 2016, Section 3"]:
        assert not flagged(good), good
    for bad in ["(WGAN_" "WGANGP.md s6.2)", "see ../sha" "red/spec", "EXPERIMENT_" "DONE s2", "\u00a71.8",
                "(s5)", "WGAN s2.1", "s11 gap 3", "s9 item 7", "section 2.0", "(section 1.4)",
                "s6.1 and s10", "wgan_imagenet32_stab.py [R]", "[A #33]", "[INF]", "[PAPER-R s2.6]",
                "[C, A #17]", "NOTES.md", "docs/missing.md", "replication/nowhere.py"]:
        assert flagged(bad), bad


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports (at the top or inside a function)."""
    import ast

    modules = {".".join(p.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in root.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base] * bool(base))
                subs = {f"{base}.{a.name}" for a in node.names} & set(modules)
                found |= subs | ({base} if len(subs) < len(node.names) else set())
        graph[name] = {d for d in found if d in modules and d != name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, cycles = {}, {}, [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_no_import_circle():
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]  # the check can fail
    cycles = import_cycles(import_graph(ROOT / "replication"))
    assert not cycles, f"import circles (a function-level import counts too): {cycles}"
