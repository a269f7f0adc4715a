"""The engine the views use: the one handed to create_app (tests), else the product's wiring."""
from __future__ import annotations

from flask import current_app


def engine():
    given = current_app.extensions.get("erp.engine")
    if given is not None:
        return given
    from erp.wiring import engine as wired

    return wired()
