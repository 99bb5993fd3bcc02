"""Auto top-up: when an account's balance falls below a level it chose, its default card is charged a chosen
amount, once per crossing, and the amount is credited as a card top-up (docs/PAYMENT_METHODS.md)."""
