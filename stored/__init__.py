"""pecore's committed results, shipped as the package data ``pecore._stored`` (see :mod:`pecore.stored`)."""
