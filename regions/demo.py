"""The demo estate: five regions in four jurisdictions, with people for every role."""

from django.contrib.auth import get_user_model
from django.db import transaction
from guardian.shortcuts import assign_perm

from controlplane.audit.actors import Actor
from controlplane.audit.context import acting_as
from controlplane.audit.services import record_event
from controlplane.permissions import Role, ensure_role_groups
from regions.models import (
    Country,
    DataCategory,
    DataStore,
    InferenceEndpoint,
    Jurisdiction,
    KeyReference,
    Region,
    ResidencyRule,
)
from regions.services import estate_object_save

DEMO_PASSWORD = "sovereign-demo"

REGIONS = [
    # slug, name, jurisdiction, country, provider, cloud region
    ("eu-central", "EU Central (Frankfurt)", "EEA", "DE", "aws", "eu-central-1"),
    ("eu-west", "EU West (Amsterdam)", "EEA", "NL", "azure", "westeurope"),
    ("uk-south", "UK South (London)", "GB", "GB", "azure", "uksouth"),
    ("us-east", "US East (N. Virginia)", "US", "US", "aws", "us-east-1"),
    ("ap-northeast", "Asia Pacific (Tokyo)", "JP", "JP", "aws", "ap-northeast-1"),
]

AWS_ACCOUNT = "111122223333"
KEY_IDS = {
    "eu-central": "0f6a3c1e-5b7d-4e2a-9c8b-1d2e3f4a5b6c",
    "us-east": "7c2d9e4f-1a3b-4c5d-8e6f-9a0b1c2d3e4f",
    "ap-northeast": "3e8f1a2b-6c4d-4e5f-a7b8-c9d0e1f2a3b4",
}
AZURE_VAULTS = {"eu-west": "kv-cp-westeurope", "uk-south": "kv-cp-uksouth"}

# Which roles see which regions, and what DPOs may decide there.
PEOPLE = [
    # username, role, regions with view, regions with approve rights
    ("admin", None, [], []),
    ("dpo-eu", Role.DPO, ["eu-central", "eu-west"], ["eu-central", "eu-west"]),
    # A second DPO for eu-central, so four eyes can be shown end to end: one drafts, one decides.
    ("dpo-eu-2", Role.DPO, ["eu-central"], ["eu-central"]),
    ("dpo-uk", Role.DPO, ["uk-south"], ["uk-south"]),
    ("dpo-us", Role.DPO, ["us-east", "ap-northeast"], ["us-east", "ap-northeast"]),
    ("ml-engineer", Role.ML_ENGINEER, [r[0] for r in REGIONS], []),
    ("requester", Role.REQUESTER, ["eu-central", "eu-west", "us-east"], []),
    ("auditor", Role.AUDITOR, [], []),
]

SEED = Actor.system("seed_demo")


def ensure(model, lookup: dict, values: dict):
    """Create or update one row through the audited service; unchanged rows are left alone."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        return estate_object_save(instance=model(**lookup, **values), by=SEED)
    changed = False
    for field, value in values.items():
        current = getattr(instance, field)
        if current != value:
            setattr(instance, field, value)
            changed = True
    if changed:
        estate_object_save(instance=instance, by=SEED)
    return instance


def seed() -> None:
    """Idempotent. One transaction, so the bundles and the routing table are rebuilt once at
    the commit, not after each of the forty-odd objects."""
    with transaction.atomic():
        _seed()


def _seed() -> None:
    jurisdictions = {
        j.code: j for j in Jurisdiction.objects.filter(code__in=["EEA", "GB", "US", "JP"])
    }
    countries = {
        c.code: c for c in Country.objects.filter(code__in=["DE", "NL", "GB", "US", "JP", "FR"])
    }
    categories = {c.key: c for c in DataCategory.objects.all()}
    regions = {}
    for slug, name, jurisdiction, country, provider, cloud_region in REGIONS:
        regions[slug] = ensure(
            Region,
            {"slug": slug},
            {
                "name": name,
                "jurisdiction": jurisdictions[jurisdiction],
                "country": countries[country],
                "provider": provider,
                "cloud_region": cloud_region,
            },
        )
    for region in regions.values():
        _seed_region(region, categories, countries)
    _seed_people(regions)


def _seed_region(region, categories, countries) -> None:
    if region.provider == "aws":
        uri = f"arn:aws:kms:{region.cloud_region}:{AWS_ACCOUNT}:key/{KEY_IDS[region.slug]}"
    else:
        uri = f"https://{AZURE_VAULTS[region.slug]}.vault.azure.net/keys/data-at-rest"
    key = ensure(KeyReference, {"region": region, "name": "data-at-rest"}, {"uri": uri})
    customers = ensure(
        DataStore,
        {"region": region, "name": "customer-db"},
        {
            "kind": DataStore.Kind.POSTGRESQL,
            "location_uri": f"postgres://customers.{region.slug}.internal/customers",
            "retention_days": 2555,
            "key": key,
        },
    )
    events = ensure(
        DataStore,
        {"region": region, "name": "event-lake"},
        {
            "kind": DataStore.Kind.OBJECT_STORE,
            "location_uri": f"s3://events-{region.slug}/raw"
            if region.provider == "aws"
            else f"abfss://events@{region.slug.replace('-', '')}lake.dfs.core.windows.net/raw",
            "retention_days": 90,
            "key": key,
        },
    )
    ensure(
        InferenceEndpoint,
        {"region": region, "name": "scoring"},
        {"url": f"https://inference.{region.slug}.example.com/v1/score"},
    )
    home = region.jurisdiction
    rules = [
        # Health records of the region's own people land in the customer database.
        ({"data_category": categories["user.health_and_medical"]}, home, customers),
        ({"contract_tag": "telemetry"}, home, events),
        ({}, home, customers),
    ]
    if region.jurisdiction.code == "EEA":
        # Records about UK residents belong in the UK, whatever EU region receives them.
        rules.insert(
            0, ({"subject_country": countries["GB"]}, Jurisdiction.objects.get(code="GB"), None)
        )
    if region.jurisdiction.code == "GB":
        rules.insert(
            0, ({"subject_country": countries["DE"]}, Jurisdiction.objects.get(code="EEA"), None)
        )
        rules.insert(
            1, ({"subject_country": countries["FR"]}, Jurisdiction.objects.get(code="EEA"), None)
        )
    for position, (conditions, home_jurisdiction, store) in enumerate(rules, start=1):
        ensure(
            ResidencyRule,
            {"region": region, "position": position},
            {
                "subject_country": conditions.get("subject_country"),
                "data_category": conditions.get("data_category"),
                "contract_tag": conditions.get("contract_tag", ""),
                "home_jurisdiction": home_jurisdiction,
                "data_store": store,
            },
        )


def _seed_people(regions) -> None:
    User = get_user_model()
    groups = ensure_role_groups()
    for username, role, viewable, approvable in PEOPLE:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, email=f"{username}@demo.invalid", is_active=True)
            if username == "admin":
                user.is_superuser = user.is_staff = True
            user.set_password(DEMO_PASSWORD)
            user.save()
            record_event(
                actor=SEED, action="user.created", obj=user, data={"role": role or "administrator"}
            )
        if role and not user.groups.filter(name=role).exists():
            with acting_as(SEED):
                user.groups.add(groups[role])  # audited by regions.signals
        for slug in viewable:
            _grant(user, "view_region", regions[slug])
        for slug in approvable:
            _grant(user, "approve_transfers", regions[slug])
            _grant(user, "approve_deployments", regions[slug])


def _grant(user, codename: str, region) -> None:
    if user.has_perm(f"regions.{codename}", region):
        return
    with acting_as(SEED):
        assign_perm(f"regions.{codename}", user, region)  # audited by regions.signals
