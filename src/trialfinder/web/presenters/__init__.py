"""Presenters: turn the domain model and search results into plain view data for the templates."""
