"""shopguide: an open-source AI shopping-guide (AI 导购) engine for e-commerce."""

__version__ = "0.1.0"
