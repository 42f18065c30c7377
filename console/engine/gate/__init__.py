"""The one entry point for "an actor attempts a mutation" (CLI, console, controller):
authorise -> windows / break-glass -> audit intent -> run -> audit result. See docs/governance.md."""

from console.engine.gate.attempt import Gate, GateResult, Outcome, Request, RunContext

__all__ = ["Gate", "GateResult", "Outcome", "Request", "RunContext"]
