"""``lif`` -> ``spinnaker_lif`` (in progress)."""

from snnc.ir.errors import UnsupportedOnTarget


def quantize_population(population, incoming, dt, options):
    raise UnsupportedOnTarget("quantization for spinnaker is not available yet",
                              where=f"populations.{population.name}")
