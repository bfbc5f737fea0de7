"""Derived images: the sandbox image plus a fixture's (or suite's) packages and setup copy."""

from __future__ import annotations

import time

import pytest

from harness.errors import ImageError
from sandbox.derived import ImageFile, ImageRecipe, ensure_derived
from sandbox.fixture import FixtureSpec
from sandbox.engine import Image
from sandbox.materialize import materialise

BASE = Image(tag="fenrir-sandbox:0123456789abcdef", digest="sha256:feed", base="debian:bookworm-slim")


def test_recipes_are_tagged_by_content():
    one = ImageRecipe(("psmisc", "tree"), (ImageFile("/setup.sh", b"echo hi\n"),))
    assert one.tag(BASE) == ImageRecipe(("psmisc", "tree"), (ImageFile("/setup.sh", b"echo hi\n"),)).tag(BASE)
    assert one.tag(BASE).startswith("fenrir-sandbox:0123456789abcdef-")
    others = [ImageRecipe(("tree",), one.files), ImageRecipe(one.packages, (ImageFile("/setup.sh", b"echo ho\n"),)),
              ImageRecipe(one.packages, (ImageFile("/setup.sh", b"echo hi\n", 0o644),))]
    assert len({r.tag(BASE) for r in others + [one]}) == 4
    assert one.tag(Image(tag=BASE.tag, digest="sha256:beef", base=BASE.base)) != one.tag(BASE)  # a new base
    assert ImageRecipe(("tree",)).plus(["psmisc", "tree"]) == ImageRecipe(("psmisc", "tree"))
    assert ImageRecipe().empty and not ImageRecipe(("tree",)).empty
    assert one.dockerfile(BASE).splitlines()[:2] == [
        "FROM fenrir-sandbox:0123456789abcdef",
        "RUN apt-get update \\"]
    assert "install -y --no-install-recommends psmisc tree" in one.dockerfile(BASE)
    assert one.dockerfile(BASE).endswith("COPY files/0 /setup.sh\n")


@pytest.mark.docker
def test_packages_and_a_setup_copy_make_a_cached_derived_image(box):
    setup = "mkdir -p /srv1/a && echo x > /srv1/a/x.txt\n"
    spec = FixtureSpec(name="with-tree", root="/srv1", workdir="/", setup=setup, setup_copy="/setup.sh",
                       image={"packages": ["tree"]})
    start = time.perf_counter()
    fx = materialise(spec)  # builds the derived image (apt-get in a RUN step) unless cached
    print(f"derived image with tree ready in {time.perf_counter() - start:.1f} s")
    assert fx.image == ImageRecipe(("tree",), (ImageFile("/setup.sh", setup.encode(), 0o755),))

    ex = box.run("tree --noreport srv1; cat setup.sh; stat -c '%a %U' /setup.sh; touch /setup.sh", fx)
    assert ex.stdout == "srv1\n└── a\n    └── x.txt\n" + setup + "755 root\n"
    assert ex.exit_code != 0 and "cannot touch '/setup.sh'" in ex.stderr  # baked in: a plan cannot change it
    assert ex.image != box.image.tag and ex.image_digest != box.image.digest
    assert ex.image == ensure_derived(fx.image).tag  # cached: the same image, not a rebuild
    assert not ex.changes

    plain = materialise(FixtureSpec(name="no-tree", root="/srv1", files=[{"path": "a", "text": "a"}]))
    assert box.run("command -v tree", plain).exit_code == 1  # the sandbox image itself stays as it was
    extra = box.run("command -v tree", plain, packages=("tree",))  # a suite's packages on a plain fixture
    assert extra.stdout == "/usr/bin/tree\n" and extra.image_digest != box.image.digest


@pytest.mark.docker
def test_a_package_that_does_not_exist_is_one_clear_error():
    with pytest.raises(ImageError, match=r"packages \[no-such-package-fenrir\] failed: E: Unable to locate "
                                         r"package no-such-package-fenrir; check .* under image\.packages"):
        ensure_derived(ImageRecipe(("no-such-package-fenrir",)), log=lambda m: None)
