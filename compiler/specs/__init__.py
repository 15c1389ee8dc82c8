"""Built-in hardware specs (YAML), loaded by ``snnc.compiler.hardware.load_hardware``."""
