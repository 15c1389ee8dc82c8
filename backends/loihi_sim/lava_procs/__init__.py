"""Custom Lava Processes of the loihi-sim backend.

Lava's model discovery executes every ``.py`` file in the folder of a Process's source file while it
compiles (``_find_proc_models``), so this folder holds only side-effect-free Process definitions.
"""
