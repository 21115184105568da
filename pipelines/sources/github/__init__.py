"""The live GitHub source (PyGithub): settings, queries, client and helpers."""
