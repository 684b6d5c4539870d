"""Input errors: one Problem per thing wrong in an input file, with where it is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Problem", "ScenarioError"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a scenario file, with where it is."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        path = self.path or "(top level)"
        return f"{where}: {path}: {self.message}" if where else f"{path}: {self.message}"


class ScenarioError(Exception):
    """One or more problems found in a scenario file."""

    def __init__(self, problems: Iterable[Problem], file: str | None = None) -> None:
        self.problems: list[Problem] = list(problems)
        if file is None:
            file = self.problems[0].file if self.problems else "<scenario>"
        self.file: str = file
        super().__init__(self.problems)

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[list[Problem], str]]:
        return (type(self), (self.problems, self.file))

    def __str__(self) -> str:
        n = len(self.problems)
        header = f"{n} problem{'' if n == 1 else 's'} in {self.file}:"
        return "\n".join([header, *(str(p) for p in self.problems)])
