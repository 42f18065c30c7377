"""Where an Application deploys: a cluster (by `server` URL or by `name`) and a namespace.

The same shape is an AppProject's allowed destination (patterns there), so the rules differ by
owner and live with them: an Application names exactly one of server/name (ApplicationSpec), a
project refuses the `!*` pattern (AppProjectSpec).
"""

from __future__ import annotations

from console.engine.model.base import Model, Str, model


@model
class ApplicationDestination(Model):
    server: Str = ""
    namespace: Str = ""
    name: Str = ""
