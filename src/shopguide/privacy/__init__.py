"""Privacy: personal data scrubbing (脱敏) before text is stored or logged, pseudonymous shopper ids
(`pseudonym`), export and erasure (`erasure`), retention (`retention`)."""

from shopguide.privacy.scrub import PiiSpan, find_pii, scrub, scrub_value

__all__ = ["PiiSpan", "find_pii", "scrub", "scrub_value"]
