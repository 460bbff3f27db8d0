"""``portreg check``: scan every config file, compare with the registry, name each disagreement.

Data flow: ``scan`` (I/O: registry text, target scans, optional live
sockets) -> ``Facts`` (values) -> ``rules`` (pure, one function per code) ->
``Finding`` list -> ``formatters`` (text, json, github). ``repair`` plans
``reconcile`` and ``fix`` from the same Facts.
"""
