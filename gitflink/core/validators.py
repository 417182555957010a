"""Custom validators: callables that look at all desired resources and return problems.

Loading them from the `gitflink.validators` entry point group happens in the runtime
(gitflink.runtime.validator_loading); here they are only run, and a failing one is a problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from gitflink.model.problems import Problem

if TYPE_CHECKING:
    from gitflink.core.parsing import Desired

ENTRY_POINT_GROUP = "gitflink.validators"

Validator = Callable[[Sequence["Desired"]], Iterable[Problem]]


def validator_name(validator: Validator) -> str:
    module = getattr(validator, "__module__", None) or ""
    name = getattr(validator, "__qualname__", None) or type(validator).__name__
    return f"{module}.{name}" if module else name


def run_validators(validators: Sequence[Validator], desired: Sequence[Desired]) -> list[Problem]:
    """Every validator's problems; one that raises or returns junk becomes an error itself."""
    problems: list[Problem] = []
    for validator in validators:
        where = f"validator {validator_name(validator)}"
        try:
            found = list(validator(desired))
        except Exception as exc:
            message = f"raised {type(exc).__name__}: {exc}"
            problems.append(Problem(where, 0, 0, "", message))
            continue
        for item in found:
            if isinstance(item, Problem):
                problems.append(item)
            else:
                message = f"returned {type(item).__name__} instead of a Problem"
                problems.append(Problem(where, 0, 0, "", message))
    return problems
