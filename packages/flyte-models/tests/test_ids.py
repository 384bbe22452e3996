import pytest
from flyteidl2.core import identifier_pb2 as core

import flyte.models as m

# Names flyte 2.12.1's ActionID.new_sub_action_from produced for the same parts.
PUBLIC_NAMES = [
    (("a0", "ih", "th", 1, None), "85hvno29yql9omdo61m0c0hjo"),
    (("a0", "ih", "th", 2, "g"), "5ewlq3c974ce14hqy82g6i5al"),
]


@pytest.mark.parametrize(("parts", "name"), PUBLIC_NAMES)
def test_child_action_name_matches_the_public_sdk(parts, name):
    assert m.child_action_name(*parts) == name


def test_child_action_name_depends_on_every_part():
    base = m.child_action_name("a0", "ih", "th", 1, None)
    variants = [("a1", "ih", "th", 1, None), ("a0", "ix", "th", 1, None), ("a0", "ih", "tx", 1, None)]
    variants += [("a0", "ih", "th", 2, None), ("a0", "ih", "th", 1, "g")]
    assert len({base, *(m.child_action_name(*v) for v in variants)}) == 6


def test_child_action_name_is_short_lowercase_base36():
    name = m.child_action_name("a0", "x" * 1000, "y", 7, "group")
    assert name.isalnum()
    assert name == name.lower()
    assert len(name) <= 25


def test_child_action_name_refuses_a_negative_sequence():
    with pytest.raises(ValueError, match="call_seq"):
        m.child_action_name("a0", "i", "t", -1)


def test_action_id_defaults_run_name_to_its_own_name():
    a = m.ActionID(name="a0")
    assert a.run_name == "a0"
    assert repr(a) == "ActionID('a0', run_name='a0')"


def test_sub_action_from_keeps_the_run_and_names_deterministically():
    parent = m.ActionID(name="a0", run_name="r", project="p", domain="d", org="o")
    child = parent.new_sub_action_from(task_call_seq=1, task_hash="th", input_hash="ih", group=None)
    assert child == m.ActionID(name="85hvno29yql9omdo61m0c0hjo", run_name="r", project="p", domain="d", org="o")
    assert child.unique_id_str() == "p-d-r-85hvno29yql9omdo61m0c0hjo"


def test_random_ids_differ():
    assert m.ActionID.create_random() != m.ActionID.create_random()
    parent = m.ActionID(name="a0")
    assert parent.new_sub_action().name != parent.new_sub_action().name


def test_action_id_requires_keywords_and_a_name():
    with pytest.raises(TypeError):
        m.ActionID("a0")  # type: ignore[misc]
    with pytest.raises(ValueError, match="name"):
        m.ActionID(name="")


def test_action_id_round_trips_through_proto():
    a = m.ActionID(name="x1", run_name="r", project="p", domain="d", org="o")
    pb = a.to_proto()
    assert (pb.name, pb.run.name, pb.run.project, pb.run.domain, pb.run.org) == ("x1", "r", "p", "d", "o")
    assert m.ActionID.from_proto(pb) == a
    bare = m.ActionID(name="a0")
    assert m.ActionID.from_proto(bare.to_proto()) == bare


def test_run_id_round_trips_through_proto():
    r = m.RunID("r1", "p", "d", "o")
    assert m.RunID.from_proto(r.to_proto()) == r


def test_task_id_round_trips_through_both_identifier_protos():
    t = m.TaskID("env.hello", "v1", "p", "d", "o")
    assert m.TaskID.from_proto(t.to_proto()) == t
    core_id = t.to_core_identifier()
    assert core_id.resource_type == core.ResourceType.TASK
    assert m.TaskID.from_core_identifier(core_id) == t


def test_task_id_refuses_an_identifier_of_another_kind():
    pb = core.Identifier(resource_type=core.ResourceType.WORKFLOW, name="wf")
    with pytest.raises(ValueError, match="WORKFLOW"):
        m.TaskID.from_core_identifier(pb)


def test_ids_are_immutable_and_hashable():
    t = m.TaskID("n", "v")
    with pytest.raises(AttributeError):
        t.name = "other"  # type: ignore[misc]
    assert {t, m.TaskID("n", "v")} == {t}
