"""Scoped applications and cross-scope access policies."""
