"""Privacy: personal data scrubbing (脱敏) before text is stored or logged."""

from shopguide.privacy.scrub import scrub

__all__ = ["scrub"]
