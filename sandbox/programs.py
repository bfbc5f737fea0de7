"""The command names a plan can run in a sandbox image, found by asking the image itself.

It runs ``compgen -c`` in a pooled container, so it sits above the pool
(:mod:`sandbox.pool`), never inside the engine module below it.  The answer is
cached per image digest under Fenrir's cache.
"""

from __future__ import annotations

import json

from filelock import FileLock

from harness.atomic import write_text
from harness.paths import cache_dir
from sandbox.engine import Image
from sandbox.fixture import FixtureSpec
from sandbox.materialize import materialise
from sandbox.pool import default_sandbox

RUN_LABEL = "programs"
"""The ``fenrir.run`` label of the containers that list an image's programs."""


def programs(image: Image) -> frozenset[str]:
    """Every command name the plan user can run in the image (``compgen -c``), cached per digest."""
    path = cache_dir("programs") / f"{image.digest.replace(':', '-')}.json"
    with FileLock(str(path) + ".lock"):
        if not path.exists():
            empty = materialise(FixtureSpec(name="empty", files=[{"path": ".keep", "text": ""}]))
            ex = default_sandbox(run=RUN_LABEL).run("compgen -c | LC_ALL=C sort -u", empty, image=image)
            write_text(path, json.dumps([n for n in ex.stdout.split() if n]))
    return frozenset(json.loads(path.read_text(encoding="utf-8")))
