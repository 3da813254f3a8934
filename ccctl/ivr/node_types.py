"""The node types a flow may use, by the name written after `type:`."""

from __future__ import annotations

from ccctl.ivr.nodes.appointment import BookNode, VisitsNode
from ccctl.ivr.nodes.authenticate import AuthenticateNode
from ccctl.ivr.nodes.base import Node
from ccctl.ivr.nodes.branch import BranchNode
from ccctl.ivr.nodes.callback_request import CallbackRequestNode
from ccctl.ivr.nodes.collect import CollectNode
from ccctl.ivr.nodes.control import GotoNode, HangupNode, SetNode, SubflowNode
from ccctl.ivr.nodes.handoff import QueueNode, TransferNode
from ccctl.ivr.nodes.kb import KbNode
from ccctl.ivr.nodes.lookup import LookupNode
from ccctl.ivr.nodes.menu import MenuNode
from ccctl.ivr.nodes.record import RecordNode
from ccctl.ivr.nodes.speech import InfoNode, PlayNode
from ccctl.ivr.nodes.survey import SurveyNode

NODE_TYPES: dict[str, type[Node]] = {
    cls.type_name: cls
    for cls in (
        PlayNode,
        InfoNode,
        KbNode,
        MenuNode,
        CollectNode,
        AuthenticateNode,
        LookupNode,
        BranchNode,
        SetNode,
        GotoNode,
        SubflowNode,
        RecordNode,
        QueueNode,
        TransferNode,
        HangupNode,
        VisitsNode,
        BookNode,
        SurveyNode,
        CallbackRequestNode,
    )
}
