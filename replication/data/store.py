"""The data root on disk: obtaining raw files, verifying them, packing them once, and
reading the packs back.

Layout of ``<root>/<name>/``::

    raw/                   files as distributed (or unpacked from the distributed archive)
    checksums.lock.json    SHA-256 recorded at first fetch for raw items without a published sum
    packed/<part>.pt       one torch file per part: {"images": uint8 N×C×H×W, "labels": int64 N
                           or None} or {"lines": [str, ...]}
    manifest.json          written last: packed files with SHA-256, sizes and counts; its
                           presence means "fetched and packed" (the Snakemake target)

Kind ``files`` (``inception-weights``) keeps its files directly in ``<root>/<name>/``, is not
packed, and is fetched and verified by the spec's own ``fetch_files``.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import itertools
import os
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from torchvision.datasets.utils import calculate_md5, download_url, extract_archive
from tqdm import tqdm

from replication.data.registry import DatasetSpec, RawItem, get_spec
from replication.errors import ReplicationError
from replication.io import atomic_path, load_torch, read_json, save_torch, sha256_file, write_json

MANIFEST_FORMAT = 1
LOCK_NOTE = ("lock file: SHA-256 recorded at first fetch for sources that publish no checksum; "
             "it detects later change, not a bad first download")


def data_root(root: str | os.PathLike | None = None) -> Path:
    """``root`` if given, else $REPLICATION_DATA, else ``data/`` in the repository."""
    if root is None:
        root = os.environ.get("REPLICATION_DATA") or Path(__file__).resolve().parents[2] / "data"
    return Path(root).expanduser()


def fetch_command(name: str, root: str | os.PathLike | None) -> str:
    # $REPLICATION_DATA named too: `replicate --data-root` sets it for this process, not the user's shell
    root = root if root is not None else os.environ.get("REPLICATION_DATA") or None
    return f"replicate fetch {name}" + (f" --root {root}" if root is not None else "")


# --- fetch --------------------------------------------------------------------------------

def fetch(name: str, root: str | os.PathLike | None = None, *, limit: int | None = None,
          workers: int = 1) -> Path:
    """Obtain, verify and pack data set ``name``; return its manifest path. Idempotent: a
    manifest that verifies (same limit, packed files intact) means there is nothing to do.

    ``limit`` keeps at most that many items per packed part (LSUN has 3M images; a
    smaller pack is labelled by its limit in the manifest). ``workers`` processes decode
    images for CelebA and LSUN."""
    spec = get_spec(name)
    home = data_root(root) / name
    if spec.fetch_files is not None:
        return _fetch_files(spec, home, root)
    limit = limit if limit is not None else spec.default_limit
    manifest_path = home / "manifest.json"
    if _manifest_ok(home, manifest_path, limit):
        return manifest_path
    manifest_path.unlink(missing_ok=True)  # from here on the old packs are not trusted

    raw = home / "raw"
    _obtain(spec, raw, root)
    checks = verify_raw(spec, home, root)
    parts = {}
    if spec.pack is not None:
        for part, stream in spec.pack(raw, workers).items():
            target = home / "packed" / f"{part}.pt"
            count = (_write_lines if spec.kind == "text" else _write_images)(target, stream, limit, f"{name}/{part}")
            parts[part] = {"file": f"packed/{part}.pt", "sha256": sha256_file(target),
                           "bytes": target.stat().st_size, "count": count}
    write_json(manifest_path, {
        "dataset": name, "format": MANIFEST_FORMAT, "summary": spec.summary, "limit": limit,
        "raw": checks, "parts": parts,
        "splits": {split: _split_size(recipe, parts) for split, recipe in spec.splits.items()} if parts else {},
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    })
    return manifest_path


def _fetch_files(spec: DatasetSpec, home: Path, root) -> Path:
    """Kind ``files`` (the Inception weights): the spec's fetcher downloads and verifies the
    files on every call (a verified copy means no network); the manifest records the checks
    and is rewritten only when they change."""
    checks = spec.fetch_files(data_root(root))
    manifest_path = home / "manifest.json"
    try:
        old = read_json(manifest_path)
    except ReplicationError:
        old = {}
    if old.get("format") != MANIFEST_FORMAT or old.get("raw") != checks:
        write_json(manifest_path, {
            "dataset": spec.name, "format": MANIFEST_FORMAT, "summary": spec.summary, "limit": None,
            "raw": checks, "parts": {}, "splits": {},
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        })
    return manifest_path


def _manifest_ok(home: Path, manifest_path: Path, limit: int | None) -> bool:
    try:
        manifest = read_json(manifest_path)
    except ReplicationError:  # missing or corrupt: fetch again
        return False
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("limit") != limit:
        return False
    return all(_part_ok(home / info["file"], info) for info in manifest.get("parts", {}).values())


def _part_ok(path: Path, info: dict) -> bool:
    return path.is_file() and path.stat().st_size == info["bytes"] and sha256_file(path) == info["sha256"]


# --- obtaining raw files ------------------------------------------------------------------

def _missing(spec: DatasetSpec, raw: Path) -> list[RawItem]:
    return [item for item in spec.raw if not (raw / item.path).exists()]


def _obtain(spec: DatasetSpec, raw: Path, root) -> None:
    """Fill in missing raw items: local package copy, then archives, then direct downloads."""
    if _missing(spec, raw) and spec.copy_local is not None:
        spec.copy_local(raw)
    for archive in spec.archives:
        if not (raw / archive.provides).exists():
            _fetch_archive(spec, archive, raw, root)
    for item in _missing(spec, raw):
        if item.urls:
            _download(spec, item.urls, raw, Path(item.path).name, item.md5, root)
    if missing := _missing(spec, raw):
        shown = ", ".join(str(raw / item.path) for item in missing[:2])
        more = f" and {len(missing) - 2} more" if len(missing) > 2 else ""
        raise ReplicationError(
            f"{spec.name}: missing {shown}{more}; {spec.manual}; "
            f"then run `{fetch_command(spec.name, root)}`")


def _fetch_archive(spec: DatasetSpec, archive, raw: Path, root) -> None:
    """Unpack an archive the user placed in raw/ (kept), or one downloaded to a temp dir."""
    placed = raw / archive.filename
    if placed.exists():
        if archive.md5 is not None and calculate_md5(placed) != archive.md5:
            raise _md5_mismatch(spec, placed, archive.md5, root)
        extract_archive(str(placed), str(raw))
        return
    raw.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=raw, prefix=".download-") as tmp:
        path = _download(spec, (archive.url,), Path(tmp), archive.filename, archive.md5, root)
        extract_archive(str(path), str(raw))


def _download(spec: DatasetSpec, urls: Iterable[str], folder: Path, filename: str, md5: str | None, root) -> Path:
    """torchvision's download_url (it also follows Google Drive links), into a temp file
    renamed into place once its MD5 checks, so an interrupted download leaves nothing."""
    errors = []
    for url in urls:
        try:
            with atomic_path(folder / filename) as tmp:
                tmp.unlink()  # download_url skips a file that exists when md5 is None
                download_url(url, str(tmp.parent), tmp.name, md5)  # raises on an MD5 mismatch
            return folder / filename
        except Exception as err:  # any network or HTTP failure: report it, try the next mirror
            errors.append(f"{url} ({type(err).__name__}: {err})")
    raise ReplicationError(
        f"{spec.name}: could not download {'; '.join(errors)}. Put {filename} into "
        f"{data_root(root) / spec.name / 'raw'} by hand ({spec.manual}), then run `{fetch_command(spec.name, root)}`")


# --- checksums ----------------------------------------------------------------------------

def verify_raw(spec: DatasetSpec, home: Path, root=None) -> dict[str, dict]:
    """Check every raw item; return {path: {"check": kind, "digest": value}} for the manifest.

    Kinds: ``published-md5`` (torchvision's constant for the file as distributed),
    ``content-md5`` (the gunzipped bytes, for a recompressed copy such as Debian's), and
    ``lock-sha256`` (recorded at first fetch in checksums.lock.json)."""
    lock_path = home / "checksums.lock.json"
    lock = read_json(lock_path) if lock_path.exists() else {"note": LOCK_NOTE, "items": {}}
    checks, recorded = {}, False
    for item in spec.raw:
        path = home / "raw" / item.path
        if item.md5 is not None:
            checks[item.path] = _check_published(spec, item, path, root)
            continue
        digest = tree_sha256(path)
        locked = lock["items"].get(item.path)
        if locked is None:
            lock["items"][item.path] = {"sha256": digest, "recorded": datetime.date.today().isoformat()}
            recorded = True
        elif locked["sha256"] != digest:
            raise ReplicationError(
                f"{path} changed since its checksum was recorded on {locked['recorded']} in {lock_path}: "
                f"restore the original files, or delete {lock_path} to accept the new ones, "
                f"then run `{fetch_command(spec.name, root)}`")
        checks[item.path] = {"check": "lock-sha256", "digest": digest}
    if recorded:
        write_json(lock_path, lock)
    return checks


def _check_published(spec: DatasetSpec, item: RawItem, path: Path, root) -> dict:
    if calculate_md5(path) == item.md5:
        return {"check": "published-md5", "digest": item.md5}
    if item.content_md5 is not None and _gunzip_md5(path) == item.content_md5:
        return {"check": "content-md5", "digest": item.content_md5}
    raise _md5_mismatch(spec, path, item.md5, root)


def _md5_mismatch(spec: DatasetSpec, path: Path, md5: str, root) -> ReplicationError:
    return ReplicationError(
        f"checksum mismatch: {path} does not have the published MD5 {md5}; "
        f"delete it and run `{fetch_command(spec.name, root)}` to get it again")


def _gunzip_md5(path: Path) -> str | None:
    digest = hashlib.md5()
    try:
        with gzip.open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    except (OSError, EOFError):
        return None
    return digest.hexdigest()


def tree_sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder's sorted "relative path  file SHA-256" lines."""
    if path.is_file():
        return sha256_file(path)
    lines = (f"{file.relative_to(path).as_posix()}  {sha256_file(file)}\n"
             for file in sorted(p for p in path.rglob("*") if p.is_file()))
    return hashlib.sha256("".join(lines).encode()).hexdigest()


# --- the pack writer ----------------------------------------------------------------------

def _write_images(target: Path, chunks: Iterable, limit: int | None, label: str) -> int:
    """Stream (images, labels) chunks to a raw buffer file, then save it as one .pt. The
    buffer is memory-mapped for torch.save, so a pack larger than RAM can be written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    labels, count, shape = [], 0, None
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".buffer-") as buffer, \
            tqdm(desc=f"packing {label}", unit="img", total=limit) as progress:
        for data, chunk_labels in chunks:
            data = data[: None if limit is None else limit - count]
            shape = data.shape[1:]
            buffer.write(np.ascontiguousarray(data, dtype=np.uint8).tobytes())
            labels.append(None if chunk_labels is None else chunk_labels[: len(data)])
            count += len(data)
            progress.update(len(data))
            if limit is not None and count >= limit:
                break
        buffer.flush()
        if count == 0:
            raise ReplicationError(f"{label}: the raw files hold no images")
        images = torch.from_numpy(np.memmap(buffer.name, np.uint8, "c", shape=(count, *shape)))
        has_labels = all(x is not None for x in labels)
        save_torch(target, {"images": images,
                            "labels": torch.from_numpy(np.concatenate(labels)) if has_labels else None})
    return count


def _write_lines(target: Path, lines: Iterable[str], limit: int | None, label: str) -> int:
    kept = list(tqdm(itertools.islice(lines, limit), desc=f"packing {label}", unit="line", total=limit))
    save_torch(target, {"lines": kept})
    return len(kept)


# --- reading packs ------------------------------------------------------------------------

def read_manifest(name: str, root) -> tuple[DatasetSpec, Path, dict]:
    spec = get_spec(name)
    home = data_root(root) / name
    if not (home / "manifest.json").exists():
        manual = "" if not needs_manual_download(spec) else f" (after the manual download: {spec.manual})"
        raise ReplicationError(f"dataset {name} is not prepared in {home}: run "
                               f"`{fetch_command(name, root)}`{manual}")
    return spec, home, read_json(home / "manifest.json")


def needs_manual_download(spec: DatasetSpec) -> bool:
    """Whether a person must fetch the raw files first (declared, or no automatic source)."""
    return spec.manual_download or (not spec.archives and spec.copy_local is None
                                    and not all(item.urls for item in spec.raw))


def read_split(name: str, split: str, root) -> tuple[DatasetSpec, dict]:
    """The split's data: {"images", "labels"} or {"lines"}, after checking each packed part."""
    spec, home, manifest = read_manifest(name, root)
    if split not in spec.splits:
        raise ReplicationError(f"{name} has no split {split!r}; splits: {', '.join(spec.splits)}")
    recipe = spec.splits[split]
    parts = []
    for part in recipe.parts:
        info = manifest["parts"].get(part)
        path = home / "packed" / f"{part}.pt"
        if info is None or not _part_ok(path, info):
            raise ReplicationError(f"packed file {path} is missing or corrupt: run "
                                   f"`{fetch_command(name, root)}` to rebuild it")
        parts.append(load_torch(path, mmap=True))
    index = _split_index(recipe, {p: manifest["parts"][p] for p in recipe.parts})
    return spec, {key: _gather([p[key] for p in parts], index) for key in parts[0]}


def _split_index(recipe, parts: dict[str, dict]) -> np.ndarray | None:
    """Indices into the concatenated parts; None means "all, in order" (no copy)."""
    total = sum(parts[p]["count"] for p in recipe.parts)
    if recipe.order is None and recipe.keep == slice(None):
        return None if len(recipe.parts) == 1 else np.arange(total)
    order = np.arange(total) if recipe.order is None else np.asarray(recipe.order(total))
    return order[recipe.keep]


def _split_size(recipe, parts: dict[str, dict]) -> int:
    index = _split_index(recipe, parts)
    return parts[recipe.parts[0]]["count"] if index is None else len(index)


def _gather(pieces: list, index: np.ndarray | None):
    """Rows ``index`` of the concatenation of ``pieces`` (tensors or lists) without first
    building the concatenation: a CelebA split never holds two copies in memory."""
    if pieces[0] is None:
        return None
    if index is None:
        return pieces[0]
    if isinstance(pieces[0], list):
        every = [item for piece in pieces for item in piece]
        return [every[i] for i in index]
    out = torch.empty((len(index), *pieces[0].shape[1:]), dtype=pieces[0].dtype)
    index = torch.from_numpy(np.asarray(index, dtype=np.int64))
    start = 0
    for piece in pieces:
        inside = (index >= start) & (index < start + len(piece))
        out[inside] = piece[index[inside] - start]
        start += len(piece)
    return out


# --- describe -----------------------------------------------------------------------------

def describe(name: str, root: str | os.PathLike | None = None) -> str:
    """Where the raw files go, how they are checked, and how to get them."""
    spec = get_spec(name)
    raw = data_root(root) / name / ("" if spec.kind == "files" else "raw")
    lines = [f"{name}: {spec.summary}", f"{'files' if spec.kind == 'files' else 'raw files'} under {raw}/:"]
    for item in spec.raw:
        check = (f"published MD5 {item.md5} (torchvision)" if item.md5 else
                 f"pinned SHA-256 {item.sha256}" if item.sha256 else
                 "SHA-256 lock file (no published sum)")
        lines.append(f"  {item.path}  [{check}]")
    sources = [a.url for a in spec.archives] + [u for item in spec.raw for u in item.urls[:1]]
    if spec.copy_local is not None:
        lines.append("automatic: copied from the installed Debian package when present")
    if sources:
        lines.append("automatic download: " + ", ".join(sources))
    lines.append(f"manual: {spec.manual}")
    lines.append(f"then: {fetch_command(name, root)}")
    if spec.splits:
        lines.append("splits: " + "; ".join(f"{s}" + (f" ({r.note})" if r.note else "") for s, r in spec.splits.items()))
    return "\n".join(lines)
