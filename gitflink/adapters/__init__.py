"""The only I/O: one adapter per port. Adapters depend on ports and model only."""
