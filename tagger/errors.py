"""The project's own error types: problems with a user's input, data, config or model files.

Command-line bodies catch ``TaggerError`` (one ``error: ...`` line, exit 1) and nothing broader,
so that a bug keeps its traceback while a user's mistake stays one line.
"""

from __future__ import annotations


class TaggerError(Exception):
    """A problem the user can fix (bad input, data, config or model files)."""


class UsageError(TaggerError, ValueError):
    """A call the library cannot honour as asked: an unknown task, malformed tokens, bad
    column names. Also a ``ValueError``, as such mistakes are in Python."""
