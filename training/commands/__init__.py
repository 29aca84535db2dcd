"""The training package's subcommands of ``tagger`` (registered as entry points)."""
