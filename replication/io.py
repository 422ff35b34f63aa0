"""Atomic file output: a reader never sees a half-written file, a killed job leaves none.
Reading: files others hand us (checkpoints, packed data, dataset pickles, arrays) are loaded as
data, never as code (``load_torch``, ``load_pickle_data``, ``load_arrays``)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from replication.errors import ReplicationError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ReplicationError(f"missing file {path}: rebuild it with snakemake") from None
    except json.JSONDecodeError as err:
        raise ReplicationError(f"corrupt JSON in {path} ({err}); delete it and rebuild") from None


def write_frame(path: str | os.PathLike, frame) -> None:
    """Write a pandas DataFrame as CSV atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def save_torch(path: str | os.PathLike, obj: Any) -> None:
    """Through a buffer: torch.save names the zip's top folder after the file, so saving to a
    random temporary name would make identical checkpoints differ byte for byte."""
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


CONVERT_COMMAND = "replicate convert-checkpoints"


def load_torch(path: str | os.PathLike, map_location="cpu", mmap: bool = False) -> Any:
    """Load a torch file as data: ``weights_only=True`` rebuilds only tensors, primitive types and
    plain containers and refuses every other global, so a file pulled from a shared remote cannot
    run code (https://pytorch.org/docs/stable/notes/serialization.html#weights-only). A refused,
    truncated or foreign file is one clear error, not a traceback."""
    path = Path(path)
    if not path.exists():
        raise ReplicationError(f"missing checkpoint {path}")
    if not zipfile.is_zipfile(path):  # torch.save has written zips since 1.6; never try the legacy pickle reader
        raise ReplicationError(f"unreadable checkpoint {path} (not a torch.save zip file); delete it to restart "
                               "that run")
    try:
        return torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as err:  # what the weights-only unpickler raises for any other global
        raise ReplicationError(
            f"refused {path}: it holds more than tensors and plain containers ({error_line(err)}); delete it, or "
            f"if it is a checkpoint.pt written before weights-only loading, convert it: `{CONVERT_COMMAND} {path}`"
        ) from None
    except Exception as err:  # torch raises several types for truncated zips and pickles
        raise ReplicationError(
            f"unreadable checkpoint {path} ({type(err).__name__}: {error_line(err)}); "
            "delete it to restart that run") from None


def error_line(err: Exception) -> str:
    """One line of an exception's message; of torch's multi-line weights-only refusal, the line
    that says what was refused."""
    text = str(err).strip()
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1].strip()
        text = text.split(" was not an allowed global")[0].split(". Please")[0]
    return text.splitlines()[0] if text else ""


@contextlib.contextmanager
def weights_only_loads() -> Iterator[None]:
    """Within it every ``torch.load`` is weights-only, even where a library passes
    ``weights_only=False`` (torch-fidelity's Inception extractor does): PyTorch's
    TORCH_FORCE_WEIGHTS_ONLY_LOAD (https://pytorch.org/docs/stable/miscellaneous_environment_variables.html)."""
    saved = {name: os.environ.pop(name, None)
             for name in ("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")}
    os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


# What the data sets' pickles hold besides builtin containers and scalars: numpy arrays and
# scalars, as numpy's __reduce__ writes them (_reconstruct + dtype, protocol 5: _frombuffer;
# scalar; numpy 1 and 2 module names), and _codecs.encode, which protocol-2 pickles written by
# Python 3 use for bytes.
_DATA_PICKLE_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
})


class _DataUnpickler(pickle.Unpickler):
    """Unpickles containers and numpy arrays only: every other global is refused before it is
    looked up (https://docs.python.org/3/library/pickle.html#restricting-globals)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _DATA_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not a container or numpy array")


def load_pickle_data(path: str | os.PathLike, encoding: str = "latin1") -> Any:
    """A data set's pickle (CIFAR-10, downsampled ImageNet) read as data; ``latin1`` reads the
    Python 2 pickles, as torchvision's CIFAR10 does."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            return _DataUnpickler(handle, encoding=encoding).load()
    except FileNotFoundError:
        raise ReplicationError(f"missing file {path}") from None
    except pickle.UnpicklingError as err:
        raise ReplicationError(f"refused {path}: {err}; delete it and fetch the data set again") from None
    except Exception as err:  # truncated pickles raise EOFError, ValueError, ...
        raise ReplicationError(f"unreadable pickle {path} ({type(err).__name__}: {err}); delete it and fetch "
                               "the data set again") from None


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """An ``.npz`` file's arrays, read whole; ``allow_pickle=False``, so an object array (a pickle)
    is refused (https://numpy.org/doc/stable/reference/generated/numpy.load.html)."""
    path = Path(path)
    if not path.is_file():
        raise ReplicationError(f"missing file {path}: rebuild it with snakemake")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return {name: arrays[name] for name in arrays.files}
    except Exception as err:  # ValueError for pickled data; BadZipFile, OSError, ... for foreign files
        raise ReplicationError(f"refused {path} ({type(err).__name__}: {error_line(err)}); "
                               "delete it and rebuild it with snakemake") from None


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
