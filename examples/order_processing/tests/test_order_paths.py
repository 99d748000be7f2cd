"""Every path of the order workflow, with its Lambda Tasks mocked: copy this file to test your
own workflow. Run it with ``pytest examples/order_processing/tests``.

The ``statewright`` fixture comes with statewright (a pytest plugin): nothing to import. Each
test runs the definition in this process, in well under a millisecond of engine time; a Task
that is not mocked calls the handler in ``../functions`` (here: Update Order Status).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
DEFINITION = HERE.parent / "definition.json"
FUNCTIONS = HERE.parent / "functions"
MOCK_CONFIG = HERE / "MockConfigFile.json"
ORDER = {"orderId": "order-1001"}

IN_STOCK = {"orderId": "order-1001", "inStock": True}
PAID = {"orderId": "order-1001", "paymentSuccessful": True}
#: What AWS's console adds to a Lambda Task for "retry on Lambda's transient errors".
LAMBDA_RETRY = [{
    "ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException",
                    "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
    "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2,
}]


@pytest.fixture
def orders(statewright: Any) -> Any:
    """The workflow, loaded once per test session; unmocked Tasks call ../functions."""
    return statewright.workflow(DEFINITION, handlers=FUNCTIONS, mock_config=MOCK_CONFIG,
                                name="OrderProcessing")


def test_in_stock_and_paid(orders: Any, statewright: Any) -> None:
    execution = orders.run(ORDER, mocks={
        "Check Inventory": statewright.result(IN_STOCK),
        "Process Payment": statewright.result(PAID),
    })
    execution.assert_succeeded({"orderId": "order-1001", "status": "Completed"})
    execution.assert_path("Check Inventory", "Is In Stock?", "Process Payment",
                          "Payment Successful?", "Update Order Status")


def test_out_of_stock(orders: Any, statewright: Any) -> None:
    execution = orders.run(ORDER, mocks={
        "Check Inventory": statewright.result({"orderId": "order-1001", "inStock": False})})
    execution.assert_failed("OutOfStockError", "Item is out of stock")
    execution.assert_path("Check Inventory", "Is In Stock?", "Out of Stock")


def test_payment_failed(orders: Any, statewright: Any) -> None:
    execution = orders.run(ORDER, mocks={
        "Check Inventory": statewright.result(IN_STOCK),
        "Process Payment": statewright.result({"orderId": "order-1001",
                                               "paymentSuccessful": False}),
    })
    execution.assert_failed("PaymentError", "Payment processing failed")
    assert execution.path[-1] == "Payment Failed"
    assert execution.invocations("Update Order Status") == 0


def test_a_transient_error_is_retried(statewright: Any) -> None:
    # The example definition has no Retry; deployed with AWS's recommended Lambda Retry, a
    # Lambda.ServiceException on the first payment attempt is retried and the order completes.
    definition = json.loads(DEFINITION.read_text())
    retrying = copy.deepcopy(definition)
    retrying["States"]["Process Payment"]["Retry"] = LAMBDA_RETRY
    orders = statewright.workflow(json.dumps(retrying), handlers=FUNCTIONS)
    execution = orders.run(ORDER, mocks={
        "Check Inventory": statewright.result(IN_STOCK),
        "Process Payment": [statewright.error("Lambda.ServiceException", "try again"),
                            statewright.result(PAID)],
    })
    execution.assert_succeeded({"orderId": "order-1001", "status": "Completed"})
    assert execution.invocations("Process Payment") == 2
    execution.assert_events("LambdaFunctionFailed", "LambdaFunctionScheduled",
                            "LambdaFunctionSucceeded")


def test_without_a_retry_a_transient_error_fails_the_order(orders: Any,
                                                           statewright: Any) -> None:
    execution = orders.run(ORDER, mocks={
        "Check Inventory": statewright.result(IN_STOCK),
        "Process Payment": statewright.error("Lambda.ServiceException", "try again"),
    })
    execution.assert_failed("Lambda.ServiceException", "try again")


@pytest.mark.parametrize(("case", "status", "last_state"), [
    ("InStockAndPaid", "SUCCEEDED", "Update Order Status"),
    ("OutOfStock", "FAILED", "Out of Stock"),
    ("PaymentFailed", "FAILED", "Payment Failed"),
    ("PaymentServiceHiccup", "FAILED", "Process Payment"),  # no Retry in the definition
])
def test_the_mock_config_test_cases(orders: Any, case: str, status: str,
                                    last_state: str) -> None:
    # The same paths from MockConfigFile.json, as Step Functions Local runs them:
    # `statewright run definition.json --mock-config tests/MockConfigFile.json --test-case X`.
    execution = orders.run(ORDER, test_case=case)
    assert execution.status == status
    assert execution.path[-1] == last_state
