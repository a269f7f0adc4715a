"""The blueprints, one per area of the app (task_actions and involved add their routes to the tasks blueprint,
api_sales its routes to the api blueprint)."""
from __future__ import annotations

from webapp.views import (
              admin,
              api,
              api_sales,
              auth,
              crm,
              files,
              inbox,
              instances,
              involved,
              ledger,
              processes,
              sales,
              stock,
              task_actions,
              tasks,
)

BLUEPRINTS = [auth.blueprint, inbox.blueprint, tasks.blueprint, processes.blueprint, instances.blueprint,
              admin.blueprint, files.blueprint, api.blueprint,
              crm.blueprint, stock.blueprint, ledger.blueprint, sales.blueprint]

__all__ = ["BLUEPRINTS", "api_sales", "involved", "task_actions"]
