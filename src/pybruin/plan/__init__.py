"""The frozen plan between loading (config, pipeline) and running: selection, order, needs, refusals."""

from pybruin.plan.tasks import Plan, Task, TaskKind, build_plan
from pybruin.plan.unsupported import UNSUPPORTED, unsupported_reasons

__all__ = ["UNSUPPORTED", "Plan", "Task", "TaskKind", "build_plan", "unsupported_reasons"]
