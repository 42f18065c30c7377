"""The tamper-evident audit chain in the control cluster (DESIGN.md §2): `record` (fields, canonical
JSON, hash), `chain` (append/read), `verify` (live and exports), `report`, `events`, `crd` (names)."""
