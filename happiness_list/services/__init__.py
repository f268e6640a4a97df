"""The happiness list's services: one module per area (ratings, evaluation, the list, the access log)."""
