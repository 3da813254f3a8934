"""What both chat blueprints share inside the web app: the knowledge base, the live state, PIN checks.

Made on first use and kept in app.extensions; the console's WebContext gives settings and transactions.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ccctl.chat.live import ChatLive
from ccctl.chat.routing import ChatRouting
from ccctl.kb.knowledge import KnowledgeBase
from ccctl.patients.call_services import DbCallServices
from ccctl.patients.pins import PinHasher

KEY = "ccctl.chat"


@dataclass
class ChatSite:
    kb: KnowledgeBase
    live: ChatLive
    hasher: PinHasher
    services: DbCallServices


def chat_site() -> ChatSite:
    site = current_app.extensions.get(KEY)
    if site is None:
        settings = current_app.extensions["ccctl"].settings
        site = current_app.extensions[KEY] = ChatSite(
            kb=KnowledgeBase.from_settings(settings),
            live=ChatLive(settings.chat.window_seconds),
            hasher=PinHasher(),
            services=DbCallServices(settings.database.url, settings),
        )
    return site


def chat_routing() -> ChatRouting:
    """Routing through the serve process's ACD when it runs one (it may start after the web app)."""
    ctx = current_app.extensions["ccctl"]
    return ChatRouting(ctx.acd, ctx.settings.chat, ctx.transaction)
