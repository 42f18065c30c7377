"""Named, registered check functions that answer runbook questions from live facts."""
