"""Holds: part of the balance reserved for a coming renewal (see service.py)."""
