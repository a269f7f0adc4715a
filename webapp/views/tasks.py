"""(being written)"""
from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("tasks", __name__)
