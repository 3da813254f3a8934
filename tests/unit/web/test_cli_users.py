"""`ccctl users add/passwd/list` through the CLI, with the password on stdin."""

from click.testing import CliRunner

from ccctl.cli import main


def run(url: str, *args: str, stdin: str = ""):
    return CliRunner().invoke(main, list(args), input=stdin, env={"CCCTL_DATABASE__URL": url})


def test_add_list_and_change_password(sqlite_url):
    added = run(sqlite_url, "users", "add", "ola", "--role", "agent", "--language", "pl", "--password-stdin",
                stdin="first-password\n")  # fmt: skip
    assert added.exit_code == 0 and added.output == "added agent ola (agent ola)\n"
    run(sqlite_url, "users", "add", "sam", "--role", "supervisor", "--password-stdin", stdin="other-password\n")
    listing = run(sqlite_url, "users", "list")
    assert listing.output.splitlines() == [
        "NAME  ROLE        AGENT  LANGUAGE",
        "ola   agent       ola    pl",
        "sam   supervisor  -      en",
    ]
    changed = run(sqlite_url, "users", "passwd", "ola", "--password-stdin", stdin="second-password\n")
    assert changed.exit_code == 0 and changed.output == "password changed for ola\n"


def test_errors_are_one_line_naming_the_field(sqlite_url, empty_sqlite_url):
    short = run(sqlite_url, "users", "add", "ola", "--role", "agent", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "ccctl: password: at least 8 characters" in short.output
    missing = run(sqlite_url, "users", "passwd", "ghost", "--password-stdin", stdin="whatever-long\n")
    assert "ccctl: name: no user 'ghost'" in missing.output
    no_db = run(empty_sqlite_url, "users", "list")
    assert no_db.exit_code == 1 and "run `ccctl db upgrade` first" in no_db.output


def test_ensure_user_adds_once(sqlite_url):
    from ccctl.web.user_commands import ensure_user, listing

    assert ensure_user(sqlite_url, "demo", "supervisor", "demo-password")
    assert not ensure_user(sqlite_url, "demo", "admin", "other-password")
    assert [(u.name, u.role) for u in listing(sqlite_url)] == [("demo", "supervisor")]


def test_an_admin_with_a_weak_password_is_refused_saying_what_is_wanted(sqlite_url):
    weak = run(sqlite_url, "users", "add", "alice", "--role", "admin", "--password-stdin", stdin="12345678\n")
    assert weak.exit_code == 1
    assert (
        weak.output
        == "ccctl: password: at least 12 characters for an admin, mixing letters with digits, capitals or symbols\n"
    )
    named = run(sqlite_url, "users", "add", "alice", "--role", "admin", "--password-stdin", stdin="alice-alice-1\n")
    assert named.exit_code == 1 and "password: too close to the user name" in named.output
    assert run(sqlite_url, "users", "list").output.splitlines() == ["NAME  ROLE  AGENT  LANGUAGE"]


def test_role_disable_enable_and_logout(sqlite_url):
    run(sqlite_url, "users", "add", "sam", "--role", "supervisor", "--password-stdin", stdin="other-password\n")
    assert run(sqlite_url, "users", "role", "sam", "agent").output == "sam is now agent\n"
    assert run(sqlite_url, "users", "disable", "sam").output == "disabled sam\n"
    assert run(sqlite_url, "users", "list").output.splitlines()[1] == "sam   agent (disabled)  sam    en"
    assert run(sqlite_url, "users", "enable", "sam").output == "enabled sam\n"
    assert run(sqlite_url, "users", "logout", "sam").output == "ended 0 open console sessions\n"
    ghost = run(sqlite_url, "users", "disable", "ghost")
    assert ghost.exit_code == 1 and "ccctl: name: no user 'ghost'" in ghost.output
