from __future__ import annotations

from pathlib import Path

import pytest

from broadsheet.config import DEFAULT_HOME, Settings, load_settings
from broadsheet.errors import ConfigError


def test_defaults_put_the_database_in_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BROADSHEET_HOME", raising=False)
    settings = load_settings(tmp_path)
    assert settings.database == f"sqlite:///{(tmp_path / 'broadsheet.db').resolve()}"
    assert settings.allow_private_networks is False
    assert settings.max_response_bytes == 10_000_000
    assert settings.per_host_connections == 2


def test_toml_in_home_is_read_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broadsheet.toml").write_text("per_host_delay = 0.25\nretries = 4\n")
    assert load_settings(tmp_path).per_host_delay == 0.25
    monkeypatch.setenv("BROADSHEET_RETRIES", "1")
    settings = load_settings(tmp_path)
    assert (settings.per_host_delay, settings.retries) == (0.25, 1)


def test_home_comes_from_environment_when_not_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROADSHEET_HOME", str(tmp_path))
    assert load_settings().home == tmp_path


def test_folders_set_empty_are_their_defaults_not_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `BROADSHEET_MODELS_DIR=` in a unit file once put 170 MB of models wherever the command ran.
    monkeypatch.setenv("BROADSHEET_HOME", " ")
    monkeypatch.setenv("BROADSHEET_MODELS_DIR", "")
    settings = load_settings()
    assert settings.home == DEFAULT_HOME and settings.models_dir is None
    assert Settings(home=tmp_path, models_dir="").models_dir is None  # type: ignore[arg-type]
    monkeypatch.setenv("BROADSHEET_MODELS_DIR", str(tmp_path / "models"))
    assert load_settings(tmp_path).models_dir == tmp_path / "models"


def test_allow_private_networks_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROADSHEET_ALLOW_PRIVATE_NETWORKS", "true")
    assert load_settings(tmp_path).allow_private_networks is True


def test_invalid_values_name_the_setting(tmp_path: Path) -> None:
    (tmp_path / "broadsheet.toml").write_text("per_host_connections = 0\n")
    with pytest.raises(ConfigError, match="per_host_connections"):
        load_settings(tmp_path)


def test_unknown_settings_are_refused(tmp_path: Path) -> None:
    (tmp_path / "broadsheet.toml").write_text("per_host_conections = 3\n")
    with pytest.raises(ConfigError, match="per_host_conections"):
        load_settings(tmp_path)


def test_poll_intervals_must_be_ordered(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="min_poll_interval"):
        Settings(home=tmp_path, min_poll_interval=5000, default_poll_interval=1800)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://news.example.org/", "https://news.example.org"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_base_url_is_kept_without_its_trailing_slash(tmp_path: Path, given: str, kept: str) -> None:
    assert load_settings(tmp_path, base_url=given).base_url == kept


@pytest.mark.parametrize(
    "given",
    [
        "news.example.org",
        "ftp://news.example.org",
        "https://news.example.org/news",
        "https://u:p@news.example.org",
        "https://news.example.org/#top",
        "https://news.example.org/?a=1",
    ],
)
def test_base_url_must_be_a_site_address_alone(tmp_path: Path, given: str) -> None:
    with pytest.raises(ConfigError, match="base_url"):
        load_settings(tmp_path, base_url=given)
