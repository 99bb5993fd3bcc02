"""Reconciliation: the nightly check that every touched account adds up (docs/RECONCILIATION.md)."""
