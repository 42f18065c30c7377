"""Controller: the reconcile loop, watch-driven refresh, auto-sync/self-heal decisions, the
heartbeat Lease and the structured log (Argo CD application controller)."""
