"""Real clusters through the `kubernetes` client: the Cluster implementation (client), discovery,
the watch-based live-object cache, watch streams, and API errors mapped to the typed errors."""
