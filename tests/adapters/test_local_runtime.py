"""The local runtime without JVMs: version table, generated config, state file, pid safety."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitflink.adapters.local_runtime import LocalRuntime
from gitflink.adapters.local_runtime.cluster import (
    ClusterState,
    how_ended,
    pid_alive,
    start_process,
    stop_pids,
    wait_ready,
)
from gitflink.adapters.local_runtime.configuring import (
    JM_MEMORY,
    TM_MEMORY,
    ClusterLayout,
    jvm_command,
    render_config,
    user_java_opts,
    write_config,
)
from gitflink.adapters.local_runtime.installing import (
    FlinkInstall,
    any_install,
    flink_install,
    pypi_release,
)
from gitflink.adapters.local_runtime.runtime import _slots, _taskmanagers
from gitflink.model.errors import ClusterError
from gitflink.model.ids import Kind, ResourceId
from gitflink.model.resources import FlinkDeploymentSpec, FlinkVersion


def fake_home(root: Path, version: str) -> FlinkInstall:
    (root / "lib").mkdir(parents=True)
    (root / "conf").mkdir()
    for jar in (f"flink-dist-{version}.jar", "flink-table-runtime.jar", "log4j-api.jar"):
        (root / "lib" / jar).write_bytes(b"")
    (root / "conf" / "log4j.properties").write_text("rootLogger.level = INFO\n")
    return FlinkInstall(home=root, version=version)


def spec(**fields: object) -> FlinkDeploymentSpec:
    return FlinkDeploymentSpec.model_validate(fields)


def test_each_flink_minor_maps_to_one_pypi_release() -> None:
    assert pypi_release(FlinkVersion.V1_20) == "1.20.5"
    assert pypi_release(FlinkVersion.V2_4) == "2.3.0"  # newer than PyPI: newest 2.x
    assert pypi_release(None) == "1.20.5"  # the LTS when the spec names none
    with pytest.raises(ClusterError, match="v1_15 cannot run locally"):
        pypi_release(FlinkVersion.V1_15)


def test_flink_home_overrides_the_pypi_install(tmp_path: Path) -> None:
    fake_home(tmp_path / "flink", "1.19.3")
    install = flink_install(tmp_path / "cache", FlinkVersion.V2_3, tmp_path / "flink")
    assert (install.home, install.version) == (tmp_path / "flink", "1.19.3")
    assert not (tmp_path / "cache").exists()  # nothing downloaded


def test_example_jar_compiles_against_an_installed_flink_preferring_1x(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fake_home(cache / "flink" / "2.3.0" / "pyflink", "2.3.0")
    fake_home(cache / "flink" / ".1.19.3.partial-7" / "pyflink", "1.19.3")  # unfinished
    assert any_install(cache).version == "2.3.0"
    fake_home(cache / "flink" / "1.19.3" / "pyflink", "1.19.3")
    assert any_install(cache).version == "1.19.3"


def test_classpath_puts_flink_dist_last(tmp_path: Path) -> None:
    install = fake_home(tmp_path, "2.3.0")
    assert install.classpath().split(":")[-1].endswith("flink-dist-2.3.0.jar")


def test_user_config_is_merged_but_ports_addresses_and_memory_stay_owned(
    tmp_path: Path,
) -> None:
    install = fake_home(tmp_path / "home", "1.20.5")
    layout = ClusterLayout(tmp_path / "c")
    user = {
        "jobmanager.scheduler": "adaptive",
        "rest.port": 8081,
        "rest.bind-address": "0.0.0.0",
        "taskmanager.memory.process.size": "4g",
        "execution.checkpointing.interval": "5s",
    }
    config = render_config(install, layout, user, rest_port=4242, rpc_port=4343, slots=3)
    assert config["jobmanager.scheduler"] == "adaptive"
    assert config["execution.checkpointing.interval"] == "5s"
    assert (config["rest.port"], config["rest.bind-address"]) == (4242, "127.0.0.1")
    assert config["taskmanager.memory.process.size"] == f"{TM_MEMORY['process']}m"
    assert config["taskmanager.numberOfTaskSlots"] == 3
    assert config["web.refresh-interval"] == 200


def test_remote_state_dirs_are_replaced_with_local_ones_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    install = fake_home(tmp_path / "home", "1.20.5")
    layout = ClusterLayout(tmp_path / "c")
    user = {
        "state.savepoints.dir": "s3://bucket/savepoints",
        "state.checkpoints.dir": "file:///mnt/checkpoints",
    }
    with caplog.at_level(logging.INFO):
        config = render_config(install, layout, user, rest_port=1, rpc_port=2, slots=1)
    assert config["state.savepoints.dir"] == f"file://{layout.savepoints}"
    assert config["state.checkpoints.dir"] == "file:///mnt/checkpoints"  # local: kept
    assert "state.savepoints.dir is not a local path" in caplog.text
    assert "s3://bucket" not in caplog.text  # values never reach the log


def test_memory_components_add_up_to_the_process_size() -> None:
    tm_parts = sum(v for k, v in TM_MEMORY.items() if k != "process")
    assert tm_parts == TM_MEMORY["process"]
    jm_parts = sum(v for k, v in JM_MEMORY.items() if k != "process")
    assert jm_parts == JM_MEMORY["process"]


def test_config_file_is_standard_yaml_on_1_19_and_legacy_before(tmp_path: Path) -> None:
    config = {"a.string": "x y", "a.number": 3, "a.flag": True}
    new = fake_home(tmp_path / "new", "1.20.5")
    old = fake_home(tmp_path / "old", "1.18.1")
    for install, name, expected in (
        (new, "config.yaml", 'a.string: "x y"'),
        (old, "flink-conf.yaml", "a.string: x y"),
    ):
        layout = ClusterLayout(tmp_path / f"c-{name}")
        layout.create()
        path = write_config(install, layout, config)
        assert path.name == name
        lines = path.read_text().splitlines()
        assert expected in lines and "a.number: 3" in lines and "a.flag: true" in lines
        assert (layout.conf / "log4j.properties").is_file()


def test_taskmanager_command_sets_heap_direct_memory_and_user_opts(tmp_path: Path) -> None:
    install = fake_home(tmp_path / "home", "2.3.0")
    layout = ClusterLayout(tmp_path / "c")
    opts = user_java_opts(
        {"env.java.opts.taskmanager": "-Dx=1", "env.java.opts.all": "-Dy=2"}, "taskmanager"
    )
    command = jvm_command(install, layout, opts, role="taskmanager", log_name="taskmanager-0")
    heap = TM_MEMORY["framework.heap"] + TM_MEMORY["task.heap"]
    assert f"-Xmx{heap}m" in command and "-Dx=1" in command and "-Dy=2" in command
    assert command[-3:] == [
        "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
        "--configDir",
        str(layout.conf),
    ]
    assert any(arg.startswith("--add-opens=java.base/java.util=") for arg in command)


def test_slots_and_taskmanagers_follow_the_spec() -> None:
    app = spec(job={"jarURI": "local:///x.jar", "parallelism": 6})
    assert (_slots(app), _taskmanagers(app, 6)) == (6, 1)
    sized = spec(
        flinkConfiguration={"taskmanager.numberOfTaskSlots": 4},
        job={"jarURI": "local:///x.jar", "parallelism": 6},
    )
    assert (_slots(sized), _taskmanagers(sized, 4)) == (4, 2)
    session = spec()
    assert (_slots(session), _taskmanagers(session, 4)) == (4, 1)
    replicas = spec(taskManager={"replicas": 3}, job={"jarURI": "local:///x.jar"})
    assert _taskmanagers(replicas, 1) == 3


def test_state_file_round_trips(tmp_path: Path) -> None:
    state = ClusterState(
        namespace="ns",
        name="a",
        root=str(tmp_path),
        version="1.20.5",
        flink_home="/f",
        rest_port=1,
        rpc_port=2,
        slots_per_tm=2,
        fingerprint="abc",
        jm_pid=10,
        tm_pids=(11, 12),
        java_opts={"taskmanager": ("-Dx=1",)},
    )
    state.save(tmp_path / "cluster.json")
    assert ClusterState.load(tmp_path / "cluster.json") == state
    assert state.rest_url == "http://127.0.0.1:1" and state.pids == (10, 11, 12)
    (tmp_path / "broken.json").write_text("{")
    assert ClusterState.load(tmp_path / "broken.json") is None


def test_stop_only_kills_pids_whose_command_line_names_the_cluster(tmp_path: Path) -> None:
    marker = str(tmp_path / "cluster-a" / "conf")
    sleeper = [sys.executable, "-c", "import time, sys; time.sleep(60)"]
    ours = start_process([*sleeper, marker], {}, tmp_path / "ours.out", tmp_path)
    stranger = subprocess.Popen([*sleeper, str(tmp_path / "cluster-b" / "conf")])
    try:
        assert pid_alive(ours, marker) and not pid_alive(stranger.pid, marker)
        stop_pids([ours, stranger.pid], marker, timeout=5.0)
        assert not Path(f"/proc/{ours}").exists()  # terminated and reaped
        assert stranger.poll() is None  # a reused pid of another program is left alone
    finally:
        stranger.kill()
        stranger.wait()
        stop_pids([ours], marker, timeout=0.0)


def test_a_started_process_is_recognised_the_moment_start_process_returns(tmp_path: Path) -> None:
    """Popen returns while the kernel may still be publishing the new program's arguments; a
    check right after a start (wait_ready's first) must not take the new JVM for a dead one.
    The race is short: fifty starts give it a chance to show."""
    marker = str(tmp_path / "conf")
    pids = []
    try:
        for n in range(50):
            command = [sys.executable, "-S", "-c", "import time; time.sleep(30)", marker]
            pid = start_process(command, {}, tmp_path / f"{n}.out", tmp_path)
            pids.append(pid)
            assert pid_alive(pid, marker), f"start {n}: pid {pid} not recognised"
    finally:
        stop_pids(pids, marker, timeout=0.0)


def test_how_a_started_process_ended_is_told_once_it_was_reaped(tmp_path: Path) -> None:
    """A JVM that dies before it logs anything still says how: its exit code or its signal."""
    marker = str(tmp_path / "conf")
    code = [sys.executable, "-c", "import sys, time; sys.exit(3)", marker]
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)", marker]
    exits = start_process(code, {}, tmp_path / "exits.out", tmp_path)
    killed = start_process(sleeper, {}, tmp_path / "sleeps.out", tmp_path)
    stop_pids([killed], marker)  # Python does not catch SIGTERM: it dies of it
    deadline = time.monotonic() + 10
    while pid_alive(exits, marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert how_ended([exits, killed, 1]) == f"{exits}: exit code 3, {killed}: killed by SIGTERM"


def test_a_jvm_dead_at_start_up_is_reported_with_its_last_words_and_exit_code(
    tmp_path: Path,
) -> None:
    root, log_dir = tmp_path / "cluster", tmp_path / "cluster" / "log"
    log_dir.mkdir(parents=True)
    words = "Error: Could not find or load main class org.example.Missing"
    dies = [sys.executable, "-c", f"print({words!r}); raise SystemExit(1)", f"{root}/conf"]
    pid = start_process(dies, {}, log_dir / "jobmanager-0.out", tmp_path)
    state = ClusterState("ns", "gone", str(root), "1.20.5", "/f", 1, 2, 1, "x", pid)
    with pytest.raises(ClusterError) as failed:
        wait_ready(state, log_dir, timeout=30.0)
    assert f"[{pid}] of ns/gone exited during start-up ({pid}: exit code 1)" in str(failed.value)
    assert f"jobmanager-0.out: {words}" in str(failed.value)


def test_deleting_a_cluster_that_never_ran_succeeds(tmp_path: Path) -> None:
    runtime = LocalRuntime(tmp_path / "data", tmp_path / "cache")
    resource = ResourceId(Kind.FLINK_DEPLOYMENT, "ns", "ghost")
    runtime.delete_cluster(resource)
    assert runtime.find_cluster(resource) is None and runtime.list_clusters() == []


def test_a_recorded_cluster_whose_processes_are_gone_is_not_adopted(tmp_path: Path) -> None:
    runtime = LocalRuntime(tmp_path / "data", tmp_path / "cache")
    root = tmp_path / "data" / "clusters" / "ns" / "dead"
    root.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass", f"{root}/conf"])
    dead.wait()
    ClusterState("ns", "dead", str(root), "1.20.5", "/f", 1, 2, 1, "x", dead.pid).save(
        root / "cluster.json"
    )
    resource = ResourceId(Kind.FLINK_DEPLOYMENT, "ns", "dead")
    assert runtime.find_cluster(resource) is None
    assert [(s.name, alive) for s, alive in runtime.cluster_records()] == [("dead", False)]


def test_a_cluster_another_status_store_manages_is_never_started_or_deleted(
    tmp_path: Path,
) -> None:
    root = tmp_path / "data" / "clusters" / "ns" / "theirs"
    root.mkdir(parents=True)
    state = ClusterState("ns", "theirs", str(root), "1.20.5", "/f", 1, 2, 1, "x", 2**22 + 1)
    dataclasses.replace(state, owner="status branch gitflink/status of file:///r").save(
        root / "cluster.json"
    )
    resource = ResourceId(Kind.FLINK_DEPLOYMENT, "ns", "theirs")
    mine = LocalRuntime(tmp_path / "data", tmp_path / "cache", owner="status files in /d")
    home = fake_home(tmp_path / "home", "1.20.5").home
    mine.flink_home = home
    for act in (
        lambda: mine.ensure_cluster(resource, spec()),
        lambda: mine.delete_cluster(resource),
    ):
        with pytest.raises(ClusterError, match="managed by another status store"):
            act()
    assert (root / "cluster.json").exists()
    LocalRuntime(tmp_path / "data", tmp_path / "cache").delete_cluster(resource)  # `local stop`


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("https://repo/x.jar", "cannot download"),
        ("s3://bucket/x.jar", "unsupported scheme"),
        ("file:///nonexistent/x.jar", "not found"),
        ("/nonexistent/x.jar", "not found"),
    ],
)
def test_unusable_jar_uris_fail_clearly(tmp_path: Path, uri: str, message: str) -> None:
    runtime = LocalRuntime(tmp_path / "data", tmp_path / "cache")
    with pytest.raises(ClusterError, match=message):
        runtime.resolve_jar(uri)


def test_plain_and_file_paths_resolve_as_they_are(tmp_path: Path) -> None:
    jar = tmp_path / "job.jar"
    jar.write_bytes(b"PK")
    runtime = LocalRuntime(tmp_path / "data", tmp_path / "cache")
    assert runtime.resolve_jar(str(jar)) == jar
    assert runtime.resolve_jar(f"file://{jar}") == jar
