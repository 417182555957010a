"""A Plan as text (terminal), markdown (pull-request comment) or JSON (machines).

All three show the same Plan the executor runs. Field values arrive redacted from diffing; only
changed resources are listed, unchanged ones are counted.
"""

from __future__ import annotations

import json
from dataclasses import fields as dataclass_fields
from enum import Enum
from typing import Any

from gitflink.model.plan import (
    Action,
    DiffClass,
    FieldChange,
    JobPlan,
    Plan,
    Restore,
    Step,
    SubmitJob,
    describe,
)
from gitflink.model.problems import Problem
from gitflink.model.resources import UpgradeMode

MAX_VALUE = 80
_MARK = {DiffClass.NEW: "+", DiffClass.REMOVED: "-"}
BASELINE_TEXT = {
    "revision": "the spec at the base revision (jobs assumed to run as it says)",
    "deployed": "the deployed spec (status store)",
}


def changed_jobs(plan: Plan) -> list[JobPlan]:
    return [
        job
        for job in plan.jobs
        if job.diff is not DiffClass.NONE or job.action is not Action.NONE or job.drift
    ]


def _mark(job: JobPlan) -> str:
    if job.action is Action.BLOCKED:
        return "!"
    return _MARK.get(job.diff, "~")


def _value(value: Any, limit: int = MAX_VALUE) -> str:
    text = "(unset)" if value is None else json.dumps(value, sort_keys=True, default=str)
    text = text.strip('"') if isinstance(value, str) else text
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _state(job: JobPlan) -> str:
    if job.state_loss:
        return "lost"
    if job.diff is DiffClass.NEW:
        # A new job has no state to keep: it starts empty, or from the savepoint it names.
        restores = any(isinstance(s, SubmitJob) and s.restore for s in job.steps)
        return "restored" if restores else "new"
    if job.upgrade_mode is UpgradeMode.STATELESS and any(
        isinstance(s, SubmitJob) and s.restore is None for s in job.steps
    ):
        return "empty"  # its state was discarded earlier (suspended stateless)
    return "kept" if job.upgrade_mode is not None else "-"


def _range(plan: Plan) -> str:
    if plan.base and plan.head:
        return f"{plan.base[:7]}..{plan.head[:7]}"
    return plan.head[:7] if plan.head else "(working state)"


def render_text(plan: Plan) -> str:
    jobs = changed_jobs(plan)
    lines = [f"gitflink plan {_range(plan)} (baseline: {plan.baseline.value})"]
    for job in jobs:
        mode = job.upgrade_mode.value if job.upgrade_mode else "-"
        where = f"  ({job.file})" if job.file else ""
        lines.append(
            f"{_mark(job)} {job.resource.kind.value} {job.resource.short}: {job.action.value} "
            f"[{job.diff.value}] mode={mode} state={_state(job)} "
            f"downtime={job.downtime.value}{where}"
        )
        lines += [
            f"    {c.path}: {_value(c.before)} -> {_value(c.after)} ({c.kind.name})"
            for c in job.fields
        ]
        if job.drift:
            lines.append(f"    drift: {job.drift}")
        lines += [f"    {i}. {describe(step)}" for i, step in enumerate(job.steps, 1)]
        if job.blocked:
            lines.append(f"    BLOCKED: {job.blocked}")
        lines += [f"    risk: {risk}" for risk in job.risks if risk != job.blocked]
        lines += [f"    note: {note}" for note in job.notes]
    unchanged = len(plan.jobs) - len(jobs)
    lines.append(f"{len(jobs)} to change, {unchanged} unchanged.")
    lines += [f"note: {note}" for note in plan.notes]
    if plan.problems:
        lines.append("problems:")
        lines += [f"  {problem}" for problem in plan.problems]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    text = _value(value, 120).replace("`", "'")
    return f"`{_cell(text)}`"


def render_markdown(plan: Plan) -> str:
    jobs = changed_jobs(plan)
    out = [
        f"### gitflink plan `{_range(plan)}`",
        "",
        f"Baseline: {BASELINE_TEXT[plan.baseline.value]}. "
        f"{len(jobs)} to change, {len(plan.jobs) - len(jobs)} unchanged.",
        "",
    ]
    if jobs:
        out += [
            "| | Resource | Action | Diff | Upgrade mode | State | Downtime |",
            "|---|---|---|---|---|---|---|",
        ]
        for job in jobs:
            state = "**lost**" if job.state_loss else _state(job)
            mode = job.upgrade_mode.value if job.upgrade_mode else "-"
            action = f"**{job.action.value}**" if job.action is Action.BLOCKED else job.action.value
            out.append(
                f"| {_mark(job)} | `{job.resource.kind.value} {job.resource.short}` | {action} "
                f"| {job.diff.value} | {mode} | {state} | {job.downtime.value} |"
            )
        out.append("")
    risky = [(job, risk) for job in jobs for risk in job.risks]
    if risky:
        out += ["**Risks**", ""]
        out += [f"- :warning: **`{job.resource.short}`**: {_cell(risk)}" for job, risk in risky]
        out.append("")
    if jobs:
        out += ["<details><summary>Field changes and steps</summary>", ""]
        for job in jobs:
            out += _markdown_details(job)
        out += ["</details>", ""]
    if plan.notes:
        out += [f"> {_cell(note)}" for note in plan.notes] + [""]
    if plan.problems:
        out += ["**Problems**", ""]
        out += [f"- `{_cell(str(problem))}`" for problem in plan.problems]
        out.append("")
    return "\n".join(out)


def _markdown_details(job: JobPlan) -> list[str]:
    where = f" (`{job.file}`)" if job.file else ""
    out = [f"#### {job.resource.kind.value} `{job.resource.short}`{where}", ""]
    if job.fields:
        out += ["| Field | From | To | Class |", "|---|---|---|---|"]
        out += [
            f"| `{_cell(c.path)}` | {_code(c.before)} | {_code(c.after)} | {c.kind.name} |"
            for c in job.fields
        ]
        out.append("")
    if job.drift:
        out += [f"**Drift:** {_cell(job.drift)}", ""]
    if job.steps:
        out += [f"{i}. {_cell(describe(step))}" for i, step in enumerate(job.steps, 1)]
        out.append("")
    if job.blocked:
        out += [f"**Blocked:** {_cell(job.blocked)}", ""]
    out += [f"- {_cell(note)}" for note in job.notes]
    if job.notes:
        out.append("")
    return out


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "base": plan.base,
        "head": plan.head,
        "baseline": plan.baseline.value,
        "changes": [_job_json(job) for job in changed_jobs(plan)],
        "unchanged": len(plan.jobs) - len(changed_jobs(plan)),
        "problems": [problem_json(problem) for problem in plan.problems],
        "notes": list(plan.notes),
    }


def render_json(plan: Plan) -> str:
    return json.dumps(plan_json(plan), indent=2, sort_keys=False, default=str) + "\n"


def _job_json(job: JobPlan) -> dict[str, Any]:
    return {
        "kind": job.resource.kind.value,
        "namespace": job.resource.namespace,
        "name": job.resource.name,
        "file": job.file,
        "diff": job.diff.value,
        "action": job.action.value,
        "upgradeMode": job.upgrade_mode.value if job.upgrade_mode else None,
        "stateLoss": job.state_loss,
        "downtime": job.downtime.value,
        "fields": [_field_json(change) for change in job.fields],
        "steps": [_step_json(step) for step in job.steps],
        "risks": list(job.risks),
        "notes": list(job.notes),
        "blocked": job.blocked,
        "drift": job.drift,
    }


def _field_json(change: FieldChange) -> dict[str, Any]:
    return {
        "path": change.path,
        "from": change.before,
        "to": change.after,
        "class": change.kind.name,
    }


def _step_json(step: Step) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type(step).__name__, "description": describe(step)}
    for item in dataclass_fields(step):
        value = getattr(step, item.name)
        if item.name == "target":
            value = str(value)
        elif isinstance(value, Restore):
            value = {"source": value.source.value, "path": value.path}
        elif isinstance(value, Enum):
            value = value.value
        elif value is not None and not isinstance(value, bool | int | str):
            value = str(value)
        data[item.name] = value
    return data


def problem_json(problem: Problem) -> dict[str, Any]:
    """A problem as every `-o json|yaml` shows it."""
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "field": problem.field,
        "message": problem.message,
        "severity": problem.severity.value,
        "resource": str(problem.resource) if problem.resource else None,
    }
