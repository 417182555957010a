"""Cleaning earlier JobResultStores (FLINK-27569's workaround): siblings of the new start's
path go, the newest stays; paths not laid out by gitflink and remote schemes are left alone."""

from __future__ import annotations

from pathlib import Path

from gitflink.adapters.kubernetes_runtime.job_results import remove_earlier, storage_path
from gitflink.model.ids import Kind, ResourceId

APP = ResourceId(Kind.FLINK_DEPLOYMENT, "ns", "orders")


def starts(root: Path, *names: str) -> Path:
    base = root / "job-result-store" / "orders"
    for name in names:
        (base / name).mkdir(parents=True)
        (base / name / "entry.json").write_text("{}")
    return base


def test_earlier_starts_are_removed_and_the_newest_kept(tmp_path: Path) -> None:
    base = starts(tmp_path, "a" * 32, "b" * 32, "session")
    removed = remove_earlier(APP, f"file://{base}/{'c' * 32}")
    assert removed == sorted(str(base / n) for n in ("a" * 32, "b" * 32, "session"))
    assert list(base.iterdir()) == []
    starts(tmp_path, "d" * 32)
    assert remove_earlier(APP, str(base / ("d" * 32))) == []  # the newest is never removed
    assert [p.name for p in base.iterdir()] == ["d" * 32]


def test_paths_gitflink_did_not_lay_out_and_remote_storage_are_left_alone(tmp_path: Path) -> None:
    mine = tmp_path / "custom" / "orders"
    (mine / "old").mkdir(parents=True)
    assert remove_earlier(APP, f"file://{mine}/new") == []
    assert remove_earlier(APP, "s3://bucket/ha/job-result-store/orders/new") == []
    assert (mine / "old").is_dir()


def test_the_storage_path_is_read_from_the_rendered_configuration() -> None:
    config_map = {
        "kind": "ConfigMap",
        "data": {"config.yaml": 'job-result-store.storage-path: "file:///ha/jrs/orders/x"\n'},
    }
    assert storage_path([{"kind": "Deployment"}, config_map]) == "file:///ha/jrs/orders/x"
    legacy = {"kind": "ConfigMap", "data": {"flink-conf.yaml": "parallelism.default: 1\n"}}
    assert storage_path([legacy]) is None
