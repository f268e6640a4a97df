"""The happiness list's views: one module per area (ratings, evaluation, the list, the access log)."""
