"""Pure channel-stock logic: standard library and oms.core only."""
