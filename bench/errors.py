"""The one exception type the CLI turns into a single clear error line."""


class BenchError(Exception):
    """A user-facing error: bad input, a bad file, a refused action.

    The CLI prints ``error: <message>`` and exits non-zero, without a traceback.
    """
