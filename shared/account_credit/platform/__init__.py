"""The platform: the store engine, the HTTP edge and its one problem map, observability, settings,
payment-provider adapters and idempotency claims. It imports no capability package."""
