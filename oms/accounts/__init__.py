"""Operators, roles (groups) with per-action permissions, and API tokens (P4)."""
