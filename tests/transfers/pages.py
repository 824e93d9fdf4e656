"""Ending a mechanism through its page, as a DPO does: the end form posts to the revocation
drill, which shows the impact (the real ending, rolled back); ending sends its fingerprint."""


def drill_url(m) -> str:
    return f"/routing/drill/{m.pk}/"


def end_through_the_page(client, m, **overrides):
    """Simulate, then end it with the fingerprint of the impact shown. Returns the response."""
    form = {"status": "revoked", "reason": "Contract terminated", **overrides}
    impact = client.post(drill_url(m), {**form, "action": "simulate"})
    assert impact.status_code == 200, impact.content[:500]
    return client.post(
        drill_url(m), {**form, "action": "end", "fingerprint": impact.context["fingerprint"]}
    )
