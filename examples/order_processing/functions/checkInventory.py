"""Port of checkInventory.mjs: reports whether the order's item is in stock (90% of the time)."""

import random


def handler(event, context):
    print("Checking inventory for order:", event.get("orderId"))
    # Simulate inventory check
    in_stock = random.random() < 0.9
    return {"orderId": event.get("orderId"), "inStock": in_stock}
