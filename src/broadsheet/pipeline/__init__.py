"""The pipeline: runs the steps in order, sources -> fetch -> extract -> dedupe -> store -> stories, for a
crawl, an import and a single article. Entry points build it with `pipeline.assemble`.

- `assemble`: the one builder of ingester, crawler and steps, from the settings.
- `ingest`: one article: merge feed and page, dedupe, store atomically.
- `crawl`: the crawl pass and the polling loop; `pool` its extraction processes; `report` what a pass did.
- `steps`: the interface of steps over stored articles; `stories` the stories step.
- `jsonl`: import and export as JSON Lines. `subscribe`: a URL the user gave, as a source.
- `schedule`: when a source is polled next.
"""
