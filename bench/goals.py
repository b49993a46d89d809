"""The goals the benchmarks measure (issue 17), and the table that says which are met.

A goal is a ratio measured in one run, side by side: ours over the peer's (wall time, or another
measure), met when it is at most the limit. Absolute times vary with the machine's load; the
ratios of interleaved runs are what the goals are about. Where both sides' CPU time (user +
system, their child processes included) is known it is shown too: on a machine shared with other
work, wall time is partly time spent waiting for a core, CPU time is what each tool itself costs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    name: str  # what is compared, and with what
    ours: float
    peer: float
    limit: float  # met when ours / peer <= limit
    unit: str = "s"
    ours_cpu: float | None = None
    peer_cpu: float | None = None

    @property
    def ratio(self) -> float:
        return self.ours / self.peer if self.peer else float("inf")

    @property
    def cpu_ratio(self) -> float | None:
        if self.ours_cpu is None or not self.peer_cpu:
            return None
        return self.ours_cpu / self.peer_cpu

    @property
    def met(self) -> bool:
        return self.ratio <= self.limit


def table(goals: list[Goal], title: str = "goal") -> str:
    """The goals as a Markdown table, one row each, with met/MISSED."""
    rows = [
        f"| {title} | ours | peer | ratio | cpu ours | cpu peer | cpu ratio | goal | |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for goal in goals:
        cpu = goal.cpu_ratio
        cpus = (
            f"{goal.ours_cpu:.3f} s | {goal.peer_cpu:.3f} s | {cpu:.2f}"
            if cpu is not None and goal.ours_cpu is not None and goal.peer_cpu is not None
            else "| |"
        )
        rows.append(
            f"| {goal.name} | {goal.ours:.3f} {goal.unit} | {goal.peer:.3f} {goal.unit} | "
            f"{goal.ratio:.2f} | {cpus} | <= {goal.limit:g} | "
            f"{'met' if goal.met else 'MISSED'} |"
        )
    return "\n".join(rows)
