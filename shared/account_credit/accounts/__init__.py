"""Accounts: open, read, details, settings, credit limit, adjustments, transactions."""
