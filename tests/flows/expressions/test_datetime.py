"""Date and time: .NET format strings, parsing, ISO 8601 durations, Windows time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tether.flows.expressions import (
    ExpressionContext,
    ExpressionEvaluationError,
    evaluate_expression,
    parse_duration,
)

STAMP = "2009-06-15T13:45:30.6175425Z"


def run(text: str, **context):
    return evaluate_expression(text, ExpressionContext(**context))


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        pytest.param("o", "2009-06-15T13:45:30.6175425Z", id="o"),
        pytest.param("s", "2009-06-15T13:45:30", id="s"),
        pytest.param("u", "2009-06-15 13:45:30Z", id="u"),
        pytest.param("d", "6/15/2009", id="d"),
        pytest.param("D", "Monday, June 15, 2009", id="D"),
        pytest.param("t", "1:45 PM", id="t"),
        pytest.param("T", "1:45:30 PM", id="T"),
        pytest.param("g", "6/15/2009 1:45 PM", id="g"),
        pytest.param("G", "6/15/2009 1:45:30 PM", id="G"),
        pytest.param("f", "Monday, June 15, 2009 1:45 PM", id="f"),
        pytest.param("M", "June 15", id="M"),
        pytest.param("Y", "June 2009", id="Y"),
        pytest.param("R", "Mon, 15 Jun 2009 13:45:30 GMT", id="R"),
        pytest.param("yyyy-MM-dd HH:mm:ss.fffffffK", "2009-06-15 13:45:30.6175425Z", id="custom-full"),
        pytest.param("yy/M/d h:m:s tt", "09/6/15 1:45:30 PM", id="custom-short-parts"),
        pytest.param("ddd dd MMM", "Mon 15 Jun", id="custom-abbreviations"),
        pytest.param('HH"h"mm \\a\\t ss', "13h45 at 30", id="custom-literals"),
        pytest.param("ss.FFFF", "30.6175", id="F-trims"),
        pytest.param("%d", "15", id="single-custom-specifier"),
        pytest.param("zzz", "+00:00", id="offset"),
    ],
)
def test_format_strings(fmt, expected) -> None:
    assert run(f"formatDateTime('{STAMP}', '{fmt}')") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("formatDateTime('2018-03-15T00:00:00', 'ss.FFF')", "00", id="F-drops-the-point"),
        pytest.param(
            "formatDateTime('2016-01-31', 'D', 'de-DE')", "Sonntag, 31. Januar 2016", id="de-DE-long"
        ),
        pytest.param("formatDateTime('2016-01-31', 'd', 'fr-FR')", "31/01/2016", id="fr-FR-short"),
        pytest.param(
            "formatDateTime('2018-03-15T12:00:00+02:00')",
            "2018-03-15T10:00:00.0000000Z",
            id="offset-becomes-utc",
        ),
        pytest.param(
            "parseDateTime('20/10/2014', 'fr-fr')", "2014-10-20T00:00:00.0000000", id="parse-day-first"
        ),
        pytest.param(
            "parseDateTime('martes 20 octubre 2020', 'es-es')",
            "2020-10-20T00:00:00.0000000",
            id="parse-spanish-names",
        ),
        pytest.param(
            "parseDateTime('21052019', 'fr-fr', 'ddMMyyyy')", "2019-05-21T00:00:00.0000000", id="parse-exact"
        ),
        pytest.param(
            "parseDateTime('10/20/2014 15h', 'en-US', 'MM/dd/yyyy HH\\h')",
            "2014-10-20T15:00:00.0000000",
            id="parse-exact-escaped-literal",
        ),
        pytest.param(
            "addToTime('2018-01-31T00:00:00Z', 1, 'Month')",
            "2018-02-28T00:00:00.0000000Z",
            id="month-end-clamps",
        ),
        pytest.param(
            "addToTime('2018-01-01T00:00:00Z', 1, 'Day', 'D')",
            "Tuesday, January 2, 2018",
            id="addToTime-format",
        ),
        pytest.param(
            "addToTime('2018-01-01T00:00:00Z', 'P1DT2H')", "2018-01-02T02:00:00.0000000Z", id="iso-duration"
        ),
        pytest.param(
            "subtractFromTime('2018-01-02T00:00:00Z', 2, 'Weeks')",
            "2017-12-19T00:00:00.0000000Z",
            id="plural-unit",
        ),
        pytest.param(
            "startOfMonth('2018-03-15T13:30:30Z', 'yyyy-MM-dd')", "2018-03-01", id="startOfMonth-format"
        ),
        pytest.param("dayOfWeek('2018-03-15T13:27:36Z')", 4, id="dayOfWeek"),
        pytest.param("ticks('0001-01-01T00:00:01Z')", 10_000_000, id="ticks"),
        pytest.param(
            "dateDifference('2018-01-01T00:00:00', '2018-01-01T01:30:00.5')",
            "01:30:00.5000000",
            id="timespan-fraction",
        ),
        pytest.param("dateDifference('2018-01-02', '2018-01-01')", "-1.00:00:00", id="timespan-negative"),
    ],
)
def test_date_functions(text, expected) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "convertFromUtc('2018-07-01T12:00:00Z', 'W. Europe Standard Time')",
            "2018-07-01T14:00:00.0000000",
            id="summer-time",
        ),
        pytest.param(
            "convertFromUtc('2018-01-01T12:00:00Z', 'W. Europe Standard Time')",
            "2018-01-01T13:00:00.0000000",
            id="winter-time",
        ),
        pytest.param(
            "convertFromUtc('2018-01-01T12:00:00Z', 'Tokyo Standard Time', 'HH:mm')", "21:00", id="tokyo"
        ),
        pytest.param(
            "convertTimeZone('2018-03-11T01:59:59', 'Pacific Standard Time', 'UTC')",
            "2018-03-11T09:59:59.0000000Z",
            id="before-spring-forward",
        ),
        pytest.param(
            "convertTimeZone('2018-03-11T03:00:00', 'Pacific Standard Time', 'UTC')",
            "2018-03-11T10:00:00.0000000Z",
            id="after-spring-forward",
        ),
        pytest.param(
            "convertToUtc('2018-11-04T01:30:00', 'Pacific Standard Time')",
            "2018-11-04T09:30:00.0000000Z",
            id="ambiguous-hour-is-standard-time",
        ),
        pytest.param(
            "convertTimeZone('2018-06-01T12:00:00', 'Eastern Standard Time', 'Pacific Standard Time')",
            "2018-06-01T09:00:00.0000000",
            id="zone-to-zone",
        ),
        pytest.param(
            "convertFromUtc('2018-06-01T12:00:00Z', 'pacific standard time')",
            "2018-06-01T05:00:00.0000000",
            id="case-insensitive-name",
        ),
        pytest.param(
            "convertFromUtc('2018-06-01T12:00:00Z', 'Europe/Paris')",
            "2018-06-01T14:00:00.0000000",
            id="iana-name",
        ),
        pytest.param(
            "convertToUtc('2018-06-01T12:00:00Z', 'Tokyo Standard Time')",
            "2018-06-01T12:00:00.0000000Z",
            id="utc-input-stays",
        ),
    ],
)
def test_time_zones(text, expected) -> None:
    assert run(text) == expected


def test_nonexistent_local_time_is_an_error() -> None:
    with pytest.raises(ExpressionEvaluationError, match="doesn't exist in the time zone"):
        run("convertToUtc('2018-03-11T02:30:00', 'Pacific Standard Time')")


def test_unknown_zone_names_a_valid_one() -> None:
    with pytest.raises(ExpressionEvaluationError, match="use a Windows time zone name") as caught:
        run("convertFromUtc('2018-01-01T00:00:00Z', 'Mars Standard Time')")
    assert caught.value.column == 40


def test_invalid_format_is_an_error() -> None:
    with pytest.raises(ExpressionEvaluationError, match="format 'q' isn't valid"):
        run("formatDateTime('2018-01-01', 'q')")


def test_injectable_clock() -> None:
    fixed = ExpressionContext(clock=lambda: datetime(2020, 2, 29, 12, 0, tzinfo=UTC))
    assert evaluate_expression("utcNow()", fixed) == "2020-02-29T12:00:00.0000000Z"
    assert evaluate_expression("getFutureTime(1, 'Year')", fixed) == "2021-02-28T12:00:00.0000000Z"
    assert evaluate_expression("getPastTime(90, 'Minute', 't')", fixed) == "10:30 AM"


@pytest.mark.parametrize(
    ("text", "months", "seconds"),
    [
        pytest.param("PT1H", 0, 3600, id="hour"),
        pytest.param("P1DT12H30M", 0, 131400, id="day-hours-minutes"),
        pytest.param("P1Y2M", 14, 0, id="years-months"),
        pytest.param("P2W", 0, 1209600, id="weeks"),
        pytest.param("PT0.5S", 0, 0.5, id="fraction"),
        pytest.param("-P1D", 0, -86400, id="negative"),
    ],
)
def test_durations(text, months, seconds) -> None:
    duration = parse_duration(text)
    assert duration.months == months
    assert duration.ticks == seconds * 10_000_000


@pytest.mark.parametrize("text", ["P", "PT", "1H", "P1H", "PT1D"])
def test_bad_durations(text) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_duration(text)
