"""The lock files read as data: what each pins, and the message a contract test gives when an internal moved.

`make lock` writes requirements.lock and requirements-test.lock; this module only reads them.
"""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = ROOT / "requirements.lock"
TEST_LOCK = ROOT / "requirements-test.lock"

_HASH = re.compile(r"\s--hash=(sha256:[0-9a-f]{64})(?=\s|$)")


@dataclass(frozen=True)
class Pin:
    name: str  # canonical (PEP 503) name
    version: str
    marker: str | None
    hashes: frozenset[str]

    def applies(self) -> bool:
        """Whether this Python on this platform installs it (its environment marker holds)."""
        return self.marker is None or Marker(self.marker).evaluate()


@cache
def read_lock(path: Path) -> dict[str, Pin]:
    """Every pin in a pip-compile lock file by canonical name; anything but `name==version` with hashes raises."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    pins: dict[str, Pin] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        hashes = frozenset(_HASH.findall(" " + line))
        requirement = Requirement(_HASH.sub("", " " + line).strip())
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or requirement.url or not hashes:
            raise ValueError(
                f"{path.name} has an entry that is not `name==version` with hashes: {line[:80]!r}"
            )
        name = canonicalize_name(requirement.name)
        if name in pins:
            raise ValueError(f"{path.name} pins {name} twice")
        marker = str(requirement.marker) if requirement.marker else None
        pins[name] = Pin(name, specifiers[0].version, marker, hashes)
    return pins


def installed_versions() -> dict[str, str]:
    """The version of every distribution in the running environment, by canonical name (the first on sys.path
    where one is installed twice: the one that imports)."""
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        found.setdefault(canonicalize_name(dist.metadata["Name"]), dist.version)
    return found


def internal_changed(package: str, checked_against: str, user: str, what: str) -> str:
    """The failure message of a contract test: which internal changed, which version was checked, what to do."""
    name = canonicalize_name(package)
    installed = installed_versions().get(name, "(not installed)")
    locked = read_lock(TEST_LOCK)[name].version
    if installed != locked:
        state = (
            f"This environment has {package} {installed}, but {TEST_LOCK.name} pins {locked}: reinstall from "
            "the lock (`make test` does so whenever a lock file is newer than .venv/.installed-test)."
        )
    elif locked == checked_against:
        state = f"{TEST_LOCK.name} pins {package}=={locked}, the version this contract was checked against."
    else:
        state = (
            f"The contract was checked against {package} {checked_against}; {TEST_LOCK.name} now pins {locked}. "
            f"Adapt {user} to {locked} and update CHECKED_AGAINST in this test, or lock the checked version "
            f"again: make lock LOCK_ARGS='-P {package}=={checked_against}'."
        )
    return f"{package} {installed} changed an internal that {user} relies on: {what}. {state}"
