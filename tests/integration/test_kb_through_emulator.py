"""The IVR kb node through the FreeSWITCH emulator: `ccctl flow simulate` on the example information line."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from ccctl.kb.knowledge import KnowledgeBase

REPO = Path(__file__).resolve().parents[2]
CCCTL = str(Path(sys.executable).parent / "ccctl")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_chinese_caller_picks_parking_and_hears_the_articles_answer(tmp_path):
    flows = tmp_path / "ivr_flows"
    shutil.copytree(REPO / "ivr_flows", flows)
    shutil.copyfile(REPO / "ivr_flows" / "examples" / "kb_info.yaml", flows / "kb_info.yaml")
    config = yaml.safe_load((REPO / "ccctl.yaml").read_text())
    config["database"]["url"] = f"sqlite:///{tmp_path / 'ccctl.db'}"
    config["esl"].update(outbound_port=free_port(), inbound_port=free_port())
    config["web"]["port"] = free_port()
    config["flows_dir"] = str(flows)
    config["recordings_dir"] = str(tmp_path / "recordings")
    config["hotlines"].append({"name": "kb_info", "did": "7100", "flow": "kb_info", "language": "en"})
    config["kb"] = {"dir": str(REPO / "kb"), "min_score": 0.2}
    path = tmp_path / "ccctl.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    command = [CCCTL, "--config", str(path), "flow", "simulate", "kb_info", "--keys", "2,3", "--scratch", "--json"]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    answer = KnowledgeBase(REPO / "kb").short_answer("parking", "zh")
    assert answer and answer.startswith("访客停车场")
    assert {"kind": "tts", "text": answer} in result["prompts"]
    assert result["path"][-4:] == ["topics", "topics:parking", "goodbye", "hang_up"]
    assert result["keys"] == ["2", "3"] and result["disposition"] == "completed"
