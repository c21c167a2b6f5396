"""Channel stock services: counters, allocation (C1), warehouse assignment."""
