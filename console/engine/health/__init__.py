"""Health: built-in checks (one function per kind, modules by API group), the Lua runtime for
configured checks, and Application health aggregation (gitops-engine pkg/health)."""
