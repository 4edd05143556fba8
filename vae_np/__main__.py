"""``python -m vae_np``: see :mod:`vae_np.cli`."""
import sys

from .cli import main

sys.exit(main())
