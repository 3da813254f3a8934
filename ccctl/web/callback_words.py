"""The workstation's callback list words (Call now, states, due times) in the console's languages."""

from __future__ import annotations

WORDS = {
    "en": {
        "due": "Due",
        "state": "State",
        "overdue": "overdue",
        "call_now": "Call now",
        "calling_now": "Calling the patient: you are reserved for this call.",
        "pending": "waiting",
        "dialling": "being dialled",
        "calling": "calling",
        "last_try": "last try",
        "not_before": "from",
    },
    "zh": {
        "due": "截止",
        "state": "状态",
        "overdue": "已逾期",
        "call_now": "立即回拨",
        "calling_now": "正在呼叫患者：您已为此通话预留。",
        "pending": "等待中",
        "dialling": "正在拨号",
        "calling": "呼叫中",
        "last_try": "上次尝试",
        "not_before": "开始于",
    },
    "pl": {
        "due": "Termin",
        "state": "Stan",
        "overdue": "po terminie",
        "call_now": "Zadzwoń teraz",
        "calling_now": "Dzwonimy do pacjenta: jesteś zarezerwowany do tej rozmowy.",
        "pending": "oczekuje",
        "dialling": "wybieranie",
        "calling": "dzwonienie",
        "last_try": "ostatnia próba",
        "not_before": "od",
    },
}


def callback_words(language: str) -> dict[str, str]:
    """The words in `language`, English for a language or word it lacks."""
    return {**WORDS["en"], **WORDS.get(language, {})}
