"""Commands beside the core: the git merge driver, export, docs tables, init."""
