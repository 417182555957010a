"""`--runtime` / GITFLINK_RUNTIME picks where sync and agent run clusters."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from gitflink.cli import main


def test_the_kubernetes_runtime_without_credentials_is_a_clear_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--runtime kubernetes` is chosen by sync (and agent): without a kubeconfig it says so."""
    repo = tmp_path / "repo"
    git.Repo.init(repo).index.commit("empty")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    argv = ["sync", "--repo", str(repo), "--runtime", "kubernetes", "--data-dir", str(tmp_path)]
    assert main(argv) == 1
    assert "no Kubernetes credentials for --runtime kubernetes" in capsys.readouterr().err
