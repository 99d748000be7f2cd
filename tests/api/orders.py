"""What AWS writes for the order workflow (examples/order_processing), per outcome."""

from __future__ import annotations

#: The definition's Lambda ARNs (account 211125437318, as in the seed).
LAMBDA = "arn:aws:lambda:us-east-1:211125437318:function:"
_TASK = ["TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
         "LambdaFunctionSucceeded", "TaskStateExited"]
_CHOICE = ["ChoiceStateEntered", "ChoiceStateExited"]
#: History event types by outcome (status, or the Fail state's error).
HISTORIES = {
    "SUCCEEDED": ["ExecutionStarted", *_TASK, *_CHOICE, *_TASK, *_CHOICE, *_TASK,
                  "ExecutionSucceeded"],
    "OutOfStockError": ["ExecutionStarted", *_TASK, *_CHOICE, "FailStateEntered",
                        "ExecutionFailed"],
    "PaymentError": ["ExecutionStarted", *_TASK, *_CHOICE, *_TASK, *_CHOICE, "FailStateEntered",
                     "ExecutionFailed"],
}
#: The Fail states' causes.
CAUSES = {"OutOfStockError": "Item is out of stock", "PaymentError": "Payment processing failed"}
