"""The campaigns page's own words in English, Chinese and Polish (the console's are ccctl/web/words.py)."""

from __future__ import annotations

from collections.abc import Callable

ENGLISH = {
    "campaigns": "Campaigns",
    "name": "Campaign",
    "kind": "Kind",
    "mode": "Dialing",
    "state": "State",
    "patients": "Patients",
    "progress": "Done",
    "in_progress": "Calling now",
    "outcomes": "Outcomes",
    "actions": "Actions",
    "start": "Start",
    "pause": "Pause",
    "stop": "Stop for good",
    "no_campaigns": "No campaigns. Add one with ccctl campaigns add FILE.",
    "state_draft": "draft",
    "state_running": "running",
    "state_paused": "paused",
    "state_stopped": "stopped",
    "done_start": "Campaign started: a running ccctl serve places its calls.",
    "done_pause": "Campaign paused: no new calls until it is started again.",
    "done_stop": "Campaign stopped for good.",
}
CHINESE = {
    "campaigns": "外呼活动",
    "name": "活动",
    "kind": "类型",
    "mode": "拨号方式",
    "state": "状态",
    "patients": "患者",
    "progress": "已完成",
    "in_progress": "正在呼叫",
    "outcomes": "结果",
    "actions": "操作",
    "start": "开始",
    "pause": "暂停",
    "stop": "永久停止",
    "no_campaigns": "没有活动。请用 ccctl campaigns add FILE 添加。",
    "state_draft": "草稿",
    "state_running": "进行中",
    "state_paused": "已暂停",
    "state_stopped": "已停止",
    "done_start": "活动已开始：运行中的 ccctl serve 将拨出电话。",
    "done_pause": "活动已暂停：重新开始前不会拨出新电话。",
    "done_stop": "活动已永久停止。",
}
POLISH = {
    "campaigns": "Kampanie",
    "name": "Kampania",
    "kind": "Rodzaj",
    "mode": "Wybieranie",
    "state": "Stan",
    "patients": "Pacjenci",
    "progress": "Zakończone",
    "in_progress": "W toku",
    "outcomes": "Wyniki",
    "actions": "Działania",
    "start": "Uruchom",
    "pause": "Wstrzymaj",
    "stop": "Zakończ na stałe",
    "no_campaigns": "Brak kampanii. Dodaj ją poleceniem ccctl campaigns add PLIK.",
    "state_draft": "szkic",
    "state_running": "trwa",
    "state_paused": "wstrzymana",
    "state_stopped": "zakończona",
    "done_start": "Kampania uruchomiona: działający ccctl serve wykonuje połączenia.",
    "done_pause": "Kampania wstrzymana: żadnych nowych połączeń do ponownego uruchomienia.",
    "done_stop": "Kampania zakończona na stałe.",
}
WORDS = {"en": ENGLISH, "zh": CHINESE, "pl": POLISH}


def campaign_words(language: str) -> Callable[[str], str]:
    """w(key) in the language; English when the language or the key is missing."""
    words = WORDS.get(language, ENGLISH)

    def w(key: str) -> str:
        return words.get(key) or ENGLISH.get(key, key)

    return w
