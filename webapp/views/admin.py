"""(being written)"""
from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("admin", __name__)
