"""Job ids that read well in a terminal, as Azure ML's do (`sincere_lamp_x8z1t`)."""

from __future__ import annotations

import secrets

_ADJECTIVES = (
    "amber",
    "bold",
    "brave",
    "bright",
    "calm",
    "clever",
    "crisp",
    "eager",
    "gentle",
    "golden",
    "happy",
    "honest",
    "keen",
    "kind",
    "lively",
    "lucid",
    "mellow",
    "nimble",
    "polite",
    "proud",
    "quick",
    "quiet",
    "sharp",
    "shiny",
    "silver",
    "steady",
    "sunny",
    "swift",
    "tidy",
    "witty",
)
_NOUNS = (
    "apple",
    "badger",
    "brook",
    "cactus",
    "cloud",
    "comet",
    "coral",
    "falcon",
    "fern",
    "garden",
    "harbor",
    "island",
    "lamp",
    "lemon",
    "maple",
    "meadow",
    "otter",
    "pepper",
    "pine",
    "planet",
    "quartz",
    "river",
    "rocket",
    "sail",
    "spring",
    "stone",
    "tiger",
    "tulip",
    "violet",
    "willow",
)
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_job_id() -> str:
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{secrets.choice(_ADJECTIVES)}_{secrets.choice(_NOUNS)}_{suffix}"


def new_run_name() -> str:
    """A readable name for a run started without one (`brave-otter-42`), as MLflow names its runs."""
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000)}"
