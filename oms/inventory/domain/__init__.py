"""Pure stock logic: standard library and oms.core only, frozen dataclasses in and out."""
