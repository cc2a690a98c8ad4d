"""mam_torch: the PyTorch runtime for mam-studio graph files (see the README's "PyTorch runtime")."""
from .graph import Graph, GraphError, load_graph, parse_graph, weight_fingerprint
from .modules import GraphModule, init_weights

__all__ = ["Graph", "GraphError", "GraphModule", "init_weights", "load_graph", "parse_graph",
           "weight_fingerprint"]
__version__ = "0.1.0"
