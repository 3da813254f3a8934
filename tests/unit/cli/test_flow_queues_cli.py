"""`ccctl flow check` names a queue node whose queue does not exist (in the database, or in the demo seed when
there is no database to ask), and the demo seeds every queue the shipped flows use, complaints included."""

from __future__ import annotations

from pathlib import Path

from ccctl.acd.demo_seed import seed_demo_acd

REPO = Path(__file__).resolve().parents[3]

FLOW = """flow: line
language: en
languages: [en]
start: registration
nodes:
  registration:
    type: queue
    skill: registration
    on_failure: complaints
  complaints:
    type: queue
    skill: complaints
"""


def write_flow(root: Path) -> Path:
    flows = root / "flows"
    (flows / "prompt_text").mkdir(parents=True)
    (flows / "prompt_text" / "en.yaml").write_text("language: en\nprompts:\n  welcome: Hi\n")
    (flows / "line.yaml").write_text(FLOW)
    return flows


def test_flow_check_names_a_queue_node_whose_queue_the_database_lacks(ccctl, tmp_path):
    flows = write_flow(tmp_path)
    assert ccctl("queues", "add", "registration", "--skills", "registration").exit_code == 0

    result = ccctl("flow", "check", "--flows-dir", str(flows))

    assert result.exit_code == 1
    assert (
        f"{flows / 'line.yaml'}:12: node 'complaints': queue 'complaints' does not exist in the database "
        "(queues: registration; ccctl queues add)"
    ) in result.output
    assert "node 'registration'" not in result.output

    assert ccctl("queues", "add", "complaints", "--skills", "complaints").exit_code == 0
    again = ccctl("flow", "check", "--flows-dir", str(flows))
    assert again.exit_code == 0, again.output
    assert "1 flow OK" in again.output


def test_the_demo_seeds_every_queue_the_shipped_flows_use(ccctl, sqlite_url):
    seed_demo_acd(sqlite_url)

    listed = ccctl("queues", "list")
    assert listed.exit_code == 0, listed.output
    assert any(line.split()[:1] == ["complaints"] for line in listed.output.splitlines())
    checked = ccctl("flow", "check", "--flows-dir", str(REPO / "ivr_flows"))
    assert checked.exit_code == 0, checked.output


def test_without_a_database_queue_nodes_are_checked_against_the_demo_seed(ccctl, tmp_path):
    flows = write_flow(tmp_path)
    (flows / "line.yaml").write_text(FLOW.replace("skill: complaints", "skill: complaint"))
    settings = tmp_path / "no_database.yaml"
    settings.write_text(f"database:\n  url: sqlite:///{tmp_path / 'not_made_yet.db'}\n")

    result = ccctl("flow", "check", "--flows-dir", str(flows), settings=settings)

    assert result.exit_code == 1
    assert "node 'complaints': queue 'complaint' does not exist in the demo seed (the database has no queues)" in (
        result.output
    )
    assert "complaints, follow_up" in result.output
    assert not (tmp_path / "not_made_yet.db").exists()
