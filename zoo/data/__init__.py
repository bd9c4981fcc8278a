"""Dataset loaders, one module per dataset; `sources()` lists what every module can fetch."""

from __future__ import annotations

import importlib
import pkgutil

from zoo.data.fetch import Archive, Source, default_data_dir, fetch, locate

__all__ = ["Archive", "Source", "default_data_dir", "fetch", "locate", "sources"]


def sources() -> list[Source]:
    """Every `Source` declared at module level in this package, ordered by name."""
    found: dict[str, Source] = {}
    for module in pkgutil.iter_modules(__path__):
        mod = importlib.import_module(f"{__name__}.{module.name}")
        for value in vars(mod).values():
            if isinstance(value, Source):
                found[value.name] = value
    return sorted(found.values(), key=lambda s: s.name)
