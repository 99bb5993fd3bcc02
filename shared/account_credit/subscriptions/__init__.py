"""Subscriptions: certificate inventory per term, backdated and prorated starts, suspend and reactivate."""
