"""Partitioning, placement and routing onto a machine described by a HardwareSpec."""
