"""The blueprints, one per area of the app (task_actions and involved add their routes to the tasks blueprint)."""
from __future__ import annotations

from webapp.views import (
              admin,
              api,
              auth,
              crm,
              files,
              inbox,
              instances,
              involved,
              ledger,
              processes,
              stock,
              task_actions,
              tasks,
)

BLUEPRINTS = [auth.blueprint, inbox.blueprint, tasks.blueprint, processes.blueprint, instances.blueprint,
              admin.blueprint, files.blueprint, api.blueprint,
              crm.blueprint, stock.blueprint, ledger.blueprint]

__all__ = ["BLUEPRINTS", "involved", "task_actions"]
