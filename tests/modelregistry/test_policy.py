"""The pure cross-border check, one lineage case at a time (no database)."""

import pytest

from controlplane.modelregistry.policy import (
    CoveringTransfer,
    DeploymentFacts,
    LineageStep,
    evaluate_deployment,
)
from controlplane.transfers.policy import BLOCKING, CONDITION, INFO, WARNING, Finding

REGIONS = {"eu-central": "EEA", "eu-west": "EEA", "uk-south": "GB", "us-east": "US"}


def regional(label, j="EEA", cats=("user.financial",)):
    return LineageStep(label, "regional", {j}, set(cats), True)


def synthetic(label):
    return LineageStep(label, "synthetic")


def transfer(label, *, personal=False, j=(), cats=()):
    return LineageStep(label, "transfer", set(j), set(cats), personal)


def check(chain, region, transfers=(), **kw):
    facts = DeploymentFacts(
        chain=tuple(chain), target_region=region, target_jurisdiction=REGIONS[region], **kw
    )
    return evaluate_deployment(facts, transfers)


def eea_to_us(cats=("user.financial",), ref="TR-1", source_j="EEA", dest="us-east"):
    return CoveringTransfer(ref, "eu-central", source_j, dest, frozenset(cats))


def test_findings_are_the_transfer_engines_dataclass():
    decision = check([regional("fraud 1")], "eu-west")
    assert all(type(f) is Finding for f in decision.findings)
    assert decision.as_dict()["findings"][0].keys() == {"code", "severity", "message"}


def test_regional_eea_model_to_an_eea_region_is_allowed():
    decision = check([regional("fraud 1")], "eu-west")
    assert decision.allowed
    assert decision.codes == ("SAME_JURISDICTION",)
    assert "stays in EEA" in decision.findings[0].message


def test_regional_eea_model_to_us_east_without_a_transfer_is_blocked():
    decision = check(
        [regional("fraud 1", cats=("user.financial", "user.contact.email"))], "us-east"
    )
    assert not decision.allowed
    assert decision.codes == ("NO_COVERING_TRANSFER",)
    finding = decision.blocking[0]
    assert finding.severity == BLOCKING
    assert "from EEA" in finding.message and "us-east" in finding.message
    assert "user.contact.email" in finding.message


def test_regional_eea_model_to_us_east_with_a_covering_transfer_is_allowed():
    decision = check([regional("fraud 1")], "us-east", [eea_to_us()])
    assert decision.allowed
    assert decision.codes == ("TRANSFER_COVERS",)
    assert "TR-1" in decision.findings[0].message


def test_a_parent_category_in_the_transfer_covers_its_children():
    chain = [regional("fraud 1", cats=("user.financial.bank_account",))]
    assert check(chain, "us-east", [eea_to_us(cats=("user.financial",))]).allowed


@pytest.mark.parametrize(
    "transfer, why",
    [
        (eea_to_us(cats=("user.contact.email",)), "other categories"),
        (eea_to_us(dest="uk-south"), "another destination"),
        (eea_to_us(source_j="GB"), "another origin"),
    ],
)
def test_a_transfer_that_does_not_cover_the_route_or_categories_does_not_count(transfer, why):
    decision = check([regional("fraud 1")], "us-east", [transfer])
    assert not decision.allowed, why
    assert "NO_COVERING_TRANSFER" in decision.codes


def test_a_partial_transfer_is_named_with_what_it_misses():
    chain = [regional("fraud 1", cats=("user.financial", "user.contact.email"))]
    decision = check(chain, "us-east", [eea_to_us(cats=("user.financial",), ref="TR-7")])
    assert not decision.allowed
    assert "TR-7" in decision.blocking[0].message
    assert "do not cover: user.contact.email" in decision.blocking[0].message


def test_synthetic_base_chain_goes_anywhere():
    chain = [
        transfer("intent 3", personal=False),
        transfer("intent 2", personal=False),
        synthetic("intent 1"),
    ]
    for region in REGIONS:
        decision = check(chain, region)
        assert decision.allowed, region
        assert decision.codes == ("NO_PERSONAL_DATA_IN_LINEAGE",)
    assert "3 versions" in decision.findings[0].message
    assert "synthetic" in decision.findings[0].message


def test_a_transfer_model_follows_the_chain_to_personal_data_two_levels_down():
    chain = [
        transfer("intent 3", personal=False),  # fine-tuned on public data
        transfer("intent 2", personal=False),  # fine-tuned on public data
        regional("intent 1", j="EEA", cats=("user.content.private",)),  # held personal data
    ]
    decision = check(chain, "us-east")
    assert not decision.allowed
    assert decision.codes == ("NO_COVERING_TRANSFER",)
    assert "intent 1" in decision.blocking[0].message
    assert decision.personal_jurisdictions == {"EEA"}
    # ... and the same chain may run in its own jurisdiction, or with a covering transfer.
    assert check(chain, "eu-west").allowed
    covering = eea_to_us(cats=("user.content",))
    assert check(chain, "us-east", [covering]).allowed


def test_categories_from_every_step_in_one_jurisdiction_must_be_covered():
    chain = [
        transfer("v2", personal=True, j={"EEA"}, cats={"user.contact.email"}),
        regional("v1", j="EEA", cats=("user.financial",)),
    ]
    assert not check(chain, "us-east", [eea_to_us(cats=("user.financial",))]).allowed
    both = eea_to_us(cats=("user.financial", "user.contact.email"))
    assert check(chain, "us-east", [both]).allowed


def test_each_foreign_jurisdiction_in_the_lineage_needs_its_own_transfer():
    chain = [
        transfer("v2", personal=True, j={"GB"}, cats={"user.financial"}),
        regional("v1", j="EEA"),
    ]
    decision = check(chain, "us-east", [eea_to_us()])
    assert not decision.allowed
    assert sorted(decision.codes) == ["NO_COVERING_TRANSFER", "TRANSFER_COVERS"]
    assert "from GB" in decision.blocking[0].message
    # In the UK: the GB part stays home, the EEA part needs a transfer to uk-south.
    in_uk = check(chain, "uk-south")
    assert set(in_uk.codes) == {"NO_COVERING_TRANSFER", "SAME_JURISDICTION"}


def test_federated_models_may_cross_with_a_confirmation_finding():
    federated = LineageStep(
        "fraud-global 1",
        "federated",
        {"EEA", "GB", "US"},
        {"user.financial"},
        True,
        ("eu-central", "uk-south", "us-east"),
    )
    for region in REGIONS:
        decision = check([federated], region)
        assert decision.allowed, region
        assert decision.codes == ("FEDERATED_CONFIRM_PARAMETERS_ONLY",)
        # A condition the approver confirms, as in the transfer engine (controlplane.decisions).
        assert decision.findings[0].severity == CONDITION
        assert decision.needs_confirmation == ("FEDERATED_CONFIRM_PARAMETERS_ONLY",)
    assert "nothing but model parameters" in decision.findings[0].message
    assert "eu-central, uk-south, us-east" in decision.findings[0].message


def test_a_model_fine_tuned_from_a_federated_base_still_needs_the_confirmation():
    federated = LineageStep("global 1", "federated", {"EEA", "US"}, {"user.financial"}, True)
    chain = [transfer("local 2", personal=True, j={"US"}, cats={"user.financial"}), federated]
    decision = check(chain, "us-east")
    assert decision.allowed
    assert set(decision.codes) == {"FEDERATED_CONFIRM_PARAMETERS_ONLY", "SAME_JURISDICTION"}


def test_personal_data_without_jurisdictions_or_categories_blocks():
    step = LineageStep("v1", "regional", set(), set(), True)
    decision = check([step], "eu-west")
    assert not decision.allowed
    assert decision.codes[0] == "LINEAGE_INCOMPLETE"


def test_a_broken_chain_blocks():
    decision = check([synthetic("v2")], "eu-west", chain_broken="v2 leads back to v2")
    assert not decision.allowed
    assert "LINEAGE_INCOMPLETE" in decision.codes


def test_no_artifact_copy_in_the_region_is_a_warning_not_a_block():
    decision = check([synthetic("v1")], "us-east", artifact_in_region=False)
    assert decision.allowed
    assert "ARTIFACT_NOT_IN_REGION" in decision.codes
    assert {f.severity for f in decision.findings} == {INFO, WARNING}
