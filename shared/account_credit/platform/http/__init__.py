"""HTTP edge: the resolver factory, the problem-details exception map and the principal."""
