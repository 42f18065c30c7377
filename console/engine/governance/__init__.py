"""Governance: AppProject enforcement (destinations, kinds, source repositories) and sync windows."""
