"""Task emission, for any definition kind: task specs, their business keys, the sinks
(``null``, ``dry_run``, ``rest``) and the engine that emits a run's specs exactly once.

A kind builds a ``SpecBatch`` from its own results; ``TaskEmitter.emit`` writes it to the
``task_spawn_log`` outbox and hands each spec to the sink the deployment allows.
"""
