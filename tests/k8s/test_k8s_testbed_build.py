"""The test bed's build: without Go it stops with a message that says what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from k8s_testbed.build import GoMissingError, find_go


def test_without_go_the_test_bed_build_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(GoMissingError, match="Go is not installed or not on PATH"):
        find_go(search_path=str(tmp_path))


def test_go_is_found_where_this_machine_has_it() -> None:
    assert Path(find_go()).name == "go"
