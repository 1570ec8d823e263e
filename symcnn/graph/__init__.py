"""The layer graph, its one derivation pass, and the records it leaves on each node."""
