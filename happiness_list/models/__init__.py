"""The happiness list's models: one module per model family."""
