"""Readers' accounts and comments as pure rules: passwords, tokens, names, roles, comment markup, who may edit.

No I/O and no SQL: the store keeps users, sessions and comments; the web tier applies these rules to requests.
"""
