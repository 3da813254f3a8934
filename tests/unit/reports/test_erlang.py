import math

import pytest

from ccctl.reports.erlang import average_speed_of_answer, carried_load, erlang_c, service_level


def test_one_agent_makes_callers_wait_as_often_as_the_agent_is_busy():
    assert erlang_c(1, 0.3) == pytest.approx(0.3)


def test_two_agents_carrying_one_erlang_make_a_third_of_callers_wait():
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)


def test_erlang_c_agrees_with_the_textbook_sum():
    agents, load = 14, 10.0
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    bottom = sum(load**k / math.factorial(k) for k in range(agents)) + top
    assert erlang_c(agents, load) == pytest.approx(top / bottom)


def test_more_traffic_than_agents_means_every_caller_waits_and_no_service_level():
    assert erlang_c(12, 12.0) == 1.0
    assert service_level(12, 13.0, 60, 20) == 0.0
    assert average_speed_of_answer(12, 12.5, 60) == math.inf


def test_service_level_of_the_classic_half_hour_example():
    # 100 calls in 30 minutes, 3 minutes each: 10 Erlangs; 11 agents make 68% wait, 123 s on average;
    # 13 agents answer 79.6% within 20 s, 14 agents 88.8%
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=0.0001)
    assert average_speed_of_answer(11, 10.0, 180) == pytest.approx(122.8, abs=0.1)
    assert service_level(13, 10.0, 180, 20) == pytest.approx(0.7956, abs=0.0001)
    assert service_level(14, 10.0, 180, 20) == pytest.approx(0.8884, abs=0.0001)


def test_carried_load_is_the_most_traffic_that_meets_the_level():
    load = carried_load(12, 65, 20, 0.8)
    assert service_level(12, load, 65, 20) == pytest.approx(0.8, abs=1e-6)
    assert 7 < load < 12
    assert carried_load(24, 65, 20, 0.8) > 2 * load


def test_nonsense_staffing_is_refused():
    with pytest.raises(ValueError):
        erlang_c(0, 1.0)
    with pytest.raises(ValueError):
        carried_load(12, 65, 20, 1.5)
