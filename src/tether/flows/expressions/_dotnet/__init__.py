"""Private re-implementations of the .NET behaviours Logic Apps exposes through its functions.

Timestamps with 100 ns ticks, date/time and numeric format strings, lenient number parsing, culture
data and Windows time zone names. Kept apart from the functions so each piece is small and testable.
"""
