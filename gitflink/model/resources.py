"""FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot (flink.apache.org/v1beta1).

Field names follow the upstream CRDs exactly (camelCase aliases), so manifests written for the
Flink Kubernetes Operator load unchanged. Each spec field declares its DiffKind in its
annotation; the planning table is read from these declarations.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from gitflink.model.diffkind import PER_KEY, ByMode, DiffKind
from gitflink.model.flinkconf import flatten_configuration, flink_text
from gitflink.model.ids import API_VERSION, DEFAULT_NAMESPACE, Kind, ResourceId

IGNORE, SCALE, UPGRADE, REDEPLOY = (
    DiffKind.IGNORE,
    DiffKind.SCALE,
    DiffKind.UPGRADE,
    DiffKind.SAVEPOINT_REDEPLOY,
)
FreeForm = dict[str, Any]
# Upstream rescales by adding TaskManagers or changing a job's parallelism without a restart
# only in standalone mode; in native mode the operator redeploys.
SCALE_IN_STANDALONE = ByMode(native=UPGRADE, standalone=SCALE)


class Spec(BaseModel):
    """Strict: an unknown field is an error, so typos never pass silently."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class FlinkVersion(StrEnum):
    V1_15 = "v1_15"
    V1_16 = "v1_16"
    V1_17 = "v1_17"
    V1_18 = "v1_18"
    V1_19 = "v1_19"
    V1_20 = "v1_20"
    V2_0 = "v2_0"
    V2_1 = "v2_1"
    V2_2 = "v2_2"
    V2_3 = "v2_3"
    V2_4 = "v2_4"

    @property
    def major_minor(self) -> tuple[int, int]:
        major, minor = self.value[1:].split("_")
        return int(major), int(minor)

    @property
    def deprecated(self) -> bool:
        return self.major_minor < (1, 19)

    def at_least(self, major: int, minor: int) -> bool:
        return self.major_minor >= (major, minor)


class UpgradeMode(StrEnum):
    STATELESS = "stateless"
    SAVEPOINT = "savepoint"
    LAST_STATE = "last-state"


class JobState(StrEnum):
    RUNNING = "running"
    SUSPENDED = "suspended"


class DeploymentMode(StrEnum):
    NATIVE = "native"
    STANDALONE = "standalone"


class Resource(Spec):
    cpu: Annotated[float | None, UPGRADE] = None
    memory: Annotated[str | None, UPGRADE] = None
    ephemeral_storage: Annotated[str | None, UPGRADE] = None


class JobManagerSpec(Spec):
    resource: Annotated[Resource | None, UPGRADE] = None
    resources: Annotated[FreeForm | None, UPGRADE] = None
    replicas: Annotated[int, UPGRADE] = Field(default=1, ge=1)
    pod_template: Annotated[FreeForm | None, UPGRADE] = None


class TaskManagerSpec(Spec):
    resource: Annotated[Resource | None, UPGRADE] = None
    resources: Annotated[FreeForm | None, UPGRADE] = None
    # Standalone mode can add TaskManagers without restarting the job (reactive/adaptive).
    replicas: Annotated[int | None, SCALE_IN_STANDALONE] = Field(default=None, ge=1)
    pod_template: Annotated[FreeForm | None, UPGRADE] = None


class IngressSpec(Spec):
    template: Annotated[str | None, UPGRADE] = None
    class_name: Annotated[str | None, UPGRADE] = None
    annotations: Annotated[dict[str, str] | None, UPGRADE] = None
    labels: Annotated[dict[str, str] | None, UPGRADE] = None
    tls: Annotated[list[FreeForm] | None, UPGRADE] = None


class JobSpec(Spec):
    jar_uri: Annotated[str | None, UPGRADE] = Field(default=None, alias="jarURI")
    entry_class: Annotated[str | None, UPGRADE] = None
    args: Annotated[list[str] | None, UPGRADE] = None
    # 0 is read as written; next to taskManager.replicas it means unset (FlinkDeploymentSpec).
    parallelism: Annotated[int | None, SCALE_IN_STANDALONE] = Field(default=None, ge=0)
    # State transitions (running <-> suspended) are planned explicitly, never by diff kind.
    state: Annotated[JobState, IGNORE] = JobState.RUNNING
    upgrade_mode: Annotated[UpgradeMode, IGNORE] = UpgradeMode.STATELESS
    savepoint_trigger_nonce: Annotated[int | None, IGNORE] = None
    checkpoint_trigger_nonce: Annotated[int | None, IGNORE] = None
    initial_savepoint_path: Annotated[str | None, IGNORE] = None
    allow_non_restored_state: Annotated[bool | None, IGNORE] = None
    savepoint_redeploy_nonce: Annotated[int | None, REDEPLOY] = None
    autoscaler_reset_nonce: Annotated[int | None, IGNORE] = None

    @field_validator("args", mode="before")
    @classmethod
    def _args_are_strings(cls, value: Any) -> Any:
        # YAML turns `- 10` into an int; Flink receives strings either way.
        if isinstance(value, list):
            return [v if isinstance(v, str) else flink_text(v) for v in value]
        return value


class FlinkConfigured(Spec):
    flink_configuration: Annotated[dict[str, Any], PER_KEY] = Field(default_factory=dict)

    @field_validator("flink_configuration", mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, dict):
            return flatten_configuration(value)
        return value


class FlinkDeploymentSpec(FlinkConfigured):
    image: Annotated[str | None, UPGRADE] = None
    image_pull_policy: Annotated[str | None, UPGRADE] = None
    service_account: Annotated[str | None, UPGRADE] = None
    flink_version: Annotated[FlinkVersion | None, UPGRADE] = None
    log_configuration: Annotated[dict[str, str] | None, UPGRADE] = None
    pod_template: Annotated[FreeForm | None, UPGRADE] = None
    job_manager: Annotated[JobManagerSpec, UPGRADE] = Field(default_factory=JobManagerSpec)
    task_manager: Annotated[TaskManagerSpec, UPGRADE] = Field(default_factory=TaskManagerSpec)
    ingress: Annotated[IngressSpec | None, UPGRADE] = None
    mode: Annotated[DeploymentMode | None, UPGRADE] = None
    restart_nonce: Annotated[int | None, UPGRADE] = None
    job: Annotated[JobSpec | None, UPGRADE] = None

    @property
    def is_session_cluster(self) -> bool:
        return self.job is None

    @model_validator(mode="before")
    @classmethod
    def _zero_parallelism_is_unset(cls, data: Any) -> Any:
        # Upstream: with taskManager.replicas set, a literal `parallelism: 0` means "derive it
        # from the replicas" (its int field cannot be null); anywhere else 0 is refused.
        if not isinstance(data, dict):
            return data
        tm = data.get("taskManager", data.get("task_manager"))
        job = data.get("job")
        replicas = tm.get("replicas") if isinstance(tm, dict) else None
        if replicas is not None and isinstance(job, dict) and _is_zero(job.get("parallelism")):
            job = {key: value for key, value in job.items() if key != "parallelism"}
            return {**data, "job": job}
        return data


def _is_zero(value: Any) -> bool:
    return type(value) is int and value == 0


class FlinkSessionJobSpec(FlinkConfigured):
    deployment_name: Annotated[str, UPGRADE]
    job: Annotated[JobSpec, UPGRADE]
    restart_nonce: Annotated[int | None, UPGRADE] = None


class JobReference(Spec):
    kind: Literal["FlinkDeployment", "FlinkSessionJob"]
    name: str


class SavepointSpec(Spec):
    path: str | None = None
    format_type: Literal["CANONICAL", "NATIVE", "UNKNOWN"] | None = None
    dispose_on_delete: bool | None = None
    already_exists: bool | None = None


class CheckpointSpec(Spec):
    pass


class FlinkStateSnapshotSpec(Spec):
    job_reference: JobReference | None = None
    savepoint: SavepointSpec | None = None
    checkpoint: CheckpointSpec | None = None
    backoff_limit: int | None = Field(default=None, ge=-1)

    @model_validator(mode="after")
    def _exactly_one_snapshot_kind(self) -> FlinkStateSnapshotSpec:
        if (self.savepoint is None) == (self.checkpoint is None):
            raise ValueError("exactly one of 'savepoint' or 'checkpoint' must be set")
        return self


class ObjectMeta(BaseModel):
    """Kubernetes metadata: the fields gitflink uses; the rest is kept as written."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    namespace: str = DEFAULT_NAMESPACE
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class Manifest(BaseModel):
    """Common envelope. `status` in a manifest is accepted and ignored, as the API server does."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_version: Literal["flink.apache.org/v1beta1"] = Field(alias="apiVersion")
    metadata: ObjectMeta
    status: FreeForm | None = Field(default=None, exclude=True)

    KIND: ClassVar[Kind]

    @property
    def id(self) -> ResourceId:
        return ResourceId(self.KIND, self.metadata.namespace, self.metadata.name)

    def to_manifest(self) -> dict[str, Any]:
        """The manifest as a plain dict in upstream's field names, unset fields left out."""
        data: dict[str, Any] = self.model_dump(
            by_alias=True, exclude_none=True, exclude_unset=True, mode="json"
        )
        return {"apiVersion": API_VERSION, "kind": self.KIND.value, **data}


class FlinkDeployment(Manifest):
    KIND: ClassVar[Kind] = Kind.FLINK_DEPLOYMENT
    kind: Literal["FlinkDeployment"] = "FlinkDeployment"
    spec: FlinkDeploymentSpec


class FlinkSessionJob(Manifest):
    KIND: ClassVar[Kind] = Kind.FLINK_SESSION_JOB
    kind: Literal["FlinkSessionJob"] = "FlinkSessionJob"
    spec: FlinkSessionJobSpec


class FlinkStateSnapshot(Manifest):
    KIND: ClassVar[Kind] = Kind.FLINK_STATE_SNAPSHOT
    kind: Literal["FlinkStateSnapshot"] = "FlinkStateSnapshot"
    spec: FlinkStateSnapshotSpec


AnyResource = FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot
MODEL_BY_KIND: dict[
    str, type[FlinkDeployment] | type[FlinkSessionJob] | type[FlinkStateSnapshot]
] = {
    Kind.FLINK_DEPLOYMENT.value: FlinkDeployment,
    Kind.FLINK_SESSION_JOB.value: FlinkSessionJob,
    Kind.FLINK_STATE_SNAPSHOT.value: FlinkStateSnapshot,
}
