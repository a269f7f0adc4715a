"""Schemathesis against /api/v1/openapi.json through the WSGI app, on SQLite and PostgreSQL: every documented
operation, called by a user who holds every role (so every permission) over the demo company's data, with
generated valid and invalid input, and once more with valid input on records that exist (generated ids almost
never name one); no answer is a server error and every answer has a status, content type and body the document
gives for it. A fixed seed and a bounded number of examples keep the run reproducible and
short (schemathesis's lazy pytest plugin does not run under pytest 9.2, so the test drives the operations'
Hypothesis strategies itself)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from core import db
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from erp.demo import GROUPS
from erp.identity.permissions import ROLES
from erp.purchasing.models import PurchaseOrder, Requisition, Rfq, Supplier, SupplierInvoice
from erp.sales.models import Invoice, Quotation, SalesOrder
from tests.conftest import demo_data
from tests.webapp.test_api_support import token_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SEED = 20260302
EXAMPLES = settings(max_examples=8, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def engine(product_engine):
    """The app runs the product's processes, forms and operators (the demo data needs them)."""
    return product_engine


@pytest.fixture
def api_schema(app, database, product_engine):
    with db.transaction() as session:
        demo_data(session, product_engine)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def bearer(database, make_user) -> dict:
    make_user("fuzzer", roles=list(ROLES), groups=list(GROUPS))  # offered every group's tasks
    return {"Authorization": f"Bearer {token_for('fuzzer')}"}


#: the path's first segment -> the column whose values its {number} or {code} takes
NUMBERS = {"quotations": Quotation.number, "orders": SalesOrder.number, "invoices": Invoice.number,
           "requisitions": Requisition.number, "rfqs": Rfq.number, "purchase-orders": PurchaseOrder.number,
           "supplier-invoices": SupplierInvoice.number, "suppliers": Supplier.code}


def existing(session, path: str) -> dict:
    """Path parameters naming records of the demo data (the newest of each kind), for `path`."""
    first = path.strip("/").split("/")[0]
    if first == "tasks":
        return {"task_id": session.scalar(select(func.max(HumanTask.id)).where(  # a group task anyone may claim
            HumanTask.status == "open", HumanTask.assignee.is_(None)))}
    if first == "instances":
        return {"instance_id": session.scalar(select(func.max(ProcessInstance.id)))}
    if first == "definitions":
        key, version = session.execute(select(ProcessDefinition.key, ProcessDefinition.version)
                                       .order_by(ProcessDefinition.id.desc()).limit(1)).one()
        return {"key": key, "version": version}
    column = NUMBERS[first]
    value = session.scalar(select(func.max(column)))
    return {"code" if first == "suppliers" else "number": value}


def fuzz(operation, mode: GenerationMode, headers: dict, path_parameters: dict | None = None) -> None:
    """Up to EXAMPLES cases of one operation in one mode; the first failing check raises (shrunk by Hypothesis)."""

    @seed(SEED)
    @EXAMPLES
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def test_no_operation_answers_with_a_server_error_or_outside_its_document(api_schema, bearer):
    failures, operations = {}, 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        runs = {"positive": (GenerationMode.POSITIVE, None), "negative": (GenerationMode.NEGATIVE, None)}
        if "{" in operation.path:
            with db.transaction(readonly=True) as session:
                runs["positive, existing"] = (GenerationMode.POSITIVE, existing(session, operation.path))
        for name, (mode, path_parameters) in runs.items():
            try:
                fuzz(operation, mode, bearer, path_parameters)
            except Exception as exc:  # noqa: BLE001  (collected: one run reports every failing operation)
                failures[f"{operation.label} ({name})"] = str(exc)[:1500]
    assert failures == {}, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert operations >= 48
