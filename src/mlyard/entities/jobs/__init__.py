"""Jobs and their specs: command, pipeline (graph, bindings, resolved), sweep, parallel; experiments
and run search."""
