"""Analytics and tag-manager ids: the same id on two sites means one owner.

Universal Analytics (UA-<account>-<property>), Google Analytics 4 (G-XXXXXXXXXX) and
Google Tag Manager (GTM-XXXXXXX). The account part of a UA id is what ties sites
together, so it is kept in the details.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .base import Artefact, Document, snippet

UA = re.compile(r"\bUA-(\d{4,10})-(\d{1,4})\b")
GA4 = re.compile(r"\bG-(?=[A-Z0-9]*\d)[A-Z0-9]{8,12}\b")
GTM = re.compile(r"\bGTM-(?=[A-Z0-9]*\d)[A-Z0-9]{4,9}\b")


def find(doc: Document) -> Iterator[Artefact]:
    """Every analytics id in the document (scripts included)."""
    text = doc.plain
    for match in UA.finditer(text):
        yield Artefact(
            "analytics_id",
            match.group(0),
            match.group(0),
            snippet(text, match.start(), match.end()),
            {"service": "universal-analytics", "account": f"UA-{match.group(1)}"},
        )
    for pattern, service in ((GA4, "google-analytics-4"), (GTM, "google-tag-manager")):
        for match in pattern.finditer(text):
            yield Artefact(
                "analytics_id",
                match.group(0),
                match.group(0),
                snippet(text, match.start(), match.end()),
                {"service": service},
            )
