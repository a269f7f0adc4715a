"""The inventory operators called from a diagram through the engine: reserve, then deliver or release."""
from __future__ import annotations

import pytest

from engine import queries
from erp.inventory import tasks
from erp.inventory.queries import stock
from erp.inventory.services import receive
from erp.wiring import OPERATOR_MODULES
from tests.bpmn_text import process
from tests.stock_data import product, warehouse


def _operator(element_id, name, result, params, outgoing, incoming):
    parameters = "".join(f'<spiffworkflow:parameter id="{p}" type="any" value="{v}"/>' for p, v in params.items())
    return (f'<bpmn:serviceTask id="{element_id}"><bpmn:extensionElements>'
            f'<spiffworkflow:serviceTaskOperator id="{name}" resultVariable="{result}">'
            f'<spiffworkflow:parameters>{parameters}</spiffworkflow:parameters>'
            f'</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>'
            f'<bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing></bpmn:serviceTask>')


# start → reserve → ship (user task: ship_lines or cancel) → deliver | release → end
ORDER_STOCK = process("order_stock", (
    _operator("reserve", "inventory.reserve_stock", "reservation",
              {"reference": "order_ref", "lines": "lines", "warehouse": "warehouse"}, "f2", "f1")
    + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="reserve"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="reserve" targetRef="ship"/>'
    '<bpmn:userTask id="ship"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>'
    '<bpmn:sequenceFlow id="f3" sourceRef="ship" targetRef="choose"/>'
    '<bpmn:exclusiveGateway id="choose" default="to_deliver"><bpmn:incoming>f3</bpmn:incoming>'
    '<bpmn:outgoing>to_deliver</bpmn:outgoing><bpmn:outgoing>to_release</bpmn:outgoing></bpmn:exclusiveGateway>'
    '<bpmn:sequenceFlow id="to_deliver" sourceRef="choose" targetRef="deliver"/>'
    '<bpmn:sequenceFlow id="to_release" sourceRef="choose" targetRef="release">'
    '<bpmn:conditionExpression>cancel</bpmn:conditionExpression></bpmn:sequenceFlow>'
    + _operator("deliver", "inventory.deliver", "delivery", {"reference": "order_ref", "lines": "ship_lines"},
                "f4", "to_deliver")
    + _operator("release", "inventory.release_reservation", "release", {"reference": "order_ref"}, "f5",
                "to_release")
    + '<bpmn:sequenceFlow id="f4" sourceRef="deliver" targetRef="join"/>'
    '<bpmn:sequenceFlow id="f5" sourceRef="release" targetRef="join"/>'
    '<bpmn:exclusiveGateway id="join"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming>'
    '<bpmn:outgoing>f_end</bpmn:outgoing></bpmn:exclusiveGateway>'
    '<bpmn:sequenceFlow id="f_end" sourceRef="join" targetRef="end"/>'))


@pytest.fixture
def order_engine(operators, engine, tx):
    tasks.register(operators)
    with tx() as session:
        product(session, "SCREW")
        warehouse(session, "BJ")
        receive(session, "SCREW", "BJ", 10)
        engine.deploy(session, {"order_stock.bpmn": ORDER_STOCK})
    return engine


def _start(engine, tx, quantity, ref="sales_order:42"):
    with tx() as session:
        instance = engine.start(session, "order_stock", {"order_ref": ref, "warehouse": None,
                                                         "lines": [{"sku": "SCREW", "quantity": quantity}]})
        return queries.show(engine, session, instance.id)


def _ship(engine, tx, shown, **data):
    with tx() as session:
        engine.complete(session, shown["tasks"][0]["id"], data, "storekeeper")
        return queries.show(engine, session, shown["id"])


def test_the_operators_are_wired_into_the_product():
    assert "erp.inventory.tasks" in OPERATOR_MODULES


def test_reserve_then_deliver_part_of_the_order(order_engine, tx):
    shown = _start(order_engine, tx, 6)
    assert shown["data"]["reservation"] == {"reserved": True, "shortages": [],
                                            "lines": [{"sku": "SCREW", "warehouse": "BJ", "quantity": "6"}]}
    done = _ship(order_engine, tx, shown, cancel=False, ship_lines=[{"sku": "SCREW", "quantity": 2.5}])
    assert done["status"] == "completed"
    assert done["data"]["delivery"] == {"delivered": [{"sku": "SCREW", "warehouse": "BJ", "quantity": "2.5"}],
                                        "remaining": [{"sku": "SCREW", "quantity": "3.500"}]}
    with tx(readonly=True) as session:
        [row] = stock(session, "SCREW")
        assert (row.on_hand, row.reserved) == (7.5, 3.5)


def test_a_shortage_is_data_for_the_diagram_not_an_incident(order_engine, tx):
    shown = _start(order_engine, tx, 11)
    assert shown["status"] == "running" and shown["incidents"] == []
    assert shown["data"]["reservation"] == {"reserved": False, "lines": [], "shortages": [
        {"sku": "SCREW", "requested": "11", "available": "10.000", "short": "1.000"}]}


def test_cancelling_releases_the_reservation(order_engine, tx):
    shown = _start(order_engine, tx, 4)
    done = _ship(order_engine, tx, shown, cancel=True)
    assert done["data"]["release"] == {"released": [{"sku": "SCREW", "warehouse": "BJ", "quantity": "4.000"}]}
    with tx(readonly=True) as session:
        assert stock(session, "SCREW")[0].reserved == 0


def test_delivering_more_than_reserved_is_an_incident_and_writes_nothing(order_engine, tx):
    shown = _start(order_engine, tx, 2)
    failed = _ship(order_engine, tx, shown, cancel=False, ship_lines=[{"sku": "SCREW", "quantity": 3}])
    assert failed["status"] == "incident"
    assert failed["incidents"][0]["error_type"] == "InsufficientStock"
    with tx(readonly=True) as session:
        [row] = stock(session, "SCREW")
        assert (row.on_hand, row.reserved) == (10, 2)
