"""Dojo's release toolkit: cut a release, extract notes, publish the Nix-built image."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
