"""Every rule of mlyard, once: CLI, SDK and REST API all call these."""
