"""snnc's compiler: passes from IR to IR (quantization) and the mapping onto hardware."""
