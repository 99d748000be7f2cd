"""Port of updateOrderStatus.mjs: marks the order completed."""


def handler(event, context):
    print("Updating status for order:", event.get("orderId"))
    # Simulate order status update
    return {"orderId": event.get("orderId"), "status": "Completed"}
