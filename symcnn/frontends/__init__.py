"""Front-ends that build networks: spec text and torch modules."""
