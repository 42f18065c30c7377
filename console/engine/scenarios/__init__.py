"""Incident drills on sim workspaces: each scenario injects one failure of the seed's failure model
through the interfaces real actors use (a Git commit, a live edit by a named field manager, an
admission policy, a quota, an image the registry lacks), and `reset` puts the demo back exactly."""
