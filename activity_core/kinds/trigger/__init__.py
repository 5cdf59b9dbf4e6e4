"""The ``trigger`` kind: run another team's worker command durably, once per run.

``spec`` is the definition's ``command:`` section; ``workflow.steps`` is the kind's part of a
run and ``workflow.TriggerPassWorkflow`` the pass it starts; ``activities`` runs on
activity-core's worker, ``command_activity`` (with ``runner`` and ``capture``) on the command
worker on the command's side; ``outcome`` judges a pass. See
docs/adr/adr-006-trigger-placement.md.
"""
