"""A small labelled failure-text CSV in LogChunks' columns, for training the failure classifier in tests."""

from __future__ import annotations

import csv
from pathlib import Path

TEXTS = {
    "transient": [
        "curl: (56) Recv failure: Connection reset by peer while fetching the mirror {n}",
        "fatal: unable to access mirror {n}: Connection timed out after 30001 milliseconds",
    ],
    "dependency": [
        "Could not resolve dependencies for project widget-{n}: artifact not found in central",
        "npm ERR! 404 Not Found - GET registry package widget-{n} - version not published",
    ],
    "permanent": [
        "AssertionError: expected {n} but was {n}1 in WidgetTest.testCount",
        "error: cannot find symbol widget{n} in class WidgetParser compilation failed",
    ],
}


def write_labelled(path: Path, repositories: int = 6) -> Path:
    """LogChunks' columns: two rows of each category per repository, 36 rows by default."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "index", "log", "text", "label", "confidence"])
        for repo in range(repositories):
            for label, templates in TEXTS.items():
                for index, template in enumerate(templates):
                    log = f"Java/org{repo}@widget/failed/{1000 + 10 * repo + index}.log"
                    writer.writerow(
                        [
                            f"reason/Java/org{repo}@widget.xml",
                            index,
                            log,
                            template.format(n=repo),
                            label,
                            "high",
                        ]
                    )
    return path
