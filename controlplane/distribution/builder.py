"""Bundle content from a region's desired state: a pure function over plain data.

Selectors gather the state (``selectors.region_state``); this module only shapes and checks it,
so the same input always gives the same content and the same digest.
"""

from dataclasses import dataclass, field

CONTENT_FORMAT = 1


class BundleContentError(ValueError):
    pass


@dataclass(frozen=True)
class RegionState:
    region: dict
    residency_rules: list[dict] = field(default_factory=list)
    data_stores: list[dict] = field(default_factory=list)
    special_categories: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    transfers: list[dict] = field(default_factory=list)
    models: list[dict] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)


def build_content(state: RegionState) -> dict:
    stores = sorted(state.data_stores, key=lambda s: s["name"])
    names = [s["name"] for s in stores]
    if len(set(names)) != len(names):
        raise BundleContentError("two data stores share a name")
    rules = sorted(state.residency_rules, key=lambda r: r["position"])
    positions = [r["position"] for r in rules]
    if len(set(positions)) != len(positions):
        raise BundleContentError("two residency rules share a position")
    for rule in rules:
        if rule.get("data_store") and rule["data_store"] not in names:
            raise BundleContentError(f"rule {rule['position']} names an unknown data store")
    return {
        "format": CONTENT_FORMAT,
        "region": dict(state.region),
        "residency_rules": rules,
        "data_stores": stores,
        "retention": {s["name"]: s["retention_days"] for s in stores},
        "special_categories": sorted(set(state.special_categories)),
        "categories": sorted(set(state.categories)),
        "transfers": sorted(state.transfers, key=lambda t: str(t["id"])),
        "models": sorted(state.models, key=lambda m: (m["name"], str(m["version"]))),
        "metrics": dict(state.metrics),
    }
