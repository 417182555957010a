"""Reporting, pure: a resource's status at the end of a pass from what the pass learnt.

`report` is the one function; the runtime's one status writer applies and saves it.
"""

from gitflink.core.reporting.reports import Outcome, PassFacts, SourceState, report, seen_now

__all__ = ["Outcome", "PassFacts", "SourceState", "report", "seen_now"]
