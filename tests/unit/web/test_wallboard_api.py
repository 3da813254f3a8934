"""The wallboard's JSON snapshot and its Server-Sent Events stream."""

import json

from web_site import console, log_in, seed


def test_snapshot_has_status_alarms_and_chart(sqlite_url):
    seed(sqlite_url)
    app, _ = console(sqlite_url)
    client = app.test_client()
    log_in(client, "super")
    snapshot = client.get("/api/v1/wallboard").json
    assert snapshot["status"]["calls"]["active"] == 0
    assert snapshot["acd"] is None or "queues" in snapshot["acd"]
    assert len(snapshot["chart"]["today"]) == 96 and isinstance(snapshot["alarms"], list)


def test_stream_sends_wallboard_events(sqlite_url):
    seed(sqlite_url)
    app, _ = console(sqlite_url)
    client = app.test_client()
    log_in(client, "super")
    response = client.get("/api/v1/stream")
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    assert next(chunks).decode() == "retry: 2000\n\n"
    event = next(chunks).decode()
    assert event.startswith("event: wallboard\n")
    assert json.loads(event.split("data: ", 1)[1])["status"]["esl"]["inbound"]["status"] == "disabled"


def test_alarm_watch_logs_alarms_without_a_wallboard_open(sqlite_url, caplog):
    import gevent

    from ccctl.config import AlarmThresholds
    from ccctl.web.wallboard import watch_alarms

    # every disk has less than 100.1 % free: the disk alarm is certain
    app, _ = console(sqlite_url, alarms=AlarmThresholds(disk_free_percent=100.1, disk_path="."))
    watch = gevent.spawn(watch_alarms, app, 0.01)
    try:
        with caplog.at_level("WARNING", logger="ccctl.alarms"):
            while not caplog.records:
                gevent.sleep(0.01)
    finally:
        watch.kill()
    assert caplog.records[0].getMessage().startswith("alarm: disk of .: ")
