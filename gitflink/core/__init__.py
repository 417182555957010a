"""Pure functions: parsing, validation, diffing, planning, rendering. No I/O, no clock, no env."""
