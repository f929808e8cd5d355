"""tutorial/: the chapters (Markdown) and ``python -m tutorial.figures``, their figures."""
