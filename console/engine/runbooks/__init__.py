"""Runbooks as data: the seed's production runbooks (§24) and a team's own, walked against one
Application with each question answered by a registered check over live evidence."""
