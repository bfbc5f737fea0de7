"""Slot values: the names and numbers each training fixture can answer for.

``FACTS[fixture][kind]`` is a list of slot dicts; a template of that kind is
filled from one of them (plus the shared number and name lists below).  Every
name here exists in its fixture (``fixtures/train-*.yaml``); whether a filled
template really prints or changes something is decided by running it
(``data.verify``), not by this table.
"""

from __future__ import annotations


def _ext(ext, lang, *dirs):
    return [{"ext": ext, "lang": lang, "dir": d} for d in dirs]


def _files(*paths):
    return [{"file": p} for p in paths]


def _dirs(*paths):
    return [{"dir": p} for p in paths]


FACTS: dict[str, dict[str, list[dict]]] = {
    "train-a": {
        "ext_dir": (_ext("py", "Python", "webapp", "webapp/src", "webapp/tests") + _ext("js", "JavaScript", "webapp", "webapp/src/static")
                    + _ext("md", "Markdown", "webapp", "webapp/docs", "reports", "notes") + _ext("csv", "CSV", "reports", "data")
                    + _ext("json", "JSON", "webapp/config", "reports") + _ext("txt", "text", "data", "notes")
                    + _ext("sh", "shell", "scripts") + _ext("log", "log", "logs") + _ext("tmp", "temporary", "tmp")),
        "ext_here": _ext("py", "Python", ".") + _ext("js", "JavaScript", ".") + _ext("csv", "CSV", ".") + _ext("json", "JSON", ".")
                    + _ext("md", "Markdown", ".") + _ext("log", "log", ".") + _ext("sh", "shell", "."),
        "image": [{"ext": "jpg", "label": "JPEG", "plural": "jpgs", "dir": d} for d in (".", "photos", "photos/vacation")]
                 + [{"ext": "png", "label": "PNG", "plural": "pngs", "dir": d} for d in (".", "photos")],
        "name": [{"name": n} for n in ("helpers.py", "settings.json", "todo.txt", "cart.js", "sales.csv", "deploy.sh", "guide.md", "server.log")],
        "tree": _dirs(".", "webapp", "logs", "photos", "reports", "tmp", "notes", "data"),
        "code_word": [{"word": w, "ext": e, "lang": l, "dir": d} for w, e, l, d in (
            ("TODO", "py", "Python", "webapp"), ("FIXME", "py", "Python", "webapp"), ("import", "py", "Python", "webapp/src"),
            ("def", "py", "Python", "webapp/src/utils"), ("console.log", "js", "JavaScript", "webapp"), ("TODO", "js", "JavaScript", "webapp/src"),
            ("deprecated", "py", "Python", "webapp"), ("fetch", "js", "JavaScript", "webapp"), ("TODO", "md", "Markdown", "."))],
        "file_word": [{"word": w, "file": f} for w, f in (
            ("ERROR", "logs/server.log"), ("WARN", "logs/access.log"), ("DEBUG", "app.log"), ("404", "logs/server.log"),
            ("login", "app.log"), ("worker-3", "logs/access.log"), ("ERROR", "app.log"), ("north", "reports/sales.csv"),
            ("Oslo", "data/cities.txt"), ("example.com", "data/emails.txt"), ("localhost", "webapp/config/settings.json"))],
        "log": _files("logs/server.log", "logs/access.log", "app.log", "logs/old/2023-12.log", "logs/old/2024-01.log"),
        "text": _files("data/words.txt", "notes/todo.txt", "reports/summary.md", "webapp/README.md", "webapp/src/app.py", "data/cities.txt"),
        "dups": _files("data/cities.txt", "data/emails.txt"),
        "csv": [{"file": f, "col": c, "colname": n} for f, c, n in (
            ("reports/sales.csv", 3, "amount"), ("reports/sales.csv", 1, "region"), ("reports/q3.csv", 2, "units"),
            ("data/users.csv", 3, "age"), ("data/users.csv", 2, "name"))],
        "dir": _dirs("webapp", "logs", "photos", "reports", "data", "notes", "scripts", "photos/vacation", "webapp/src"),
        "archive": [{"archive": a} for a in ("archive/site-2024.tar.gz", "docs-old.tar.gz")],
        "zip": [],
        "repo": [{"repo": "webapp"}],
        "script": _files("scripts/deploy.sh", "scripts/cleanup.sh", "scripts/backup.py"),
        "private": _files("webapp/config/settings.json", "notes/todo.txt", "data/emails.txt", "reports/expenses.json"),
        "move": [{"file": f, "dir": d} for f, d in (
            ("notes/todo.txt", "archive"), ("reports/q3.csv", "archive"), ("data/words.txt", "notes"), ("app.log", "logs"),
            ("scripts/backup.py", "build"), ("reports/summary.md", "notes"))],
        "replace": [{"file": f, "a": a, "b": b} for f, a, b in (
            ("webapp/config/settings.json", "localhost", "0.0.0.0"), ("webapp/config/settings.json", "8080", "9090"),
            ("reports/sales.csv", "north", "NORTH"), ("data/cities.txt", "Oslo", "Bergen"), ("notes/todo.txt", "docs", "documentation"),
            ("app.log", "INFO", "info"), ("webapp/README.md", "shop", "store"), ("logs/server.log", "GET", "FETCH"))],
        "backup": [{"pattern": p, "dir": d} for p, d in (
            ("*~", "."), ("*~", "webapp"), ("*.bak", "."), ("*.bak", "reports"), ("*.tmp", "tmp"), ("*.tmp", "."), ("*.log", "logs/old"))],
        "old": [{"dir": d} for d in (".", "logs", "tmp", "photos", "webapp")],
        "empty": _dirs(".", "build"),
        "bigdir": _dirs(".", "photos", "photos/vacation"),
        "untracked": [{"repo": "webapp"}],
        "links": _dirs(".", "logs", "scripts"),
        "dirname": [{"dname": n} for n in ("src", "tests", "utils", "static", "old", "docs", "config", "vacation")],
        "repo_file": [{"repo": "webapp", "path": p} for p in ("CHANGELOG.md", "docs/api.md", ".gitignore")],
    },
    "train-b": {
        "ext_dir": (_ext("py", "Python", "analysis", "analysis/pipeline") + _ext("js", "JavaScript", "website", "website/components")
                    + _ext("md", "Markdown", "analysis", "documents", "website") + _ext("csv", "CSV", "documents", "analysis/data")
                    + _ext("txt", "text", "lists", "documents") + _ext("json", "JSON", "documents") + _ext("log", "log", "logs")
                    + _ext("sh", "shell", "bin") + _ext("pdf", "PDF", "documents", "documents/old") + _ext("tmp", "temporary", "scratch")),
        "ext_here": _ext("py", "Python", ".") + _ext("js", "JavaScript", ".") + _ext("txt", "text", ".") + _ext("pdf", "PDF", ".")
                    + _ext("md", "Markdown", ".") + _ext("csv", "CSV", "."),
        "image": [{"ext": "jpg", "label": "JPEG", "plural": "jpgs", "dir": d} for d in (".", "pictures", "pictures/2023", "images")]
                 + [{"ext": "png", "label": "PNG", "plural": "pngs", "dir": d} for d in (".", "pictures")],
        "name": [{"name": n} for n in ("train.py", "nav.js", "budget.csv", "letter.txt", "error.log", "hosts.txt", "config.ini", "encode.py")],
        "tree": _dirs(".", "analysis", "website", "logs", "pictures", "documents", "lists", "scratch"),
        "code_word": [{"word": w, "ext": e, "lang": l, "dir": d} for w, e, l, d in (
            ("TODO", "py", "Python", "analysis"), ("FIXME", "py", "Python", "analysis"), ("import", "py", "Python", "analysis"),
            ("SEED", "py", "Python", "analysis/pipeline"), ("export", "js", "JavaScript", "website"), ("TODO", "js", "JavaScript", "website"),
            ("console.log", "js", "JavaScript", "."), ("def", "py", "Python", "."))],
        "file_word": [{"word": w, "file": f} for w, f in (
            ("ERROR", "logs/worker.log"), ("WARN", "debug.log"), ("DEBUG", "logs/cron.log"), ("500", "logs/nginx/error.log"),
            ("/api/users", "logs/worker.log"), ("worker-2", "debug.log"), ("food", "documents/budget.csv"), ("apple", "lists/fruits.txt"),
            ("10.0.0", "lists/hosts.txt"), ("SE", "analysis/data/customers.csv"), ("host", "config.ini"))],
        "log": _files("logs/worker.log", "logs/cron.log", "logs/nginx/error.log", "debug.log"),
        "text": _files("documents/letter.txt", "documents/resume.md", "lists/fruits.txt", "lists/scores.txt", "config.ini",
                       "analysis/pipeline/train.py", "analysis/README.md"),
        "dups": _files("lists/fruits.txt", "lists/scores.txt"),
        "csv": [{"file": f, "col": c, "colname": n} for f, c, n in (
            ("documents/budget.csv", 2, "amount"), ("documents/budget.csv", 1, "category"), ("analysis/data/customers.csv", 4, "spend"),
            ("analysis/data/customers.csv", 2, "country"), ("analysis/data/customers.csv", 1, "id"))],
        "dir": _dirs("analysis", "website", "logs", "pictures", "documents", "lists", "images", "pictures/2024", "bin"),
        "archive": [{"archive": a} for a in ("old-stuff.tar.gz", "backups/lists-2024.tar.gz")],
        "zip": [{"zip": "backups/site.zip"}],
        "repo": [{"repo": "analysis"}, {"repo": "website"}],
        "script": _files("bin/sync.sh", "bin/report.sh"),
        "private": _files("config.ini", "documents/budget.csv", "documents/letter.txt", "lists/hosts.txt"),
        "move": [{"file": f, "dir": d} for f, d in (
            ("debug.log", "logs"), ("config.ini.old", "backups"), ("lists/hosts.txt", "documents"), ("scratch/a.tmp", "downloads"),
            ("documents/resume.md", "downloads"), ("images/banner.jpg", "pictures"))],
        "replace": [{"file": f, "a": a, "b": b} for f, a, b in (
            ("config.ini", "127.0.0.1", "0.0.0.0"), ("config.ini", "5000", "8000"), ("lists/fruits.txt", "apple", "mango"),
            ("documents/letter.txt", "Sam", "Alex"), ("documents/budget.csv", "food", "groceries"), ("debug.log", "WARN", "WARNING"),
            ("analysis/pipeline/train.py", "0.01", "0.001"), ("lists/hosts.txt", "10.0.0", "192.168.1"))],
        "backup": [{"pattern": p, "dir": d} for p, d in (
            ("*~", "."), ("*~", "documents"), ("*.bak", "."), ("*.bak", "analysis"), ("*.old", "."), ("*.tmp", "scratch"),
            ("*.pdf", "documents/old"))],
        "old": [{"dir": d} for d in (".", "pictures", "documents", "logs", "analysis")],
        "empty": _dirs(".", "downloads"),
        "bigdir": _dirs(".", "pictures", "pictures/2024", "documents", "documents/old", "images"),
        "untracked": [{"repo": "analysis"}],
        "links": _dirs(".", "bin"),
        "dirname": [{"dname": n} for n in ("pipeline", "components", "nginx", "old", "thumbs", "2023", "features")],
        "repo_file": [{"repo": r, "path": p} for r, p in (
            ("analysis", "NOTES.md"), ("analysis", ".gitignore"), ("website", "CNAME"), ("website", ".gitignore"))],
    },
    "train-c": {
        "ext_dir": (_ext("py", "Python", "project", "project/src", "src", "src/tools") + _ext("js", "JavaScript", "project", "project/src/web")
                    + _ext("md", "Markdown", "project", "project/docs", "docs") + _ext("csv", "CSV", "reports")
                    + _ext("txt", "text", "docs") + _ext("log", "log", "logs") + _ext("jpg", "JPEG", "photos")),
        "ext_here": _ext("py", "Python", ".") + _ext("csv", "CSV", ".") + _ext("md", "Markdown", ".") + _ext("mp3", "MP3", ".")
                    + _ext("log", "log", "."),
        "image": [{"ext": "jpg", "label": "JPEG", "plural": "jpgs", "dir": d} for d in (".", "photos", "photos/wedding")]
                 + [{"ext": "png", "label": "PNG", "plural": "pngs", "dir": d} for d in (".", "photos")],
        "name": [{"name": n} for n in ("core.py", "server.js", "faq.md", "march.csv", "deploy.log", "convert.py", "song.mp3", "Makefile")],
        "tree": _dirs(".", "project", "src", "docs", "reports", "photos", "logs", "music"),
        "code_word": [{"word": w, "ext": e, "lang": l, "dir": d} for w, e, l, d in (
            ("TODO", "py", "Python", "project"), ("FIXME", "py", "Python", "project"), ("import", "py", "Python", "src"),
            ("class", "py", "Python", "project/src"), ("require", "js", "JavaScript", "project"), ("TODO", "py", "Python", "src"),
            ("deprecated", "py", "Python", "."), ("json", "py", "Python", "src/tools"))],
        "file_word": [{"word": w, "file": f} for w, f in (
            ("ERROR", "logs/app.log"), ("WARN", "logs/deploy.log"), ("DEBUG", "logs/app.log"), ("/health", "logs/app.log"),
            ("worker-1", "logs/deploy.log"), ("rome", "names.csv"), ("pay", "todo.txt"), ("alpha", "docs/manual.txt"))],
        "log": _files("logs/app.log", "logs/deploy.log", "logs/app.log.bak"),
        "text": _files("docs/manual.txt", "todo.txt", "names.csv", "docs/changes.md", "project/src/core.py", "project/Makefile"),
        "dups": _files("todo.txt",),
        "csv": [{"file": f, "col": c, "colname": n} for f, c, n in (
            ("reports/march.csv", 2, "visits"), ("reports/april.csv", 2, "visits"), ("names.csv", 2, "city"), ("names.csv", 1, "name"))],
        "dir": _dirs("project", "src", "docs", "reports", "photos", "logs", "music", "photos/wedding", "project/src"),
        "archive": [{"archive": "docs-backup.tar.gz"}],
        "zip": [],
        "repo": [{"repo": "project"}, {"repo": "notes-repo"}],
        "script": _files("run.sh",),
        "private": _files("todo.txt", "names.csv", "docs/manual.txt", "project/Makefile"),
        "move": [{"file": f, "dir": d} for f, d in (
            ("todo.txt", "docs"), ("names.csv", "reports"), ("logs/app.log.bak", "empty-dir"), ("music/demo.wav", "photos"),
            ("run.sh", "project"))],
        "replace": [{"file": f, "a": a, "b": b} for f, a, b in (
            ("todo.txt", "rent", "bills"), ("names.csv", "rome", "milan"), ("docs/changes.md", "faster", "quicker"),
            ("project/src/core.py", "running", "started"), ("logs/app.log", "ERROR", "FAIL"), ("docs/manual.txt", "alpha", "ALPHA"))],
        "backup": [{"pattern": p, "dir": d} for p, d in (
            ("*~", "."), ("*~", "src"), ("*.bak", "."), ("*.bak", "logs"), ("*.wav", "music"), ("*.log", "logs"))],
        "old": [{"dir": d} for d in (".", "photos", "reports", "src", "logs")],
        "empty": _dirs(".", "empty-dir"),
        "bigdir": _dirs(".", "photos", "music", "photos/wedding"),
        "untracked": [{"repo": "project"}],
        "links": _dirs(".", "music"),
        "dirname": [{"dname": n} for n in ("src", "db", "web", "docs", "wedding", "tools")],
        "repo_file": [{"repo": r, "path": p} for r, p in (
            ("project", "VERSION"), ("project", ".gitignore"), ("notes-repo", "ideas.md"))],
    },
}

NUMBERS = {
    "n": [3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50],
    "mb": [1, 2, 3, 5, 6, 8, 10],
    "kb": [50, 100, 200, 500, 1000],
    # never a file's age in the fixtures (whole days): find -mtime on an age at the boundary
    # would pass or fail with the milliseconds between loading the fixture and running the plan
    "days": [7, 13, 16, 17, 22, 24, 28, 36, 42, 58, 65, 75, 110, 135, 160, 250],
    "branch": ["feature/search", "fix-typo", "experiment-2", "docs-update", "hotfix/payment", "release-3.0",
               "add-tests", "refactor-db", "wip", "spike/cache", "feature/dark-mode", "bugfix-42", "cleanup"],
    "venv": ["env", ".venv", "myenv", "pyenv", "venv-dev", "sandbox-env", "tools", ".env", "py311", "requests-env"],
    "newdir": ["build/out", "exports", "tmp/exports", "archive/2024", "new-project/src", "data/raw", "releases/v1",
               "backup-old", "scratch/notes", "out"],
    "mode": [("600", "only the owner can read and write"), ("700", "only the owner can read, write and run"),
             ("640", "owner read-write, group read-only"), ("400", "read-only for the owner and nobody else"),
             ("755", "executable by everyone, writable only by the owner")],
}
"""Shared slot values; a template draws the ones it names."""

PATTERN_WORDS = {
    "*~": ("files ending in ~", "editor backup files ending in a tilde", "files whose names end with ~",
           "~ backup files my editor left behind"),
    "*.bak": ("files that end with .bak", ".bak backup files", "files with the .bak extension", "backup files ending in .bak"),
    "*.tmp": ("temporary .tmp files", "files with the .tmp extension", ".tmp files"),
    "*.old": ("files with the .old extension", "files that end with .old", "old copies ending in .old"),
    "*.log": (".log files", "files ending in .log", "log files with the .log extension"),
    "*.pdf": ("PDF files ending in .pdf", ".pdf files"),
    "*.wav": (".wav audio files", "files with the .wav extension"),
}
"""How a user says a glob in words (``{pwords}``); each names exactly the files the glob matches."""

MORE_FACTS: dict[str, dict[str, list[dict]]] = {
    "train-a": {
        "log": _files("logs/old/2023-12.log", "logs/old/2024-01.log", "logs/access.log"),
        "text": _files("webapp/docs/api.md", "webapp/docs/guide.md", "webapp/src/utils/helpers.py", "notes/meeting.md",
                       "webapp/tests/test_app.py", "webapp/src/static/main.js", "webapp/config/settings.json"),
        "dups": _files("data/words.txt", "notes/todo.txt", "webapp/src/static/main.js", "logs/old/2024-01.log"),
        "file_word": [{"word": w, "file": f} for w, f in (
            ("slugify", "webapp/src/utils/helpers.py"), ("TODO", "webapp/src/app.py"), ("GET", "webapp/docs/api.md"),
            ("fetch", "webapp/src/static/main.js"), ("price", "webapp/src/static/cart.js"), ("ERROR", "logs/old/2023-12.log"),
            ("port", "webapp/config/settings.json"), ("make", "webapp/docs/guide.md"))],
        "replace": [{"file": f, "a": a, "b": b} for f, a, b in (
            ("webapp/docs/guide.md", "server", "backend"), ("webapp/src/static/main.js", "items", "products"),
            ("webapp/src/utils/cache.py", "CACHE", "STORE"), ("webapp/docs/api.md", "orders", "invoices"),
            ("logs/old/2024-01.log", "INFO", "NOTE"))],
        "csv": [{"file": "reports/sales.csv", "col": 2, "colname": "month"}, {"file": "data/users.csv", "col": 1, "colname": "id"}],
        "private": _files("webapp/docs/api.md", "webapp/src/utils/helpers.py", "logs/old/2023-12.log", "notes/meeting.md"),
        "script": _files("webapp/src/app.py", "webapp/src/utils/helpers.py"),
        "dir": _dirs("webapp/src/static", "webapp/docs", "logs/old", "tmp/cache", "webapp/config", "webapp/tests"),
        "tree": _dirs("webapp/src", "photos/vacation", "logs/old", "webapp/docs"),
        "move": [{"file": f, "dir": d} for f, d in (
            ("webapp/docs/guide.md", "notes"), ("logs/old/2023-12.log", "archive"), ("tmp/cache/page.tmp", "build"),
            ("photos/vacation/harbor.jpg", "photos"), ("webapp/config/settings.json.bak", "archive"))],
        "code_word": [{"word": w, "ext": e, "lang": l, "dir": d} for w, e, l, d in (
            ("TODO", "py", "Python", "webapp/src/utils"), ("console.log", "js", "JavaScript", "webapp/src/static"),
            ("import", "py", "Python", "webapp/tests"))],
        "ext_dir": _ext("py", "Python", "webapp/src/utils") + _ext("md", "Markdown", "webapp/docs") + _ext("log", "log", "logs/old")
                   + _ext("tmp", "temporary", "tmp/cache"),
    },
    "train-b": {
        "log": _files("logs/nginx/error.log", "logs/cron.log"),
        "text": _files("analysis/notebooks/explore.md", "analysis/pipeline/clean.py", "website/README.md",
                       "analysis/pipeline/features/encode.py", "website/components/app.js", "documents/inventory.json",
                       "analysis/tests/test_clean.py"),
        "dups": _files("lists/hosts.txt", "documents/budget.csv", "analysis/data/customers.csv"),
        "file_word": [{"word": w, "file": f} for w, f in (
            ("TODO", "analysis/pipeline/clean.py"), ("SEED", "analysis/pipeline/train.py"), ("FIXME", "analysis/pipeline/features/encode.py"),
            ("render", "website/components/app.js"), ("Churn", "analysis/notebooks/explore.md"), ("pro", "analysis/data/customers.csv"),
            ("links", "website/components/nav.js"), ("Python", "documents/resume.md"))],
        "replace": [{"file": f, "a": a, "b": b} for f, a, b in (
            ("analysis/pipeline/clean.py", "rows", "records"), ("website/components/nav.js", "home", "start"),
            ("analysis/notebooks/explore.md", "Churn", "Attrition"), ("analysis/data/customers.csv", "pro", "premium"),
            ("documents/resume.md", "SQL", "Postgres"), ("logs/nginx/error.log", "ERROR", "FAIL"))],
        "csv": [{"file": "analysis/data/customers.csv", "col": 3, "colname": "plan"}],
        "private": _files("analysis/pipeline/train.py", "documents/resume.md", "analysis/data/customers.csv", "logs/nginx/error.log"),
        "script": _files("analysis/pipeline/clean.py", "analysis/pipeline/features/encode.py"),
        "dir": _dirs("analysis/pipeline", "website/components", "logs/nginx", "documents/old", "images/thumbs", "pictures/2023",
                     "analysis/data"),
        "tree": _dirs("analysis/pipeline", "pictures/2023", "images", "documents/old"),
        "move": [{"file": f, "dir": d} for f, d in (
            ("analysis/notebooks/explore.md", "documents"), ("pictures/2023/lake.jpg", "images"),
            ("website/components/nav.js~", "scratch"), ("analysis/pipeline/train.py.bak", "backups"))],
        "code_word": [{"word": w, "ext": e, "lang": l, "dir": d} for w, e, l, d in (
            ("FIXME", "py", "Python", "analysis/pipeline/features"), ("console.log", "js", "JavaScript", "website/components"),
            ("import", "py", "Python", "analysis/tests"))],
        "ext_dir": _ext("py", "Python", "analysis/pipeline/features", "analysis/tests") + _ext("jpg", "JPEG", "pictures/2023")
                   + _ext("js", "JavaScript", "website/components"),
    },
    "train-c": {
        "text": _files("project/docs/faq.md", "project/docs/index.md", "src/tools/convert.py", "project/src/db/models.py",
                       "project/src/main.py", "src/legacy.py", "project/src/web/server.js"),
        "dups": _files("reports/march.csv", "names.csv", "docs/manual.txt"),
        "file_word": [{"word": w, "file": f} for w, f in (
            ("TODO", "project/src/web/server.js"), ("FIXME", "project/src/db/models.py"), ("json", "src/tools/convert.py"),
            ("class", "project/src/db/models.py"), ("pip", "project/docs/index.md"), ("deprecated", "src/legacy.py"),
            ("run", "project/src/main.py"))],
        "replace": [{"file": f, "a": a, "b": b} for f, a, b in (
            ("project/src/web/server.js", "3000", "8080"), ("src/tools/convert.py", "yaml", "toml"),
            ("project/docs/index.md", "pip", "pipx"), ("project/src/db/models.py", "User", "Account"),
            ("reports/march.csv", "visits", "views"))],
        "csv": [{"file": "reports/march.csv", "col": 1, "colname": "day"}, {"file": "reports/april.csv", "col": 1, "colname": "day"}],
        "private": _files("project/src/core.py", "src/tools/convert.py", "project/docs/faq.md", "logs/deploy.log"),
        "script": _files("src/tools/convert.py", "project/src/main.py"),
        "dir": _dirs("project/docs", "project/src/db", "src/tools", "project/src/web"),
        "tree": _dirs("project/src", "src/tools", "photos/wedding", "project/docs"),
        "move": [{"file": f, "dir": d} for f, d in (
            ("project/docs/faq.md", "docs"), ("src/tools/convert.py~", "empty-dir"), ("photos/wedding/cake.jpg", "photos"),
            ("reports/draft.md~", "docs"))],
        "code_word": [{"word": w, "ext": e, "lang": l, "dir": d} for w, e, l, d in (
            ("TODO", "py", "Python", "src/tools"), ("FIXME", "py", "Python", "project/src/db"), ("TODO", "js", "JavaScript", "project/src/web"))],
        "ext_dir": _ext("py", "Python", "project/src/db") + _ext("md", "Markdown", "project/docs") + _ext("jpg", "JPEG", "photos/wedding"),
    },
}
"""Further slot values, mostly files and folders two or three levels deep, for the templates that are trained on:
the held-out templates are filled from ``FACTS`` alone, so ``data/holdout.jsonl`` stays as it was measured."""
