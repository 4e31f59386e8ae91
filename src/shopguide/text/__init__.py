"""Text processing shared by search, content models and the guide: normalisation and tokenisation."""
