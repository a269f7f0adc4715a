"""Errors the engine reports to its callers."""
from __future__ import annotations

from core.errors import Conflict, ErpError, InvalidInput, NotFound, PermissionDenied

__all__ = ["Conflict", "DeploymentFailed", "ErpError", "InvalidInput", "MessageNotDelivered", "NotFound",
           "PermissionDenied", "InstanceNotActive"]


class DeploymentFailed(InvalidInput):
    """Nothing was deployed; `problems` lists every DeployProblem found."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(f"deployment refused: {len(self.problems)} problem(s)\n"
                         + "\n".join(f"  {p}" for p in self.problems))


class MessageNotDelivered(NotFound):
    """No instance waits for the message and no process starts with it."""


class InstanceNotActive(Conflict):
    """The instance is suspended, completed or terminated."""
