"""glob_files answers exactly as glob does, on the patterns it lists by hand too."""

from __future__ import annotations

import glob
import os
import string
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from portreg.io.files import glob_files

NAMES = st.text(alphabet=string.ascii_lowercase + ".-_", min_size=1, max_size=8).filter(
    lambda name: name not in (".", "..")
)
PATTERNS = st.sampled_from(
    [
        "d/*.yaml",
        "d/*",
        "d/.*",
        "d/a*",
        "d/*a",
        "*.yaml",
        "d/*.y*l",
        "e/*.yaml",
        "d/**/*.yaml",
        "d/*/a",
        "d/*/a.yaml",
        "*/a",
        "e/*/a",
        "k/**/*.yaml",
        "d/**",
        "**/*.yaml",
        "d/**/a*",
        "d/[ab]*",
        "d/[!a]*.yaml",
        "d/**/*/a",
    ]
)


def reference(root: str, pattern: str) -> list[str]:
    found = glob.glob(pattern, root_dir=root, recursive=True)
    return sorted(name for name in found if os.path.isfile(os.path.join(root, name)))


@settings(max_examples=150, deadline=None)
@given(st.lists(NAMES, max_size=8), st.lists(NAMES, max_size=3), PATTERNS)
def test_glob_files_agrees_with_glob(files: list[str], folders: list[str], pattern: str) -> None:
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "d"))
        for name in folders:
            os.makedirs(os.path.join(root, "d", name), exist_ok=True)
            for inner in files[:3]:  # a file per service folder (d/<folder>/a.yaml ...)
                open(os.path.join(root, "d", name, inner), "w").close()
        for name in files:
            path = os.path.join(root, "d", name)
            if not os.path.isdir(path):
                open(path, "w").close()
        assert glob_files(root, pattern) == reference(root, pattern)


def test_a_folder_symlink_is_never_followed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A link loop or a link to / under k8s/ would make a following walk run forever."""
    root = tmp_path / "repo"
    (root / "k8s/apps").mkdir(parents=True)
    (root / "k8s/apps/web.yaml").write_text("kind: Service\n")
    for name in ("a", "b", "c"):
        (root / "k8s" / name).symlink_to(".")
    (root / "k8s/everything").symlink_to("/")
    (root / "k8s/one.yaml").symlink_to(root / "k8s/apps/web.yaml")  # a file link is listed
    assert glob_files(str(root), "k8s/**/*.yaml") == ["k8s/apps/web.yaml", "k8s/one.yaml"]
