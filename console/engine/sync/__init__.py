"""Sync: operations as Argo CD runs them: task planning (phase, wave, kind order), the executor state
machine, hooks, pruning, results and history, app deletion, and the operation Lease."""
