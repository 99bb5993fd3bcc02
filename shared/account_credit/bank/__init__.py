"""Bank transfers: payment references, proformas, incoming transfers and the suspense list."""
