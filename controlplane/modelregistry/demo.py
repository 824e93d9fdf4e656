"""Demo models for ``seed_demo``: regional fraud scoring per region, a federated global model,
and a support-intent model transfer-learned from a synthetic base. Idempotent.

Everything goes through the services (audited), acting as the demo ML engineer and DPOs.
"""

import hashlib

from django.contrib.auth import get_user_model

from controlplane.modelregistry import services
from controlplane.modelregistry.models import DeploymentApproval, MLModel, ModelVersion
from regions.models import DataCategory, Jurisdiction, Region

DPO_FOR = {
    "eu-central": "dpo-eu",
    "eu-west": "dpo-eu",
    "uk-south": "dpo-uk",
    "us-east": "dpo-us",
    "ap-northeast": "dpo-us",
}
FRAUD_CATEGORIES = ["user.financial", "user.behavior.purchase_history", "user.device.ip_address"]


def demo_digest(name: str, version: str) -> str:
    return "sha256:" + hashlib.sha256(f"demo:{name}:{version}".encode()).hexdigest()


def artifact_uri(region: Region, name: str, version: str) -> str:
    if region.provider == "azure":
        account = "cpmodels" + region.slug.replace("-", "")
        return f"https://{account}.blob.core.windows.net/models/{name}/{version}/model.tar.gz"
    return f"s3://cp-models-{region.slug}/{name}/{version}/model.tar.gz"


def _model(name, purpose, team, by):
    model = MLModel.objects.filter(name=name).first()
    return model or services.model_create(name=name, purpose=purpose, owner_team=team, by=by)


def _version(model, version, *, by, regions, **lineage):
    existing = ModelVersion.objects.filter(model=model, version=version).first()
    if existing is not None:
        return existing
    return services.version_register(
        model=model,
        version=version,
        digest=demo_digest(model.name, version),
        artifacts={r: artifact_uri(r, model.name, version) for r in regions},
        by=by,
        **lineage,
    )


def _deploy(version, region, *, by, approver=None, confirmed=()):
    approval = (
        DeploymentApproval.objects.filter(version=version, region=region)
        .order_by("-requested_at")
        .first()
    )
    if approval is None:
        approval = services.deployment_request(
            version=version,
            region=region,
            by=by,
            justification=f"Demo: run {version} in {region.slug}.",
        )
    if approver is not None and approval.status == DeploymentApproval.Status.REQUESTED:
        if approval.policy_allowed:
            approval = services.deployment_approve(
                approval=approval, by=approver, note="Demo approval.", confirmed=confirmed
            )
    return approval


def seed() -> None:
    User = get_user_model()
    people = {
        u.username: u for u in User.objects.filter(username__in=["ml-engineer", *DPO_FOR.values()])
    }
    ml = people["ml-engineer"]
    regions = {r.slug: r for r in Region.objects.select_related("jurisdiction")}
    jurisdictions = {
        j.code: j for j in Jurisdiction.objects.filter(code__in=["EEA", "GB", "US", "JP"])
    }
    categories = {c.key: c for c in DataCategory.objects.filter(key__startswith="user.")}

    # 1. Regional fraud scoring: one version per region, trained there on its own customers.
    fraud = _model(
        "fraud-scoring",
        "Scores card payments for fraud, trained per region on that region's transactions.",
        "Payments risk",
        ml,
    )
    for slug, region in sorted(regions.items()):
        if slug not in DPO_FOR:
            continue
        v = _version(
            fraud,
            f"1.0.0-{slug}",
            by=ml,
            regions=[region],
            framework="xgboost 2.1",
            metrics={"auc": 0.912, "precision_at_1pct": 0.71},
            training_mode="regional",
            contains_personal_data=True,
            training_jurisdictions=[region.jurisdiction],
            data_categories=[categories[k] for k in FRAUD_CATEGORIES],
        )
        _deploy(v, region, by=ml, approver=people[DPO_FOR[slug]])
    # A newer eu-central version: 1.0.0 stays approved as the rollback target.
    newer = _version(
        fraud,
        "1.1.0-eu-central",
        by=ml,
        regions=[regions["eu-central"], regions["eu-west"]],
        framework="xgboost 2.1",
        metrics={"auc": 0.927, "precision_at_1pct": 0.74},
        training_mode="regional",
        contains_personal_data=True,
        training_jurisdictions=[jurisdictions["EEA"]],
        data_categories=[categories[k] for k in FRAUD_CATEGORIES],
    )
    _deploy(newer, regions["eu-central"], by=ml, approver=people["dpo-eu"])
    # The same EEA-trained weights asked for in us-east: blocked without a covering transfer.
    _deploy(newer, regions["us-east"], by=ml)

    # 2. A federated global model: only parameters crossed borders.
    global_model = _model(
        "fraud-global",
        "A global fraud model aggregated by federated averaging from every region's updates.",
        "Payments risk",
        ml,
    )
    federated = _version(
        global_model,
        "1.0.0",
        by=ml,
        regions=list(regions.values()),
        framework="pytorch 2.4 (flower 1.11)",
        metrics={"auc": 0.934},
        training_mode="federated",
        contains_personal_data=True,
        training_jurisdictions=list(jurisdictions.values()),
        data_categories=[categories[k] for k in FRAUD_CATEGORIES],
        participating_regions=list(regions.values()),
    )
    _deploy(
        federated,
        regions["eu-central"],
        by=ml,
        approver=people["dpo-eu"],
        confirmed=["FEDERATED_CONFIRM_PARAMETERS_ONLY"],
    )
    _deploy(federated, regions["us-east"], by=ml)

    # 3. Transfer learning from a synthetic base.
    intent = _model(
        "support-intent",
        "Classifies support tickets by intent; the base was trained on synthetic tickets.",
        "Customer care ML",
        ml,
    )
    base = _version(
        intent,
        "0.9.0-synthetic",
        by=ml,
        regions=list(regions.values()),
        framework="transformers 4.44",
        metrics={"macro_f1": 0.81},
        training_mode="synthetic",
        contains_personal_data=False,
    )
    tuned = _version(
        intent,
        "1.0.0-eu",
        by=ml,
        regions=[regions["eu-central"], regions["eu-west"]],
        framework="transformers 4.44",
        metrics={"macro_f1": 0.88},
        training_mode="transfer",
        base_version=base,
        contains_personal_data=True,
        training_jurisdictions=[jurisdictions["EEA"]],
        data_categories=[categories["user.content.private"], categories["user.contact.email"]],
    )
    for slug in ("us-east", "ap-northeast"):
        _deploy(base, regions[slug], by=ml, approver=people[DPO_FOR[slug]])
    for slug in ("eu-central", "eu-west"):
        _deploy(tuned, regions[slug], by=ml, approver=people[DPO_FOR[slug]])
