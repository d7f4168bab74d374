"""pybruin: run Bruin projects from Python, without leaking their credentials."""

__version__ = "0.1.0"
