"""The ``probe`` kind: the ops inventory probe (ACTIVITY-WP-0009 T04's live evidence).

``spec`` is the definition's ``targets:`` section; ``workflow.steps`` is the kind's part of a
run; ``activities`` (with ``checks``) checks one target each; ``llm_smoke`` is the deep check
of llm-connect, also run by ``activity-core smoke llm-connect``; ``outcome`` judges a run.
"""
