"""The tutorial's Sentiment connector and a real service for it (see ``service.py``)."""
