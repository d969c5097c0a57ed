"""formatNumber with .NET standard and custom numeric formats in several cultures."""

from __future__ import annotations

import pytest

from tether.flows.expressions import ExpressionContext, evaluate_expression


@pytest.mark.parametrize(
    ("number", "fmt", "locale", "expected"),
    [
        pytest.param("1234.5678", "N0", "en-US", "1,235", id="N0"),
        pytest.param("1234.5678", "N", "de-DE", "1.234,57", id="N-de"),
        pytest.param("1234.5", "N2", "fr-FR", "1\u00a0234,50", id="N-fr-no-break-space"),
        pytest.param("-17.35", "C2", "en-US", "-$17.35", id="C-negative"),
        pytest.param("1234.5", "C", "de-DE", "1.234,50 €", id="C-de"),
        pytest.param("1234.5", "C", "fr-FR", "1\u00a0234,50 €", id="C-fr"),
        pytest.param("0.1234", "P", "en-US", "12.34%", id="P"),
        pytest.param("0.1234", "P1", "fr-FR", "12,3 %", id="P-fr"),
        pytest.param("1234.5678", "E", "en-US", "1.234568E+003", id="E"),
        pytest.param("1234.5678", "e2", "en-US", "1.23e+003", id="e2"),
        pytest.param("1234.5678", "F1", "en-US", "1234.6", id="F1"),
        pytest.param("2.5", "F0", "en-US", "3", id="round-half-away-from-zero"),
        pytest.param("42", "D5", "en-US", "00042", id="D5"),
        pytest.param("255", "X4", "en-US", "00FF", id="X4"),
        pytest.param("12345.678", "G4", "en-US", "1.235E+04", id="G4"),
        pytest.param("1.5", "R", "en-US", "1.5", id="R"),
        pytest.param("1234567890", "#,##0.00", "en-US", "1,234,567,890.00", id="custom-grouping"),
        pytest.param("1234567", "#,##0,K", "en-US", "1,235K", id="custom-scaling"),
        pytest.param("5551234567", "(###) ###-####", "en-US", "(555) 123-4567", id="custom-phone"),
        pytest.param("-5", "0;(0)", "en-US", "(5)", id="custom-negative-section"),
        pytest.param("0", "0.00;(0.00);zero", "en-US", "zero", id="custom-zero-section"),
        pytest.param("0.5", "0%", "en-US", "50%", id="custom-percent"),
        pytest.param("3", "00.00", "en-US", "03.00", id="custom-padding"),
        pytest.param("12.3456", "#0.0#", "en-US", "12.35", id="custom-optional-digits"),
        pytest.param("12345600000.0", "0.00E+00", "en-US", "1.23E+10", id="custom-exponent"),
        pytest.param("1234.5", "'#'0", "en-US", "#1235", id="custom-quoted-literal"),
    ],
)
def test_format_number(number, fmt, locale, expected) -> None:
    text = f"formatNumber({number}, '{fmt.replace(chr(39), chr(39) * 2)}', '{locale}')"
    assert evaluate_expression(text, ExpressionContext()) == expected
