"""The blueprints, one per area of the app (task_actions and involved add their routes to the tasks blueprint,
api_sales and api_purchasing their routes to the api blueprint, purchasing_requisitions its routes to the
purchasing blueprint, migration_mappings to the migration blueprint)."""
from __future__ import annotations

from webapp.views import (
              admin,
              api,
              api_purchasing,
              api_sales,
              audit,
              auth,
              crm,
              files,
              inbox,
              instances,
              involved,
              ledger,
              migration,
              migration_mappings,
              modeler,
              privacy,
              processes,
              projects,
              purchasing,
              purchasing_requisitions,
              risks,
              sales,
              stock,
              task_actions,
              tasks,
)

BLUEPRINTS = [auth.blueprint, inbox.blueprint, tasks.blueprint, processes.blueprint, instances.blueprint,
              admin.blueprint, files.blueprint, api.blueprint,
              crm.blueprint, stock.blueprint, ledger.blueprint, sales.blueprint,
              purchasing.blueprint, projects.blueprint, risks.blueprint, migration.blueprint,
              modeler.blueprint, audit.blueprint, privacy.blueprint]

__all__ = ["BLUEPRINTS", "api_purchasing", "api_sales", "involved", "migration_mappings", "purchasing_requisitions",
           "task_actions"]
