"""The zoo's error types: a user's mistake versus a bug.

A `UserError` is something the person running the zoo can fix (a bad flag or hyper-parameter, a
missing or corrupt dataset, a wrong path or preset): the command line prints its message in one
line and exits with code 2. Any other exception is a bug in the zoo (or in a library it calls) and
keeps its traceback (exit code 1).

The subclasses keep the built-in types callers already catch: every `UserError` is a `ValueError`,
and `DataNotFound` is also a `FileNotFoundError`.

Code below the recipes (`zoo.data`, `zoo.models`, `zoo.layers`, `zoo.metrics`, `zoo.squad`) does not
know about the command line: it names the *argument* at fault, and each front end says it in its
own words.

    >>> error = DataNotFound("no such file", param="vectors", value="glove.txt")
    >>> str(error)  # what Python code sees
    'vectors=glove.txt: no such file'
    >>> command_line_message(error)  # what `python -m zoo.run` prints
    '--set vectors=glove.txt: no such file'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class _Unknown:
    """The value of an argument an error names without knowing what it was set to."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


class UserError(ValueError):
    """A mistake in what the user asked for: a flag, a hyper-parameter value, a path or a preset.

    Args:
        message: what is wrong and what to do, without the argument's name (added from `param`).
        param: the argument (hyper-parameter) at fault, e.g. `"vectors"`, if one is.
        value: the value it had, when the raiser knows it.
        params: instead of `param`/`value`, several arguments at fault together (a check of two
            hyper-parameters): `{"folds": 1, "fold": 0}`; a value may be `UNKNOWN`.

    `str(error)` is `"vectors=glove.txt: no such file"` (or `"vectors: ..."` without a value);
    `error.message` is the message alone and `error.params` the arguments with their values.
    """

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        value: Any = UNKNOWN,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.params: dict[str, Any] = dict(params or {})
        if param is not None:
            self.params = {param: value, **self.params}

    @property
    def param(self) -> str | None:
        """The (first) argument at fault, or `None`."""
        return next(iter(self.params), None)

    def __str__(self) -> str:
        if not self.params:
            return self.message
        names = ", ".join(name if value is UNKNOWN else f"{name}={value}" for name, value in self.params.items())
        return f"{names}: {self.message}"

    def __reduce__(self):  # keep param/value through pickling (multiprocessing, worker processes)
        return (_rebuild, (type(self), self.message, self.params))


def _rebuild(cls: type[UserError], message: str, params: dict[str, Any]) -> UserError:
    return cls(message, params=params)


class DataNotFound(UserError, FileNotFoundError):
    """A dataset, file or folder the run needs is not there (and could not be downloaded)."""


class CorruptData(UserError):
    """A file is there but unusable: wrong checksum, unreadable archive, wrong encoding or format."""


def command_line_message(error: UserError, typed: Mapping[str, Any] | None = None) -> str:
    """`error` in the command line's words: the arguments at fault as the `--set KEY=VALUE` to change.

    `typed` holds what the user passed (`{"vectors": "glove.txt"}`); it supplies a value the error
    does not carry. An argument the user did not set is shown as `--set KEY`.
    """
    if not error.params:
        return str(error)
    typed = typed or {}
    flags = []
    for name, value in error.params.items():
        if value is UNKNOWN:
            value = typed.get(name, UNKNOWN)
        flags.append(f"--set {name}" if value is UNKNOWN else f"--set {name}={value}")
    return f"{' '.join(flags)}: {error.message}"


class DiskFull(UserError):
    """The disk (or the user's quota) is full: the run stops in one line and resumes once space is freed."""
