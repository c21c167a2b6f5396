"""Pure webhook logic: signing and verification, the retry schedule, the event envelope."""
