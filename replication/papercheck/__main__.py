"""The paper-shape check's child processes (its driver, replication.papercheck.check, starts them;
the driver itself imports no torch, so a child's peak memory is its own):

    python -m replication.papercheck job RESULTS -- ARGS   one job: installs the random-weight Inception
                                                           stand-in, marks the results root RESULTS, runs
                                                           `replicate ARGS`
    python -m replication.papercheck data ROOT NAME...     the fixture data sets, written and packed
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "job" and argv[2] == "--":
        from replication.cli import main as replicate
        from replication.papercheck.standin import install

        install(Path(argv[1]))
        return replicate(argv[3:])
    if len(argv) >= 2 and argv[0] == "data":
        from replication.papercheck.check import prepare_data

        prepare_data(Path(argv[1]), argv[2:])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
