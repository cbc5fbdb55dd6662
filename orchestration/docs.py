"""The dbt docs site of the published warehouse: `make docs` (generate and serve), `make docs-build`.

`dbt docs generate` opens the database to read its catalog, which fails while anyone else has the
warehouse open; so it runs on a copy (`Settings.docs_dir`, beside the warehouse), and readers of
the warehouse are never in its way. The site (index.html, manifest.json, catalog.json) is written
to `<docs dir>/target`.

    python -m orchestration.docs            # generate
    python -m orchestration.docs --serve    # generate, then serve on DOCS_HOST:DOCS_PORT
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .dbt_project import build_vars
from .settings import DBT_FILE, DBT_PROJECT_DIR, Settings, SettingsError, dbt_executable

PARTIAL_PARSE = "partial_parse.msgpack"


class DocsError(RuntimeError):
    """The docs could not be built; the message says why (no warehouse, dbt's own error)."""


def _dbt(args: list[str], copy: Path, target: Path) -> list[str]:
    return [
        dbt_executable(),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        *build_vars(copy, only_changed_reports=False),
    ]


def build_docs(settings: Settings) -> Path:
    """Copy the published warehouse and run `dbt docs generate` on the copy; returns the folder of
    the site. Raises DocsError when there is no warehouse or dbt fails (with dbt's output)."""
    if not settings.warehouse.is_file():
        raise DocsError(f"no warehouse at {settings.warehouse}: run `make run` first")
    folder = settings.docs_dir
    folder.mkdir(parents=True, exist_ok=True)
    copy, target = folder / DBT_FILE, folder / "target"
    shutil.copyfile(settings.warehouse, copy)
    target.mkdir(exist_ok=True)
    parsed = DBT_PROJECT_DIR / "target" / PARTIAL_PARSE
    if parsed.exists():  # dbt's partial parsing: seconds instead of a full parse
        shutil.copyfile(parsed, target / PARTIAL_PARSE)
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(
        _dbt(["docs", "generate"], copy, target), capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise DocsError(f"dbt docs generate failed:\n{done.stdout[-4000:]}{done.stderr[-2000:]}")
    json.loads((target / "catalog.json").read_text(encoding="utf-8"))  # written whole, or raise
    return target


def serve_docs(settings: Settings, host: str, port: int) -> None:
    """Serve the generated site (blocks; Ctrl-C stops)."""
    folder = settings.docs_dir
    copy, target = folder / DBT_FILE, folder / "target"
    subprocess.run(
        _dbt(["docs", "serve", "--host", host, "--port", str(port), "--no-browser"], copy, target),
        check=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="serve the site after generating it")
    parser.add_argument("--host", default=os.environ.get("DOCS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DOCS_PORT", "8080")))
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        target = build_docs(settings)
    except (SettingsError, DocsError) as exc:
        print(f"docs: {exc}", file=sys.stderr)
        return 1
    print(f"docs generated in {target}")
    if args.serve:
        print(f"serving on http://{args.host}:{args.port}")
        serve_docs(settings, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
