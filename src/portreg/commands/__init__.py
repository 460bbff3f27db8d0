"""One module per command: what it takes, ``run(...) -> result`` and ``render(...)``.

``cli`` only parses argv, calls ``run`` and prints what ``render`` returns; a
command's module never prints and never parses argv.
"""
