"""The lock files agree with pyproject.toml, with each other, and with the environment the tests run in."""

from __future__ import annotations

import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from locked import ROOT, RUNTIME_LOCK, TEST_LOCK, Pin, installed_versions, read_lock

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RUNTIME = [Requirement(text) for text in PYPROJECT["project"]["dependencies"]]
TEST_EXTRA = [Requirement(text) for text in PYPROJECT["project"]["optional-dependencies"]["test"]]
# `make` installs the project with --no-build-isolation, so its build backend must come from the lock too.
BUILD = [Requirement(text) for text in PYPROJECT["build-system"]["requires"]]
RELOCK = "run `make lock` and commit both lock files"


def unmet(requirements: list[Requirement], pins: dict[str, Pin]) -> list[str]:
    """The requirements (those that apply here) that the pins leave out or contradict."""
    problems = []
    for requirement in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement} is not pinned")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{requirement}, but the lock pins {pin.version}")
    return problems


def test_both_locks_pin_every_package_exactly_with_hashes_and_name_no_index() -> None:
    for lock in (RUNTIME_LOCK, TEST_LOCK):
        # read_lock refuses any entry but name==version with hashes
        assert read_lock(lock), f"{lock.name} pins nothing"
        text = lock.read_text(encoding="utf-8")
        # Hosts and local paths come from pip's own configuration on each machine, never from the lock.
        assert "://" not in text and "--find-links" not in text, f"{lock.name} names an index; {RELOCK}"


def test_runtime_dependencies_and_the_build_backend_are_pinned_in_both_locks() -> None:
    for lock in (RUNTIME_LOCK, TEST_LOCK):
        problems = unmet(RUNTIME + BUILD, read_lock(lock))
        assert not problems, f"{lock.name} is older than pyproject.toml: {'; '.join(problems)}; {RELOCK}"


def test_test_dependencies_are_pinned_in_the_test_lock() -> None:
    problems = unmet(TEST_EXTRA, read_lock(TEST_LOCK))
    assert not problems, f"{TEST_LOCK.name} is older than pyproject.toml: {'; '.join(problems)}; {RELOCK}"


def test_the_runtime_lock_pins_each_package_as_the_test_lock_does() -> None:
    runtime, test = read_lock(RUNTIME_LOCK), read_lock(TEST_LOCK)
    differ = [
        f"{name}=={pin.version} (test lock: {test[name].version if name in test else 'absent'})"
        for name, pin in runtime.items()
        if test.get(name) != pin
    ]
    assert not differ, (
        f"{RUNTIME_LOCK.name} and {TEST_LOCK.name} disagree (version, marker or hashes), so the tests would "
        f"not run what `make run` serves: {', '.join(differ)}; {RELOCK} (it resolves the runtime lock within "
        "the test lock)"
    )


def test_torch_is_locked_to_the_cpu_build_of_the_version_pyproject_names() -> None:
    (torch,) = [r for r in RUNTIME if canonicalize_name(r.name) == "torch"]
    (exact,) = torch.specifier
    assert exact.operator == "==", (
        "pyproject.toml must name one torch version (the ONNX export is checked on it)"
    )
    for lock in (RUNTIME_LOCK, TEST_LOCK):
        pins = read_lock(lock)
        version = Version(pins["torch"].version)
        assert (version.public, version.local) == (exact.version, "cpu"), (
            f"{lock.name} pins torch=={version}, not {exact.version}+cpu: make lock where pip's configuration "
            "offers the CPU build (see pyproject.toml); the default build brings several GB of CUDA libraries"
        )
        cuda = sorted(name for name in pins if name.startswith("nvidia-") or name == "triton")
        assert not cuda, f"{lock.name} pins CUDA packages {cuda}, which only a CUDA build of torch needs"


def test_the_environment_has_exactly_the_locked_versions() -> None:
    installed = installed_versions()
    wrong = [
        f"{name} {installed.get(name, 'missing')} (locked: {pin.version})"
        for name, pin in read_lock(TEST_LOCK).items()
        if pin.applies() and installed.get(name) != pin.version
    ]
    assert not wrong, (
        f"the tests run in an environment that differs from {TEST_LOCK.name}: {', '.join(wrong)}. Reinstall "
        "from the lock: `make test` does so whenever a lock file is newer than .venv/.installed-test "
        "(delete that file to force it)"
    )
    cuda = sorted(name for name in installed if name.startswith("nvidia-"))
    assert not cuda, f"CUDA libraries {cuda} are installed: a CUDA build of torch was installed here once"
