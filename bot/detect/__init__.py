"""Detection: fuse observations into a verdict and run the incident state machine (pure)."""
