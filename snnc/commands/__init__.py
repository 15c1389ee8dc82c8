"""CLI commands, one module per command family; ``snnc/cli.py`` registers them."""
