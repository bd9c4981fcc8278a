"""The zoo's error types: a user's mistake versus a bug.

A `UserError` is something the person running the zoo can fix (a bad flag or hyper-parameter, a
missing or corrupt dataset, a wrong path or preset): the command line prints its message in one
line and exits with code 2. Any other exception is a bug in the zoo (or in a library it calls) and
keeps its traceback (exit code 1).

The subclasses keep the built-in types callers already catch: every `UserError` is a `ValueError`,
and `DataNotFound` is also a `FileNotFoundError`.
"""

from __future__ import annotations


class UserError(ValueError):
    """A mistake in what the user asked for: a flag, a hyper-parameter value, a path or a preset."""


class DataNotFound(UserError, FileNotFoundError):
    """A dataset, file or folder the run needs is not there (and could not be downloaded)."""


class CorruptData(UserError):
    """A file is there but unusable: wrong checksum, unreadable archive, wrong encoding or format."""
