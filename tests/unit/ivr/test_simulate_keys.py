"""`ccctl flow simulate --keys`: one entry per input prompt, keypad keys only."""

import pytest

from ccctl.local_site.simulate import SimulationError, parse_keys


def test_entries_are_comma_separated_and_empty_ones_are_silence():
    assert parse_keys("1, 2,,880001#,*9") == ["1", "2", "", "880001#", "*9"]


def test_no_keys_means_a_silent_caller():
    assert parse_keys("") == [] and parse_keys("  ") == []


def test_a_character_no_keypad_has_is_refused_without_echoing_the_entry():
    with pytest.raises(SimulationError) as caught:
        parse_keys("1,2,9182a#")
    assert str(caught.value) == "--keys entry 3: only 0-9, * and # are keys (entries are comma-separated)"
