"""Renderers of issued billing documents: each takes a ``billing.document.Document`` and nothing else."""
