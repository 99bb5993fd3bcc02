"""Purchase orders: an invoice on approval, funds released only as payments towards it arrive (docs/BILLING.md)."""
