"""The engine: starts runs and moves run, node and wait statuses; the only layer that changes them."""
