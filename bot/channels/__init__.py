"""Channel adapters: they only translate between a channel and the gateway."""
