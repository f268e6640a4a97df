"""The happiness list's selectors: one module per area (ratings, evaluation, the list, the access log)."""
