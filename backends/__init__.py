"""Backends: each takes a (compiled) network and returns spikes. Only loihi_sim imports lava."""
