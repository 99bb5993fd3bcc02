"""Catalog: certificate products and their prices per currency."""
