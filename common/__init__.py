"""Conventions every layer may use: the command line (:mod:`common.cli`) and atomic files
(:mod:`common.files`). Depends only on :mod:`collapse`."""
