"""The one entry point for "an actor attempts a mutation" (CLI, console, controller):
authorise -> windows / break-glass -> audit intent -> run -> audit result (`attempt`), the
mutations written on it (`actions`), and who acts under which policy (`identity`, `policy`).
See docs/governance.md."""
