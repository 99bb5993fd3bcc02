"""Renewals: the daily schedule that renews subscriptions due, their holds, and the renewal-aware forecast."""
