"""Stock services: the only writers of stock counters and ledgers (see ``lock_objects`` for the lock order)."""
