"""Cheaply copied serializer fields (controlplane/api/copied_fields.py) are each their own."""

from rest_framework import serializers

from controlplane.api.copied_fields import CopiedFieldsMixin


class Inner(CopiedFieldsMixin, serializers.Serializer):
    code = serializers.ChoiceField(choices=["a", "b"])
    tags = serializers.ListField(child=serializers.ChoiceField(choices=["x", "y"]), required=False)


class Outer(CopiedFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=5)
    inner = Inner()
    many = Inner(many=True, required=False)
    flags = serializers.DictField(child=serializers.BooleanField(), required=False)


def test_each_serializer_has_its_own_fields_bound_to_itself():
    one, two = Outer(data={}), Outer(data={})
    for name in ("name", "inner", "many", "flags"):
        assert one.fields[name] is not two.fields[name]
        assert one.fields[name].parent is one and two.fields[name].parent is two
    assert one.fields["many"].child is not two.fields["many"].child
    assert one.fields["many"].child.parent is one.fields["many"]
    assert one.fields["flags"].child.parent is one.fields["flags"]
    inner = one.fields["inner"]
    assert inner.fields["tags"].child.parent is inner.fields["tags"]
    assert inner.fields["code"].parent is inner and inner.root is one
    # Nothing was bound on the declared fields themselves.
    assert Outer._declared_fields["inner"].__dict__.get("fields") is None
    assert getattr(Outer._declared_fields["name"], "parent", None) is None


def test_validation_reads_as_with_drfs_deep_copies():
    good = {"name": "ok", "inner": {"code": "a", "tags": ["x"]}, "many": [{"code": "b"}]}
    bad = {"name": "too long", "inner": {"code": "c", "tags": ["z"]}, "many": [{"code": "q"}]}
    first = Outer(data=bad)
    assert not first.is_valid()
    second = Outer(data=good)
    assert second.is_valid(), second.errors
    assert second.validated_data["many"] == [{"code": "b"}]
    third = Outer(data=bad)
    assert not third.is_valid()
    assert third.errors == first.errors
    assert set(third.errors) == {"name", "inner", "many"}
    assert "tags" in third.errors["inner"] and "code" in third.errors["inner"]
