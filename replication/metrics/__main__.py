"""``python -m replication.metrics fetch-inception [DATA_ROOT]``: an alias of
``replicate fetch inception-weights --root DATA_ROOT`` (the command the errors name), which
also writes the data root's manifest."""

import sys

from replication.errors import ReplicationError
from replication.metrics.inception import fetch_inception_weights

if len(sys.argv) not in (2, 3) or sys.argv[1] != "fetch-inception":
    sys.exit("usage: python -m replication.metrics fetch-inception [DATA_ROOT]")
try:
    print(fetch_inception_weights(sys.argv[2] if len(sys.argv) == 3 else None))
except ReplicationError as err:
    sys.exit(str(err))
