"""Planning, pure: from frozen facts per resource (desired, applied, observed) to a Plan.

`plan_changes` is the entry point; the rules live one concern per module and return values
(steps, risks, notes), never mutate shared state.
"""

from gitflink.core.planning.facts import Healing
from gitflink.core.planning.planner import DesiredLike, plan_changes

__all__ = ["DesiredLike", "Healing", "plan_changes"]
