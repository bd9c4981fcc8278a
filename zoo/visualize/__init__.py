"""Drawings of what models learned (matplotlib `Figure` objects only: importing this changes no backend)."""
