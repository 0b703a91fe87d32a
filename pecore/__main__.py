"""``python -m pecore`` runs the command line (:func:`pecore.cli.main`)."""
import sys

from .cli import main

sys.exit(main())
