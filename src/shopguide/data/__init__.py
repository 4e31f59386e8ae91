"""Domain model, vocabularies, datasets, splits, loaders and the built-in demo catalog."""
