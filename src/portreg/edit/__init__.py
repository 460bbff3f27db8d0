"""Byte-exact edits of config texts (pure: text in, text out)."""
