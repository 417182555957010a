"""Every manifest under tests/invalid/ yields exactly the problems its `# expect:` lines name.

Header format: `# expect: LINE:COLUMN FIELD: MESSAGE-PREFIX` (or `LINE:COLUMN MESSAGE-PREFIX`
for problems of no field, like YAML syntax errors). Every error must be expected.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gitflink.core.parsing import parse_files
from gitflink.core.validation import validate
from gitflink.model.problems import Problem

CORPUS = Path(__file__).parent.parent / "invalid"
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (.+)$", re.MULTILINE)
CASES = sorted(CORPUS.glob("*.yaml"))


def problems_of(path: Path) -> list[Problem]:
    name = f"invalid/{path.name}"
    parsed = parse_files({name: path.read_bytes()})
    return [*parsed.problems, *validate(parsed.desired, broken=parsed.broken)]


def rendered(problem: Problem) -> str:
    return f"{problem.field}: {problem.message}" if problem.field else problem.message


def test_the_corpus_has_at_least_thirty_invalid_manifests() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_invalid_manifest_reports_the_expected_problem_at_the_expected_line(path: Path) -> None:
    expected = [(int(row), int(col), text) for row, col, text in EXPECT.findall(path.read_text())]
    assert expected, f"{path.name} has no '# expect:' line"
    problems = problems_of(path)
    errors = [p for p in problems if p.is_error]

    for line, column, text in expected:
        matching = [
            p
            for p in problems
            if (p.line, p.column) == (line, column) and rendered(p).startswith(text)
        ]
        assert matching, f"expected {line}:{column} {text!r}; got:\n" + "\n".join(
            map(str, problems)
        )
    unexpected = [
        p
        for p in errors
        if not any(
            (p.line, p.column) == (line, column) and rendered(p).startswith(text)
            for line, column, text in expected
        )
    ]
    assert not unexpected, "unexpected errors:\n" + "\n".join(map(str, unexpected))
    assert all(str(p).startswith(f"invalid/{path.name}:") for p in problems)
