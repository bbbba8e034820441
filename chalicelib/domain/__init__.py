"""The domain: the graph and node model, validation, parameters, permissions. Pure: no AWS, no I/O."""
