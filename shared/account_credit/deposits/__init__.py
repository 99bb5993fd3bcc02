"""Deposits: card top-ups through the payment provider and its signed webhooks."""
