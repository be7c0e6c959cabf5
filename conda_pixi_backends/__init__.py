"""Shared, pinned Pixi build backends for conda users and admins."""

__version__ = "0.1.0"
