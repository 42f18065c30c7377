"""The cluster API the engine talks to: one Protocol (api.py), real clusters (kube/), the simulated\ncluster (sim/), and the list-map schema both share (schema.py)."""
