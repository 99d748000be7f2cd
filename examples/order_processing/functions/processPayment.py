"""Port of processPayment.mjs: charges the order (succeeds 90% of the time)."""

import random


def handler(event, context):
    print("Processing payment for order:", event.get("orderId"))
    # Simulate payment processing
    payment_successful = random.random() < 0.9
    return {"orderId": event.get("orderId"), "paymentSuccessful": payment_successful}
