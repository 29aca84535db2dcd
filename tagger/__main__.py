"""``python -m tagger``: the ``tagger`` command (also what ``torchrun -m tagger train`` runs)."""

from tagger.cli import main

main()
