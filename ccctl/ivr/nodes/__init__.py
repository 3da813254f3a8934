"""Node types of YAML call flows, one module per kind; NODE_TYPES maps `type:` to the class.

Imported lazily by the loader (the node modules import the run context, which imports flows).
"""
