"""The kernel: money, ledger rules, ids and the clock, errors, the principal, the ledger's domain types."""
