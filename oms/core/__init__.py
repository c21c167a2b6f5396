"""Shared kernel: money in minor units, the one apportion function, errors, request context, regions."""
