"""Renderers of billing documents: UBL e-invoices and PDFs (the documents layer)."""
