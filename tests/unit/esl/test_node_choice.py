"""Which node a command-line tool tries: a named node alone, else every configured node in order."""

import pytest

from ccctl.config import EslNode, EslSettings
from ccctl.esl.node_choice import NodeUnreachable, configured_nodes, nodes_holding, nodes_to_try


def esl_with(*names: str) -> EslSettings:
    return EslSettings(nodes=[EslNode(name, "127.0.0.1", 8021 + i) for i, name in enumerate(names)])


def test_without_esl_nodes_the_one_switch_is_named_default():
    esl = EslSettings(inbound_host="10.0.0.11", inbound_port=8022)
    assert [(n.name, n.host, n.port) for n in configured_nodes(esl)] == [("default", "10.0.0.11", 8022)]


def test_a_named_node_is_tried_alone_and_an_unknown_name_is_refused_naming_the_known_ones():
    esl = esl_with("fs-a", "fs-b")
    assert [n.name for n in nodes_to_try(esl)] == ["fs-a", "fs-b"]
    assert [n.name for n in nodes_to_try(esl, "fs-b")] == ["fs-b"]
    with pytest.raises(NodeUnreachable, match=r"^--node fs-x: not a node in esl.nodes \(known: fs-a, fs-b\)$"):
        nodes_to_try(esl, "fs-x")


def test_a_channels_known_node_is_tried_alone_and_an_unknown_one_means_every_node_in_order():
    esl = esl_with("fs-a", "fs-b")
    assert [n.name for n in nodes_holding(esl, "fs-b")] == ["fs-b"]
    assert [n.name for n in nodes_holding(esl, "")] == ["fs-a", "fs-b"]
    assert [n.name for n in nodes_holding(esl, "fs-gone")] == ["fs-a", "fs-b"]  # not in esl.nodes: unknown
