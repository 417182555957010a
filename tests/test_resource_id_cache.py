"""A manifest's id is cached (a pass asks for it thousands of times) yet always its own."""

from __future__ import annotations

from gitflink.model.ids import Kind, ResourceId
from gitflink.model.resources import FlinkDeployment

DOC = {
    "apiVersion": "flink.apache.org/v1beta1",
    "kind": "FlinkDeployment",
    "metadata": {"name": "orders", "namespace": "streaming"},
    "spec": {"flinkVersion": "v1_20"},
}


def test_id_is_computed_once_and_does_not_change_equality_or_dumps() -> None:
    first, second = FlinkDeployment.model_validate(DOC), FlinkDeployment.model_validate(DOC)
    assert first.id is first.id
    assert first.id == ResourceId(Kind.FLINK_DEPLOYMENT, "streaming", "orders")
    assert first == second  # one with its id cached, one without
    assert "id" not in first.model_dump() and "id" not in first.model_dump_json()


def test_a_copy_with_other_metadata_has_its_own_id() -> None:
    original = FlinkDeployment.model_validate(DOC)
    assert original.id.name == "orders"
    renamed = original.model_copy(
        update={"metadata": original.metadata.model_copy(update={"name": "clicks"})}
    )
    assert renamed.id == ResourceId(Kind.FLINK_DEPLOYMENT, "streaming", "clicks")
    assert original.model_copy(deep=True).id == original.id
