"""The operations board at /ops/: a live board per mall, interventions, audit trail, metrics.

- `services`  ops interventions that compose the existing services and write the audit trail;
- `selectors` the board, the audit trail (a read model over every history table) and metrics;
- `forms`, `views`, `urls` (namespace "ops").
"""
