"""Reports and tracking (O6, P2): read-only queries over the other contexts."""
