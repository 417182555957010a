"""What the CLI plugin and config-file tests share: a FlinkDeployment a pass records without
starting any Flink process (suspended), and a plugin distribution installed into a site dir."""

from __future__ import annotations

from pathlib import Path

SUSPENDED = """\
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: orders}
spec:
  flinkVersion: v1_20
  jobManager: {resource: {memory: 1g}}
  taskManager: {resource: {memory: 1g}}
  job: {jarURI: local:///x.jar, parallelism: 1, upgradeMode: stateless, state: suspended}
"""


def suspended(flink_configuration: str | None = None) -> str:
    """SUSPENDED, with a flinkConfiguration line (flow YAML) when given."""
    if flink_configuration is None:
        return SUSPENDED
    return SUSPENDED.replace("  job:", f"  flinkConfiguration: {flink_configuration}\n  job:")


def install_plugin(site: Path, name: str, group: str, entry_points: str) -> None:
    """A distribution `name` whose entry points in `group` are `entry_points`."""
    dist_info = site / f"{name}-0.1.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(f"[{group}]\n{entry_points}\n")
