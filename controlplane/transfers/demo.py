"""Demo data for the transfer register; ``manage.py seed_demo`` calls ``seed()``. Idempotent."""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from controlplane.audit.actors import Actor
from controlplane.transfers import policy as p
from controlplane.transfers import services
from controlplane.transfers.models import Mechanism, Party, TransferRecord, TransferRequest
from regions.models import Country, DataCategory, Jurisdiction, Region

SEED = Actor.system("seed_demo")

PARTIES = [
    # name, country, role, certifications, hints
    ("Acme Europe GmbH", "DE", "controller", [], [p.HINT_COMMERCIAL]),
    ("Acme Netherlands B.V.", "NL", "controller", [], [p.HINT_COMMERCIAL]),
    ("Acme UK Ltd", "GB", "controller", [], [p.HINT_COMMERCIAL]),
    ("Acme Inc", "US", "controller", [], [p.HINT_COMMERCIAL]),
    (
        "Cloudy Compute Inc",
        "US",
        "processor",
        [p.CERT_EU_US_DPF, p.CERT_UK_US_DATA_BRIDGE],
        [p.HINT_COMMERCIAL],
    ),
    ("Sakura Analytics KK", "JP", "processor", [], [p.HINT_COMMERCIAL]),
    ("Bangalore Labelling Pvt Ltd", "IN", "processor", [], [p.HINT_COMMERCIAL]),
    # Nobody recorded whether PIPEDA applies to it: the Canadian decision's scope becomes a
    # condition the approving DPO confirms (issue 17).
    ("Maple Support Inc", "CA", "processor", [], []),
]


def _party(name, country, role, certs, hints):
    party = Party.objects.filter(name=name, country__code=country).first()
    if party is None:
        from regions.services import estate_object_save

        party = estate_object_save(
            instance=Party(
                name=name,
                country=Country.objects.get(code=country),
                role=role,
                certifications=certs,
                hints=hints,
            ),
            by=SEED,
        )
    return party


def _mechanism(key, categories=None, members=None, **values):
    existing = Mechanism.objects.filter(key=key).first()
    if existing is not None:
        return existing
    return services.mechanism_save(
        mechanism=Mechanism(key=key, **values), by=SEED, categories=categories, members=members
    )


def seed() -> None:
    services.reference_mechanisms_sync(by=SEED)
    parties = {row[0]: _party(*row) for row in PARTIES}
    today = timezone.localdate()
    eea = Jurisdiction.objects.get(code="EEA")
    contact = list(DataCategory.objects.filter(key__in=["user.contact", "user.name"]))
    _mechanism(
        "scc-acme-eu-bangalore",
        kind=p.KIND_SCC,
        name="SCCs Acme Europe / Bangalore Labelling",
        reference="DPA-2025-114",
        valid_from=date(2025, 2, 1),
        review_on=date(2027, 2, 1),
        exporter=parties["Acme Europe GmbH"],
        importer=parties["Bangalore Labelling Pvt Ltd"],
        module=2,
        tia_on=today - timedelta(days=120),
        tia_outcome=p.TIA_SUPPLEMENTARY_MEASURES,
        annex_reference="Annex I.B v3",
        categories=contact,
    )
    _mechanism(
        "scc-acme-eu-sakura",
        kind=p.KIND_SCC,
        name="SCCs Acme Europe / Sakura Analytics",
        reference="DPA-2024-077",
        valid_from=date(2024, 5, 1),
        exporter=parties["Acme Europe GmbH"],
        importer=parties["Sakura Analytics KK"],
        module=2,
        tia_on=today - timedelta(days=350),  # lapses within the warning window
        tia_outcome=p.TIA_NO_CONCERNS,
    )
    _mechanism(
        "idta-acme-uk-bangalore",
        kind=p.KIND_IDTA,
        name="IDTA Acme UK / Bangalore Labelling",
        reference="IDTA-2024-09",
        valid_from=date(2024, 9, 1),
        exporter=parties["Acme UK Ltd"],
        importer=parties["Bangalore Labelling Pvt Ltd"],
        tia_on=today - timedelta(days=60),
        tia_outcome=p.TIA_NO_CONCERNS,
    )
    _mechanism(
        "bcr-acme-group",
        kind=p.KIND_BCR,
        name="Acme group controller BCRs",
        reference="BCR-C DE-2019-03",
        valid_from=date(2019, 3, 15),
        review_on=today + timedelta(days=20),
        from_jurisdiction=eea,
        group="Acme group",
        bcr_type=p.CONTROLLER,
        lead_authority="BfDI (Germany)",
        edpb_opinion="EDPB Opinion 07/2019",
        tia_on=today - timedelta(days=90),
        tia_outcome=p.TIA_NO_CONCERNS,
        categories=contact,
        members=[
            parties["Acme Europe GmbH"],
            parties["Acme Netherlands B.V."],
            parties["Acme Inc"],
        ],
    )
    _seed_requests(parties)


def _seed_requests(parties) -> None:
    User = get_user_model()
    requester = User.objects.filter(username="requester").first()
    dpo = User.objects.filter(username="dpo-eu").first()
    regions = {r.slug: r for r in Region.objects.all()}
    if requester is None or dpo is None or "eu-central" not in regions:
        return
    cats = {c.key: c for c in DataCategory.objects.all()}
    email, name = cats["user.contact.email"], cats["user.name"]
    health = cats.get("user.health_and_medical")
    demo = [
        (
            "Demo: customer support tickets handled by Cloudy Compute in us-east",
            dict(
                source_region=regions["eu-central"],
                destination_region=regions["us-east"],
                exporter=parties["Acme Europe GmbH"],
                importer=parties["Cloudy Compute Inc"],
                data_categories=[email, name],
                data_subjects="customers",
                frequency=p.RECURRING,
                volume_estimate=250_000,
            ),
            "submit",
        ),
        (
            "Demo: label training images with Bangalore Labelling",
            dict(
                source_region=regions["eu-central"],
                destination_country=Country.objects.get(code="IN"),
                exporter=parties["Acme Europe GmbH"],
                importer=parties["Bangalore Labelling Pvt Ltd"],
                data_categories=[email, name],
                data_subjects="customers",
                frequency=p.RECURRING,
                volume_estimate=40_000,
            ),
            "approve",
        ),
        (
            "Demo: route support chats to Maple Support in Canada",
            dict(
                source_region=regions["eu-central"],
                destination_country=Country.objects.get(code="CA"),
                exporter=parties["Acme Europe GmbH"],
                importer=parties["Maple Support Inc"],
                data_categories=[email, name],
                data_subjects="customers",
                frequency=p.RECURRING,
                volume_estimate=12_000,
            ),
            "submit",
        ),
        (
            "Demo: share clinical study records with Bangalore Labelling",
            dict(
                source_region=regions["eu-west"],
                destination_country=Country.objects.get(code="IN"),
                exporter=parties["Acme Netherlands B.V."],
                importer=parties["Bangalore Labelling Pvt Ltd"],
                data_categories=[name] + ([health] if health else []),
                data_subjects="study participants",
                frequency=p.RECURRING,
                volume_estimate=3_000,
            ),
            "submit",
        ),
    ]
    for purpose, values, step in demo:
        if TransferRequest.objects.filter(purpose=purpose).exists():
            continue
        tr = services.transfer_request_create(by=requester, purpose=purpose, submit=True, **values)
        if step == "approve" and tr.policy_allowed:
            tr = services.transfer_request_approve(
                request=tr, by=dpo, conditions="Pseudonymise names before export."
            )
            services.transfer_record_create(
                by=SEED,
                source_region=tr.source_region,
                destination_country=tr.destination_country,
                categories=["user.contact.email"],
                volume=1200,
                executed_at=timezone.now() - timedelta(hours=3),
                idempotency_key="demo-record-1",
            )
    if not TransferRecord.objects.filter(idempotency_key="demo-violation-1").exists():
        services.transfer_record_create(
            by=SEED,
            source_region=regions["eu-west"],
            destination_country=Country.objects.get(code="US"),
            categories=["user.contact.email"],
            volume=75,
            executed_at=timezone.now() - timedelta(hours=1),
            idempotency_key="demo-violation-1",
        )
