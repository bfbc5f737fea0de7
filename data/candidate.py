"""The record every importer produces, and where the external data sets live.

``data.nl2bash`` and ``data.tldr`` turn their sources into :class:`Candidate` rows; ``data.external``
screens, renders, runs, tags, decontaminates and splits them.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from data.screen import stages
from harness import paths
from harness.errors import DataError


def external_dir() -> Path:
    """The folder holding ``nl2bash/`` and ``tldr/`` (:func:`harness.paths.external_dir`:
    ``$FENRIR_EXTERNAL``, else ``../shared/external`` beside the repository); a DataError when it is missing."""
    path = paths.external_dir()
    if not path.is_dir():
        raise DataError(f"external data folder {path} does not exist; set FENRIR_EXTERNAL to the folder "
                        "holding nl2bash/nl2bash.jsonl and tldr/pages.jsonl")
    return path


@dataclass(frozen=True)
class Candidate:
    """One imported request and the raw command that answers it, before any check."""

    source: Literal["nl2bash", "tldr"]
    """The data set."""
    origin: str
    """Where in it: ``nl2bash:LINE`` or ``tldr:PLATFORM/PAGE:EXAMPLE``."""
    request: str
    """The request the row will carry."""
    command: str
    """The raw command, before the agent's safety pass turns it into a plan."""
    fixture: str
    """The fixture it runs on (for tldr, the one its names were drawn from)."""
    fills: tuple[str, ...] = ()
    """tldr: the values put in place of placeholders (each is said in the request)."""


def category_of(command: str) -> str:
    """A row's category: the first program its command runs (``find``, ``git``, ``tar``...), or ``shell``."""
    for _, words in stages(command):
        while words and re.match(r"[A-Za-z_]\w*\+?=", words[0]):
            words = words[1:]
        if words and re.fullmatch(r"[\w.\[/+-]+", words[0]) and not words[0].startswith("-"):
            return posixpath.basename(words[0]) or "shell"
    return "shell"
