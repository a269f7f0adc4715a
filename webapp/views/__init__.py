"""The blueprints, one per area of the app."""
from __future__ import annotations

from webapp.views import admin, api, auth, files, inbox, instances, processes, tasks

BLUEPRINTS = [auth.blueprint, inbox.blueprint, tasks.blueprint, processes.blueprint, instances.blueprint,
              admin.blueprint, files.blueprint, api.blueprint]
