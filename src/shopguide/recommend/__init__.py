"""Recommenders behind one protocol (see ``base``)."""
