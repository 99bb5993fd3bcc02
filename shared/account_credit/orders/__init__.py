"""Orders: priced from the catalog, paid by one decision (balance, card, credit), cancelled once."""
