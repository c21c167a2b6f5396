"""The operator console: server-rendered pages with htmx, role-aware navigation."""
