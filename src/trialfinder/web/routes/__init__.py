"""The website's routes, one module per kind of page."""
