"""Development data for the demo county: `manage.py seed_demo`, and `demo_banner`.

The top layer: it builds through every app's models and services, and no app imports it, so
production code never depends on synthetic data (tests/test_layering.py checks both).
"""
