"""Cleaning earlier JobResultStores (FLINK-27569's workaround): siblings of the new start's
path go, the newest stays, on local files and on S3 (moto's S3-compatible server, run here as
its own process); paths not laid out by gitflink are left alone, and storage gitflink has no
client for is said, never a crash."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from support.flink_fixtures import wait_for

from gitflink.adapters.kubernetes_runtime.job_results import remove_earlier, storage_path
from gitflink.adapters.local_runtime.cluster import free_port
from gitflink.model.ids import Kind, ResourceId

APP = ResourceId(Kind.FLINK_DEPLOYMENT, "ns", "orders")
EARLIER, NEWEST = ("a" * 32, "b" * 32, "session"), "c" * 32


def starts(root: Path, *names: str) -> Path:
    base = root / "job-result-store" / "orders"
    for name in names:
        (base / name).mkdir(parents=True)
        (base / name / "entry.json").write_text("{}")
    return base


def test_earlier_starts_are_removed_and_the_newest_kept(tmp_path: Path) -> None:
    base = starts(tmp_path, *EARLIER)
    removed = remove_earlier(APP, f"file://{base}/{NEWEST}")
    assert removed == sorted(f"file://{base / n}" for n in EARLIER)
    assert list(base.iterdir()) == []
    starts(tmp_path, "d" * 32)
    assert remove_earlier(APP, str(base / ("d" * 32))) == []  # the newest is never removed
    assert [p.name for p in base.iterdir()] == ["d" * 32]


def test_paths_gitflink_did_not_lay_out_are_left_alone(tmp_path: Path) -> None:
    mine = tmp_path / "custom" / "orders"
    (mine / "old").mkdir(parents=True)
    assert remove_earlier(APP, f"file://{mine}/new") == []
    assert (mine / "old").is_dir()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """moto's S3-compatible server on a local port, in a process of its own; the AWS
    environment points clients (boto3 and s3fs alike) at it."""
    port = free_port()
    log = (tmp_path / "moto.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "gitflink-test",
        "AWS_SECRET_ACCESS_KEY": "gitflink-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    try:
        wait_for(lambda: _answers(endpoint), 60.0, "moto's server")
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code < 500
    except httpx.TransportError:
        return False


def keys(bucket: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_earlier_starts_on_s3_are_removed_and_the_newest_kept(s3: str) -> None:
    client = boto3.client("s3")
    client.create_bucket(Bucket="flink-ha")
    for name in (*EARLIER, NEWEST):
        client.put_object(
            Bucket="flink-ha", Key=f"jrs/job-result-store/orders/{name}/x.json", Body=b"{}"
        )
    client.put_object(Bucket="flink-ha", Key="jrs/job-result-store/views/old/x.json", Body=b"{}")
    client.put_object(Bucket="flink-ha", Key="custom/orders/old/x.json", Body=b"{}")
    base = "s3://flink-ha/jrs/job-result-store/orders"
    removed = remove_earlier(APP, f"{base}/{NEWEST}")
    assert removed == sorted(f"{base}/{name}" for name in EARLIER)
    assert keys("flink-ha") == [
        "custom/orders/old/x.json",  # not gitflink's layout
        f"jrs/job-result-store/orders/{NEWEST}/x.json",
        "jrs/job-result-store/views/old/x.json",  # another cluster's
    ]
    assert remove_earlier(APP, "s3://flink-ha/custom/orders/new") == []
    # A later start: the listing is read again, not taken from s3fs's cache; Flink's Presto
    # plugin's scheme is the same storage.
    assert remove_earlier(APP, f"{base}/{NEWEST}") == []  # the newest is never removed
    between = "e" * 32  # written since the last listing, by another client
    client.put_object(Bucket="flink-ha", Key=f"jrs/job-result-store/orders/{between}/x", Body=b"")
    later = f"s3p://flink-ha/jrs/job-result-store/orders/{'d' * 32}"
    assert remove_earlier(APP, later) == [f"{base}/{NEWEST}", f"{base}/{between}"]
    assert keys("flink-ha")[1:] == ["jrs/job-result-store/views/old/x.json"]


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("gcsfsless://bucket/job-result-store/orders/new", "Protocol not known: gcsfsless"),
        ("s3://key:hunter2@bucket/job-result-store/orders/new", "s3://******@bucket"),
        ("s3://flink-ha/job-result-store/orders/new", "Could not connect"),
    ],
)
def test_storage_gitflink_cannot_reach_is_said_never_a_crash(
    path: str, said: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")  # nothing listens
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setattr("s3fs.S3FileSystem.retries", 1)  # s3fs's own retries: 5, backing off
    with caplog.at_level(logging.WARNING):
        assert remove_earlier(APP, path) == []
    (record,) = caplog.records
    assert "JobResultStores of earlier starts not cleaned" in record.getMessage()
    assert said in record.getMessage() and "hunter2" not in caplog.text


def test_the_storage_path_is_read_from_the_rendered_configuration() -> None:
    config_map = {
        "kind": "ConfigMap",
        "data": {"config.yaml": 'job-result-store.storage-path: "file:///ha/jrs/orders/x"\n'},
    }
    assert storage_path([{"kind": "Deployment"}, config_map]) == "file:///ha/jrs/orders/x"
    legacy = {"kind": "ConfigMap", "data": {"flink-conf.yaml": "parallelism.default: 1\n"}}
    assert storage_path([legacy]) is None
