"""Executing one operation: IR + arguments + connection ⇒ HTTP request ⇒ policies ⇒ custom
code ⇒ transport ⇒ response. A library: needs no server and no database."""

from tether.runtime._pipeline import ConnectionContext, Exchange, Send, Stage, build_pipeline

__all__ = ["ConnectionContext", "Exchange", "Send", "Stage", "build_pipeline"]
