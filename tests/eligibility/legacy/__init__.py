"""The eligibility engine as it was before issue 9, frozen: the new engine must decide and explain alike.

A verbatim copy of eligibility/facts.py, outcome_facts.py and rules/ at commit 0ea2e42 (only the
imports of the age function and the standards' parameters point at production). Nothing in
production imports it; tests/eligibility/test_engine_pinned.py compares the two. Do not edit it to
follow a policy change: a deliberate change of decisions or reasons updates the pinning test.
"""
