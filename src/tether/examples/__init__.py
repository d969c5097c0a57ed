"""Example connectors and the small real services behind them, used by ``tether demo``."""
