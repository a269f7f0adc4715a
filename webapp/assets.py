"""Front-end packages installed by npm from webapp/assets/package-lock.json, served by the app itself (no CDN:
intranets often have no outside access). Only the packages' distribution folders are reachable."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, send_from_directory

NODE_MODULES = Path(__file__).parent / "assets" / "node_modules"
#: URL prefix -> folder inside node_modules
PACKAGES = {
    "bootstrap": "bootstrap/dist",
    "htmx": "htmx.org/dist",
    "bpmn-js": "bpmn-js/dist",
    "dmn-js": "dmn-js/dist",
    "echarts": "echarts/dist",
    "frappe-gantt": "frappe-gantt/dist",
}

blueprint = Blueprint("vendor", __name__)


@blueprint.route("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str):
    folder = PACKAGES.get(package)
    if folder is None:
        abort(404)
    return send_from_directory(NODE_MODULES / folder, filename, max_age=86400)


vendor.erp_public = True
vendor.erp_permission = None


def check_installed() -> list[str]:
    """The packages whose files are missing (run `make setup`)."""
    return [name for name, folder in PACKAGES.items() if not (NODE_MODULES / folder).is_dir()]


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.view_functions["static"].erp_public = True
    app.view_functions["static"].erp_permission = None
