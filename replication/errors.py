"""The one exception type users see: a single line naming the problem and the fix."""


class ReplicationError(Exception):
    """A problem the user can fix (bad config, missing data, corrupt file).

    The CLI prints ``str(err)`` as one line and exits non-zero, never a traceback.
    """
