"""Where a problem is (`SourceLocation`), what it is (`Problem`), and a collector
that keeps going so a curator sees every problem of a build at once."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO


@dataclass(frozen=True, order=True)
class SourceLocation:
    path: str  # relative to the site root, with forward slashes
    line: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, order=True)
class Problem:
    location: SourceLocation
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.location}: {prefix}{self.message.translate(_ONE_LINE)}"


# Characters that would break a problem over two lines (str.splitlines() splits on all of them).
_ONE_LINE = {ord(ch): f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
             for ch in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


class SiteError(Exception):
    """Raised when a build cannot go on; carries every problem found so far."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):  # from a worker process to the build, problems and all
        return SiteError, (self.problems,)


@dataclass
class Problems:
    """Collects errors and warnings; stages add to it and keep going."""

    items: list[Problem] = field(default_factory=list)

    def error(self, location: SourceLocation, message: str) -> None:
        self.items.append(Problem(location, message, "error"))

    def warning(self, location: SourceLocation, message: str) -> None:
        self.items.append(Problem(location, message, "warning"))

    def extend(self, problems: list[Problem]) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return sorted(p for p in self.items if p.severity == "error")

    @property
    def warnings(self) -> list[Problem]:
        return sorted(p for p in self.items if p.severity == "warning")

    def raise_if_errors(self, strict: bool = False) -> None:
        """Raise with every problem: the failing ones as errors, the other warnings kept."""
        failing = self.items if strict else self.errors
        if failing:
            raise SiteError([Problem(p.location, p.message, "error") for p in failing]
                            + ([] if strict else self.warnings))

    def print(self, stream: TextIO = sys.stderr) -> None:
        for problem in sorted(self.items):
            print(problem, file=stream)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """A ' (did you mean "x"?)' suffix for the closest choice, or ''."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def described(value: object) -> str:
    """What a YAML value is, for "must be …, not …" messages: "a list", not Python's ['x']."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping (key: value)"
    if isinstance(value, list):
        return "a list"
    return repr(value) if isinstance(value, str) else str(value)
