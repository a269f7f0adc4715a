"""Stock pages (库存): levels per product and warehouse with their value, what is below its reorder point, and
one product's moves. Read-only; the stock operations live in erp.inventory."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext
from sqlalchemy import select

from erp.catalog import queries as catalog
from erp.inventory import queries
from erp.inventory.models import Warehouse
from webapp import requestdb
from webapp.navigation import EXTRA, known_names
from webapp.security import requires

blueprint = Blueprint("stock", __name__, url_prefix="/stock")

EXTRA.append(("stock.levels", lazy_gettext("Stock"), "stock.view", None))

MOVE_LABELS = {"receipt": lazy_gettext("Receipt"), "issue": lazy_gettext("Issue"),
               "transfer": lazy_gettext("Transfer"), "adjustment": lazy_gettext("Adjustment")}


def _warehouses(db) -> dict[str, Warehouse]:
    return {w.code: w for w in db.scalars(select(Warehouse).order_by(Warehouse.code))}


@blueprint.route("")
@requires("stock.view")
def levels():
    db = requestdb.session()
    warehouses = _warehouses(db)
    chosen = request.args.get("warehouse", "")
    chosen = chosen if chosen in warehouses else None
    rows = queries.stock(db, warehouse=chosen)
    low = {(r.sku, r.warehouse): r for r in queries.below_reorder_point(db)}
    products = {p.sku: p for p in catalog.products(db, active_only=False)}
    return render_template("stock/levels.html", rows=rows, low=low, products=products, warehouses=warehouses,
                           chosen=chosen, total=queries.stock_value(db, chosen))


@blueprint.route("/products/<sku>")
@requires("stock.view")
def product(sku):
    db = requestdb.session()
    item = catalog.product_by_sku(db, sku)
    moves = queries.moves_of(db, sku)
    known_names(m["by"] for m in moves)
    return render_template("stock/product.html", product=item, rows=queries.stock(db, sku=sku), moves=moves,
                           warehouses=_warehouses(db), kinds=MOVE_LABELS,
                           low={(r.sku, r.warehouse): r for r in queries.below_reorder_point(db) if r.sku == sku})
