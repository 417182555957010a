"""ManifestReader: per-blob parse results merged exactly as parsing.parse_files would, and
parsed again only when a blob is new."""

from __future__ import annotations

from support.fakes import FakeGitSource
from support.passes import app

from gitflink.core import parsing
from gitflink.runtime.reading import ManifestReader

SESSION_JOB = b"""
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata: {name: views, namespace: streaming}
spec:
  deploymentName: nowhere
  job: {jarURI: local:///opt/job.jar, parallelism: 1}
"""

FILES = {
    "b/two.yaml": app("two") + b"---\n" + app("three", parallelism=-1) + b"---\n" + app("zero"),
    "a/one.yaml": app("one", mode="sideways"),
    "c/broken.yaml": b"kind: FlinkDeployment\nmetadata: {name: [\n",
    "c/config.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    "d/views.yaml": SESSION_JOB,
    "d/not-utf8.yaml": b"\xff\xfe",
}


def test_merged_result_equals_parsing_all_files_at_once() -> None:
    source = FakeGitSource(FILES)
    manifests = ManifestReader().read(source, source.fetch())
    expected = parsing.parse_files(FILES)
    assert manifests.parsed == expected
    assert [d.id.name for d in manifests.parsed.desired] == ["two", "zero", "views"]
    files = [p.file for p in manifests.parsed.problems]
    assert files == sorted(files) and {"a/one.yaml", "c/broken.yaml", "d/not-utf8.yaml"} <= set(
        files
    )
    # Validation runs on the merged result: the session job's missing cluster is reported.
    assert any("nowhere" in p.message for p in manifests.problems)


def test_only_new_blobs_are_parsed_and_an_unchanged_revision_is_not_listed_again() -> None:
    source = FakeGitSource(FILES)
    reader = ManifestReader()
    first = reader.read(source, source.fetch())
    assert (reader.parses, reader.listings) == (len(FILES), 1)
    assert reader.read(source, source.fetch()) == first
    assert (reader.parses, reader.listings) == (len(FILES), 1)

    changed = {**FILES, "a/one.yaml": app("one"), "e/new.yaml": app("four")}
    del changed["c/broken.yaml"]
    revision = source.commit(changed)
    second = reader.read(source, revision)
    assert (reader.parses, reader.listings) == (len(FILES) + 2, 2)
    assert second.parsed == parsing.parse_files(changed)


def test_a_file_moved_back_to_earlier_bytes_is_parsed_again_only_once() -> None:
    source = FakeGitSource({"a.yaml": app("one")})
    reader = ManifestReader()
    reader.read(source, source.fetch())
    reader.read(source, source.commit({"a.yaml": app("one", rate=5)}))
    reader.read(source, source.commit({"a.yaml": app("one")}))
    # Only the current tree is kept (memory follows the repository, not its history).
    assert reader.parses == 3


def test_known_files_remember_where_a_resource_was_declared_after_its_file_breaks() -> None:
    source = FakeGitSource({"apps/one.yaml": app("one"), "apps/two.yaml": app("two")})
    reader = ManifestReader()
    reader.read(source, source.fetch())
    broken = source.commit({"apps/one.yaml": app("one"), "apps/two.yaml": b"kind: [\n"})
    manifests = reader.read(source, broken)
    assert {rid.name: path for rid, path in manifests.known_files.items()} == {
        "one": "apps/one.yaml",
        "two": "apps/two.yaml",
    }
    gone = source.commit({"apps/one.yaml": app("one")})
    assert [rid.name for rid in reader.read(source, gone).known_files] == ["one"]
