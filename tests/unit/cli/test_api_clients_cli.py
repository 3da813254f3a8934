"""`ccctl api-clients`: the FHIR API's tokens are printed once, listed without the token, revoked by name."""

from __future__ import annotations


def test_api_clients_commands_print_the_token_once_and_list_without_it(ccctl):
    added = ccctl("api-clients", "add", "his", "--scope", "read,write")
    assert added.exit_code == 0 and len(added.stdout.strip()) >= 40
    listed = ccctl("api-clients", "list")
    assert "his" in listed.stdout and "read,write" in listed.stdout and added.stdout.strip() not in listed.stdout
    assert ccctl("api-clients", "add", "his").output.startswith("ccctl: API client 'his' already exists")
    assert ccctl("api-clients", "revoke", "his").stdout == "revoked API client his\n"
    assert ccctl("api-clients", "add", "lab", "--scope", "delete").output == (
        "ccctl: --scope: 'delete' is not one of read, write\n"
    )
