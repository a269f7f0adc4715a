"""(being written)"""
from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("instances", __name__)
