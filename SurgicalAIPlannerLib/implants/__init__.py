"""Implant catalogs (JSON) and their parametric 3D geometry."""

from .catalog import (CATALOG_SCHEMA, CanalLevel, Cup, Head, HtoPlate, ImplantCatalog, ImplantCatalogError,
                      PedicleScrew, Stem, default_catalog_paths, load_catalog)

__all__ = ["CATALOG_SCHEMA", "CanalLevel", "Cup", "Head", "HtoPlate", "ImplantCatalog", "ImplantCatalogError",
           "PedicleScrew", "Stem", "default_catalog_paths", "load_catalog"]
