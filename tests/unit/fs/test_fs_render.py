"""`ccctl fs render`: the files load the way FreeSWITCH 1.10 preprocesses and reads them."""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from pathlib import Path

from fs_document import configuration, params, section
from fs_preprocessor import assemble
from fs_rendering import Rendered, example_settings

from ccctl.deploy.fs_render import render_all

REQUIRED_MODULES = [
    "mod_console",
    "mod_logfile",
    "mod_sofia",
    "mod_event_socket",
    "mod_commands",
    "mod_dptools",
    "mod_dialplan_xml",
    "mod_sndfile",
    "mod_native_file",
    "mod_tone_stream",
    "mod_local_stream",
    "mod_conference",
    "mod_spandsp",
    "mod_say_en",
    "mod_say_zh",
    "mod_say_pl",
    "mod_loopback",
    "mod_db",
    "mod_hash",
    "mod_expr",
]

# Profile <settings> names mod_sofia 1.10.12 reads (sofia.c config_sofia, `strcasecmp(var, "...")`), the
# subset this project may use. A new param goes here only after checking it in sofia.c.
SOFIA_PROFILE_PARAMS = {
    "accept-blind-auth", "accept-blind-reg", "apply-inbound-acl", "apply-nat-acl", "auth-all-packets",
    "auth-calls", "auth-subscriptions", "challenge-realm", "context", "debug", "dialplan", "disable-register",
    "dtmf-duration", "ext-rtp-ip", "ext-sip-ip", "force-register-db-domain", "force-register-domain",
    "force-subscription-domain", "hold-music", "inbound-codec-negotiation", "inbound-codec-prefs",
    "inbound-late-negotiation",
    "inbound-reg-force-matching-username", "liberal-dtmf", "local-network-acl", "log-auth-failures", "manage-presence",
    "nonce-ttl", "outbound-codec-prefs", "rfc2833-pt", "rtp-ip", "rtp-timer-name", "sip-ip", "sip-port",
    "sip-trace",
}  # fmt: skip
# mod_event_socket.c config(): every name it reads.
EVENT_SOCKET_PARAMS = {
    "listen-ip",
    "listen-port",
    "password",
    "apply-inbound-acl",
    "nat-map",
    "debug",
    "stop-on-bind-error",
}


def test_every_rendered_file_is_xml_on_its_own(rendered: Rendered):
    for path in rendered.written:
        ET.parse(path)


def test_every_rendered_file_is_reached_from_freeswitch_xml(rendered: Rendered):
    assert sorted(str(p) for p in rendered.assembly.files) == sorted(str(Path(p).resolve()) for p in rendered.written)
    assert rendered.assembly.unknown_variables == set()


def test_assembled_document_has_the_sections_freeswitch_looks_up(rendered: Rendered):
    doc = rendered.assembly.document()
    assert doc.tag == "document" and doc.get("type") == "freeswitch/xml"
    for name in ("configuration", "dialplan", "directory"):
        section(doc, name)
    names = [c.get("name") for c in section(doc, "configuration").findall("./configuration")]
    assert len(names) == len(set(names)), "a configuration name appears twice"
    assert {"modules.conf", "switch.conf", "event_socket.conf", "acl.conf", "sofia.conf"} <= set(names)


def test_lines_follow_the_preprocessor_rules(rendered: Rendered):
    # preprocess() in switch_xml.c works per line: the rest of an X-PRE-PROCESS line is discarded, and any
    # line holding <include>, </include> or <? is dropped whole.
    for path in rendered.written:
        for number, line in enumerate(Path(path).read_text().splitlines(), 1):
            where = f"{path}:{number}"
            if "x-pre-process" in line.lower():
                assert line.strip().startswith("<X-PRE-PROCESS cmd=") and line.strip().endswith('"/>'), where
            if "include>" in line:
                assert line.strip() in ("<include>", "</include>"), where
            assert "<?" not in line and "<!--#" not in line, where


def test_modules_load_each_required_module_once(rendered: Rendered):
    modules = configuration(rendered.assembly.document(), "modules.conf")
    loaded = [load.get("module") for load in modules.findall("./modules/load")]
    assert len(loaded) == len(set(loaded))
    # espeak-ng (mod_tts_commandline) speaks the languages flite cannot: loaded beside mod_flite
    tts = {"mod_tts_commandline"} | ({"mod_flite"} if rendered.settings.freeswitch.tts_engine == "flite" else set())
    assert set(loaded) == set(REQUIRED_MODULES) | tts | {"mod_opus"}
    assert "mod_xml_curl" not in loaded and "mod_callcenter" not in loaded


def test_each_say_language_names_its_module_and_sounds(rendered: Rendered):
    languages = section(rendered.assembly.document(), "languages").findall("./language")
    sounds = rendered.settings.freeswitch.sounds_dir
    found = {lang.get("name"): (lang.get("say-module"), lang.get("sound-prefix")) for lang in languages}
    assert found == {
        "en": ("en", f"{sounds}/en/us/callie"),
        "zh": ("zh", f"{sounds}/zh/cn/sinmei"),
        "pl": ("pl", f"{sounds}/pl/pl/default"),
    }


def test_the_sites_zone_is_one_the_say_application_knows(rendered: Rendered):
    zones = configuration(rendered.assembly.document(), "timezones.conf").findall("./timezones/zone")
    zone = rendered.settings.appointments.timezone
    # the example site is in Warsaw, with its summer time rule; the other sites keep the default
    rule = {"Europe/Warsaw": "CET-1CEST,M3.5.0,M10.5.0/3", "UTC": "UTC0"}[zone]
    assert [(entry.get("name"), entry.get("value")) for entry in zones] == [(zone, rule)]


def test_event_socket_listens_where_ccctl_connects(rendered: Rendered):
    settings = params(configuration(rendered.assembly.document(), "event_socket.conf").find("./settings"))
    assert set(settings) <= EVENT_SOCKET_PARAMS
    assert settings["listen-ip"] == "127.0.0.1"
    assert settings["listen-port"] == str(rendered.settings.esl.inbound_port)
    assert settings["password"] == rendered.settings.esl.password
    assert settings["apply-inbound-acl"] == "loopback.auto"


def _profiles(rendered: Rendered) -> dict[str, dict[str, str]]:
    sofia = configuration(rendered.assembly.document(), "sofia.conf")
    return {p.get("name"): params(p.find("./settings")) for p in sofia.findall("./profiles/profile")}


def test_agents_profile_requires_digest_authentication(rendered: Rendered):
    agents = _profiles(rendered)["agents"]
    assert set(agents) <= SOFIA_PROFILE_PARAMS
    assert agents["sip-port"] == str(rendered.settings.freeswitch.agents_sip_port)
    assert agents["context"] == "agents"
    assert agents["auth-calls"] == "true"
    assert agents["accept-blind-reg"] == "false"
    # a matching inbound/register ACL would let calls and registrations skip the password (sofia.c)
    assert "apply-inbound-acl" not in agents and "apply-register-acl" not in agents
    assert agents["force-register-domain"] == rendered.settings.freeswitch.domain


def test_trunk_profile_takes_calls_only_from_the_trunk_acl(rendered: Rendered):
    profiles = _profiles(rendered)
    assert set(profiles) == {"agents", "trunk"}
    trunk = profiles["trunk"]
    assert set(trunk) <= SOFIA_PROFILE_PARAMS
    assert trunk["sip-port"] == str(rendered.settings.freeswitch.trunk_sip_port)
    assert (trunk["context"], trunk["apply-inbound-acl"], trunk["auth-calls"]) == ("public", "trunks", "false")
    assert trunk["disable-register"] == "true"
    # a carrier may send SIP INFO keys although it offered telephone-event: sofia ignores them otherwise
    assert trunk["liberal-dtmf"] == "true"
    acl = configuration(rendered.assembly.document(), "acl.conf")
    lists = {lst.get("name"): lst for lst in acl.findall("./network-lists/list")}
    assert not any(name.endswith(".auto") for name in lists), "FreeSWITCH builds the .auto lists itself"
    trunks = lists["trunks"]
    assert trunks.get("default") == "deny"
    nodes = [(n.get("type"), ipaddress.ip_network(n.get("cidr"))) for n in trunks.findall("./node")]
    wanted = [("allow", ipaddress.ip_network(c, strict=False)) for c in rendered.settings.freeswitch.trunk_acl]
    assert nodes == wanted


def test_directory_holds_exactly_the_configured_agents(rendered: Rendered):
    fs = rendered.settings.freeswitch
    domains = section(rendered.assembly.document(), "directory").findall("./domain")
    assert [d.get("name") for d in domains] == [fs.domain]
    first, last = (int(n) for n in fs.agent_extensions.split("-"))
    users = domains[0].findall(".//user")
    assert [u.get("id") for u in users] == [str(n) for n in range(first, last + 1)]
    for user in users:
        assert params(user.find("./params")) == {"password": fs.agents_password}
        variables = {v.get("name"): v.get("value") for v in user.findall("./variables/variable")}
        assert variables["user_context"] == "agents"
        assert variables["effective_caller_id_number"] == user.get("id")
    dial_string = params(domains[0].find("./params"))["dial-string"]
    assert "sofia_contact(*/${dialed_user}@${dialed_domain})" in dial_string


def test_moh_and_prompts_come_from_the_sounds_dir(rendered: Rendered):
    sounds = rendered.settings.freeswitch.sounds_dir
    assert rendered.assembly.variables["sound_prefix"] == f"{sounds}/en/us/callie"
    streams = configuration(rendered.assembly.document(), "local_stream.conf").findall("./directory")
    assert {d.get("name") for d in streams} >= {"default", "moh/8000"}
    assert all(d.get("path").startswith(f"{sounds}/music/") for d in streams)


def test_settings_values_are_escaped_not_injected(rendered: Rendered):
    # The second settings file has passwords with & < > ' " in them: they must come back verbatim.
    doc = rendered.assembly.document()
    assert (
        params(configuration(doc, "event_socket.conf").find("./settings"))["password"] == rendered.settings.esl.password
    )


def test_render_into_an_existing_directory_replaces_only_our_files(tmp_path):
    out = tmp_path / "conf"
    written = render_all(example_settings(), out)
    foreign = out / "dialplan" / "site_local.txt"
    foreign.write_text("kept")
    ours = Path(written[0])
    ours.write_text("damaged")
    assert render_all(example_settings(), out) == written
    assert foreign.read_text() == "kept"
    assert ET.parse(ours).getroot().tag == "configuration"
    assert not list(out.rglob("*.tmp")), "temporary files left behind"
    assemble(out / "freeswitch.xml").document()


def test_rendered_files_are_not_world_readable(tmp_path):
    # They hold the event socket and agent passwords.
    for path in render_all(example_settings(), tmp_path / "conf"):
        assert Path(path).stat().st_mode & 0o007 == 0, path


def test_both_profiles_bind_the_configured_sip_ip_or_the_detected_address(rendered: Rendered):
    # BUILTIN_VARIABLES in fs_preprocessor gives local_ip_v4 = 192.0.2.10, as FreeSWITCH detects it at start
    wanted = rendered.settings.freeswitch.sip_ip or "192.0.2.10"
    for name, profile in _profiles(rendered).items():
        assert (profile["sip-ip"], profile["rtp-ip"]) == (wanted, wanted), name


def test_media_ports_are_the_configured_range_so_two_switches_on_one_machine_do_not_collide(tmp_path):
    settings = example_settings()
    settings.freeswitch.rtp_ports = "24000-27999"
    render_all(settings, tmp_path / "conf")
    core = params(
        configuration(assemble(tmp_path / "conf" / "freeswitch.xml").document(), "switch.conf").find("./settings")
    )
    assert (core["rtp-start-port"], core["rtp-end-port"]) == ("24000", "27999")
