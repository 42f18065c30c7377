"""The console's screens: Applications (home), Application (one app), Changes (timeline)."""
