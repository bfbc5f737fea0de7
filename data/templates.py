"""Request templates: one wording and one plan each, filled from ``data.slots``.

A template is ``T(id, category, slot kind, prompt, completion)``.  ``{...}``
fields come from the slot dict of its kind (``FACTS[fixture][kind]``), from
the shared lists in ``slots.NUMBERS`` (``{n}``, ``{mb}``, ``{kb}``,
``{days}``, ``{branch}``, ``{venv}``, ``{newdir}``, ``{mode}``/``{mode_words}``)
or are derived: ``{base}`` is the last part of ``{dir}`` (``.`` -> ``here``),
``{fname}`` the last part of ``{file}``.  Several templates share a plan and
differ in wording (synonyms, word order, politeness, terse forms, questions),
so that a held-out template tests a new wording of a known skill.
"""

from __future__ import annotations

from typing import NamedTuple


class T(NamedTuple):
    """One template."""

    id: str
    category: str
    kind: str
    prompt: str
    completion: str


PREVIEW = "# preview only: lists the files that would be deleted\n"

TEMPLATES: tuple[T, ...] = (
    # --- find: by name / type -------------------------------------------------------------------------
    T("find-ext-dir", "find", "ext_dir", "List all {lang} files in the {dir} folder", "$ find {dir} -type f -name '*.{ext}'"),
    T("find-ext-dir-q", "find", "ext_dir", "Which .{ext} files are there under {dir}?", "$ find {dir} -type f -name '*.{ext}'"),
    T("find-ext-dir-terse", "find", "ext_dir", "{ext} files in {dir}", "$ find {dir} -type f -name '*.{ext}'"),
    T("find-ext-dir-please", "find", "ext_dir", "Could you show me every *.{ext} file below {dir}, please?", "$ find {dir} -type f -name '*.{ext}'"),
    T("find-ext-here", "find", "ext_here", "Find every {lang} file in the current directory tree", "$ find . -type f -name '*.{ext}'"),
    T("find-ext-here-recursive", "find", "ext_here", "recursively list .{ext} files from here", "$ find . -type f -name '*.{ext}'"),
    T("find-name", "find", "name", "Where is {name}?", "$ find . -name '{name}'"),
    T("find-name-locate", "find", "name", "Locate the file called {name} somewhere in this tree", "$ find . -name '{name}'"),
    T("find-dirs", "find", "tree", "List all directories under {dir}", "$ find {dir} -type d"),
    T("find-empty-dirs", "find", "empty", "Are there any empty folders in {dir}?", "$ find {dir} -type d -empty"),
    # --- find: by size ----------------------------------------------------------------------------------
    T("find-big-img", "find", "image", "Find {label} images larger than {mb} MB in {dir}", "$ find {dir} -type f -name '*.{ext}' -size +{mb}M"),
    T("find-big-img-terse", "find", "image", "{plural} > {mb}MB under {dir}", "$ find {dir} -type f -name '*.{ext}' -size +{mb}M"),
    T("find-big-img-q", "find", "image", "Which .{ext} pictures in {dir} are bigger than {mb} megabytes?", "$ find {dir} -type f -name '*.{ext}' -size +{mb}M"),
    T("find-small-img", "find", "image", "Show the {label} files in {dir} smaller than {kb} KB", "$ find {dir} -type f -name '*.{ext}' -size -{kb}k"),
    T("find-big-any", "find", "bigdir", "Any files over {mb}M in {dir}?", "$ find {dir} -type f -size +{mb}M"),
    T("find-big-any-please", "find", "bigdir", "Please list every file in {dir} that is larger than {mb} megabytes", "$ find {dir} -type f -size +{mb}M"),
    # --- find: by time ----------------------------------------------------------------------------------
    T("find-old", "find", "old", "Which files in {dir} have not been modified for more than {days} days?", "$ find {dir} -type f -mtime +{days}"),
    T("find-old-terse", "find", "old", "files older than {days} days in {dir}", "$ find {dir} -type f -mtime +{days}"),
    T("find-new", "find", "old", "Show files under {dir} changed in the last {days} days", "$ find {dir} -type f -mtime -{days}"),
    T("find-new-q", "find", "old", "What did I modify in {dir} during the past {days} days?", "$ find {dir} -type f -mtime -{days}"),
    T("find-ext-old", "find", "ext_dir", "Find .{ext} files in {dir} older than {days} days", "$ find {dir} -type f -name '*.{ext}' -mtime +{days}"),
    # --- grep -------------------------------------------------------------------------------------------
    T("grep-code", "grep", "code_word", "Search the {lang} files in {dir} for {word} and show file names and line numbers",
      "$ grep -rn --include='*.{ext}' '{word}' {dir}"),
    T("grep-code-where", "grep", "code_word", "Where does {word} appear in the .{ext} sources under {dir}?",
      "$ grep -rn --include='*.{ext}' '{word}' {dir}"),
    T("grep-code-terse", "grep", "code_word", "grep {word} in *.{ext} under {dir}, with line numbers", "$ grep -rn --include='*.{ext}' '{word}' {dir}"),
    T("grep-code-files", "grep", "code_word", "Which {lang} files in {dir} mention {word}? Just the file names.",
      "$ grep -rl --include='*.{ext}' '{word}' {dir}"),
    T("grep-file", "grep", "file_word", "Show the lines of {file} that contain {word}", "$ grep '{word}' {file}"),
    T("grep-file-n", "grep", "file_word", "Find {word} in {file} and number the matching lines", "$ grep -n '{word}' {file}"),
    T("grep-file-i", "grep", "file_word", "Could you search {file} for {word}, ignoring case?", "$ grep -i '{word}' {file}"),
    T("grep-file-v", "grep", "file_word", "Print every line of {file} except those with {word}", "$ grep -v '{word}' {file}"),
    T("grep-count", "grep", "file_word", "How many lines in {file} contain {word}?", "$ grep -c '{word}' {file}"),
    T("grep-count-terse", "grep", "file_word", "count {word} lines in {file}", "$ grep -c '{word}' {file}"),
    # --- head / tail ------------------------------------------------------------------------------------
    T("tail-n", "head_tail", "log", "Show the last {n} lines of {file}", "$ tail -n {n} {file}"),
    T("tail-n-terse", "head_tail", "log", "last {n} lines {file}", "$ tail -n {n} {file}"),
    T("tail-n-please", "head_tail", "log", "Please print the final {n} lines from {file}", "$ tail -n {n} {file}"),
    T("tail-n-end", "head_tail", "text", "What are the last {n} lines in {file}?", "$ tail -n {n} {file}"),
    T("head-n", "head_tail", "log", "Display the first {n} lines of {file}", "$ head -n {n} {file}"),
    T("head-n-top", "head_tail", "text", "Show me the top {n} lines of {file}", "$ head -n {n} {file}"),
    T("head-n-terse", "head_tail", "text", "head {file}, {n} lines", "$ head -n {n} {file}"),
    T("head-csv-header", "head_tail", "csv", "Print just the header row of {file}", "$ head -n 1 {file}"),
    T("tail-csv-body", "head_tail", "csv", "Show {file} without its header line", "$ tail -n +2 {file}"),
    T("sed-range", "head_tail", "log", "Print lines {n} to {n2} of {file}", "$ sed -n '{n},{n2}p' {file}"),
    # --- wc ---------------------------------------------------------------------------------------------
    T("wc-l", "wc", "text", "How many lines does {file} have?", "$ wc -l {file}"),
    T("wc-l-log", "wc", "log", "Count the lines in {file}", "$ wc -l {file}"),
    T("wc-l-terse", "wc", "log", "line count of {file}", "$ wc -l {file}"),
    T("wc-w", "wc", "text", "How many words are in {file}?", "$ wc -w {file}"),
    T("wc-c", "wc", "text", "Tell me the size of {file} in bytes", "$ wc -c {file}"),
    T("wc-count-ext", "wc", "ext_dir", "Count the .{ext} files under {dir}", "$ find {dir} -type f -name '*.{ext}' | wc -l"),
    T("wc-count-ext-q", "wc", "ext_dir", "How many {lang} files does {dir} contain?", "$ find {dir} -type f -name '*.{ext}' | wc -l"),
    T("wc-count-files", "wc", "tree", "Count all files in {dir}, including subfolders", "$ find {dir} -type f | wc -l"),
    T("wc-count-files-q", "wc", "tree", "how many files are in {dir}?", "$ find {dir} -type f | wc -l"),
    # --- sort / uniq ------------------------------------------------------------------------------------
    T("sort-plain", "sort_uniq", "dups", "Sort the lines of {file} alphabetically", "$ sort {file}"),
    T("sort-reverse", "sort_uniq", "dups", "Show {file} sorted in reverse order", "$ sort -r {file}"),
    T("sort-unique", "sort_uniq", "dups", "List the distinct lines of {file}, sorted", "$ sort -u {file}"),
    T("sort-unique-terse", "sort_uniq", "dups", "unique lines in {file}", "$ sort -u {file}"),
    T("uniq-count", "sort_uniq", "dups", "Count how many times each line occurs in {file}, most common first",
      "$ sort {file} | uniq -c | sort -rn"),
    T("uniq-count-q", "sort_uniq", "dups", "Which lines repeat most often in {file}? Show counts.", "$ sort {file} | uniq -c | sort -rn"),
    T("uniq-dups", "sort_uniq", "dups", "Print only the lines that appear more than once in {file}", "$ sort {file} | uniq -d"),
    T("sort-csv-col", "sort_uniq", "csv", "Sort {file} by its {colname} column (column {col})",
      "$ sort -t, -k{col},{col} {file}"),
    T("sort-csv-col-n", "sort_uniq", "csv", "Order the rows of {file} numerically by column {col}", "$ sort -t, -k{col},{col}n {file}"),
    T("log-levels", "sort_uniq", "log", "How many lines of each log level are in {file}?", "$ awk '{{print $2}}' {file} | sort | uniq -c"),
    # --- du / df ----------------------------------------------------------------------------------------
    T("du-sh", "du", "dir", "How big is the {dir} directory?", "$ du -sh {dir}"),
    T("du-sh-terse", "du", "dir", "size of {dir}", "$ du -sh {dir}"),
    T("du-sh-please", "du", "dir", "Could you tell me how much disk space {dir} takes up, in human-readable form?", "$ du -sh {dir}"),
    T("du-depth", "du", "dir", "Show the size of each subfolder of {dir}, one level deep", "$ du -h --max-depth=1 {dir}"),
    T("du-largest", "du", "dir", "List the {n} largest entries in {dir}, biggest first", "$ du -ah {dir} | sort -rh | head -n {n}"),
    T("du-files", "du", "tree", "Show the disk usage of every file and folder inside {dir}", "$ du -ah {dir}"),
    T("df-here", "du", "tree", "How much free space is left on the file system holding {dir}?", "$ df -h {dir}"),
    # --- tar / gzip / zip -------------------------------------------------------------------------------
    T("tar-create", "tar", "dir", "Create a gzipped tarball of {dir} named {base}.tar.gz", "$ tar -czf {base}.tar.gz {dir}"),
    T("tar-create-archive", "tar", "dir", "Archive the {dir} folder into {base}-backup.tar.gz", "$ tar -czf {base}-backup.tar.gz {dir}"),
    T("tar-create-terse", "tar", "dir", "tar.gz {dir} -> {base}.tgz", "$ tar -czf {base}.tgz {dir}"),
    T("tar-create-please", "tar", "dir", "Please pack up {dir} as a compressed tar archive called {base}-snapshot.tar.gz",
      "$ tar -czf {base}-snapshot.tar.gz {dir}"),
    T("tar-create-plain", "tar", "dir", "Make an uncompressed tar file {base}.tar from {dir}", "$ tar -cf {base}.tar {dir}"),
    T("tar-list", "tar", "archive", "What files does {archive} contain?", "$ tar -tzf {archive}"),
    T("tar-list-terse", "tar", "archive", "list contents of {archive}", "$ tar -tzf {archive}"),
    T("tar-list-verbose", "tar", "archive", "Show a detailed listing (sizes and dates) of the archive {archive}", "$ tar -tvzf {archive}"),
    T("zip-create", "tar", "dir", "Zip the {dir} folder into {base}.zip", "$ zip -r {base}.zip {dir}"),
    T("zip-list", "tar", "zip", "Which files are packed in {zip}?", "$ unzip -l {zip}"),
    T("gzip-keep", "tar", "log", "Compress {file} with gzip but keep the original", "$ gzip -k {file}"),
    # --- git --------------------------------------------------------------------------------------------
    T("git-log-oneline", "git", "repo", "Show the commits of the {repo} repository, one per line", "$ git -C {repo} log --oneline"),
    T("git-log-oneline-terse", "git", "repo", "git history of {repo}, short", "$ git -C {repo} log --oneline"),
    T("git-log-n", "git", "repo", "What are the last {n} commits in {repo}?", "$ git -C {repo} log --oneline -n {n}"),
    T("git-log-full", "git", "repo", "Show the full log of the {repo} repo with authors and dates", "$ git -C {repo} log"),
    T("git-branch-list", "git", "repo", "Which branches exist in {repo}?", "$ git -C {repo} branch"),
    T("git-branch-list-please", "git", "repo", "Please list the local branches of the git repo in {repo}", "$ git -C {repo} branch"),
    T("git-new-branch", "git", "repo", "Create a branch named {branch} in {repo} and check it out", "$ git -C {repo} checkout -b {branch}"),
    T("git-new-branch-switch", "git", "repo", "In {repo}, start a new branch {branch} and switch to it", "$ git -C {repo} checkout -b {branch}"),
    T("git-new-branch-terse", "git", "repo", "new branch {branch} in {repo}", "$ git -C {repo} checkout -b {branch}"),
    T("git-branch-only", "git", "repo", "Make a branch called {branch} in {repo} without switching to it", "$ git -C {repo} branch {branch}"),
    T("git-status", "git", "untracked", "What is the status of the {repo} working tree?", "$ git -C {repo} status"),
    T("git-status-short", "git", "untracked", "Which files in {repo} are modified or untracked? Short format.", "$ git -C {repo} status --short"),
    T("git-diff", "git", "untracked", "Show the uncommitted changes in {repo}", "$ git -C {repo} diff"),
    T("git-diff-stat", "git", "untracked", "Summarise what changed in {repo} since the last commit, per file", "$ git -C {repo} diff --stat"),
    T("git-current", "git", "repo", "Which branch is checked out in {repo}?", "$ git -C {repo} branch --show-current"),
    # --- venv / pip -------------------------------------------------------------------------------------
    T("venv-create", "venv_pip", "none", "Create a Python virtual environment called {venv}", "$ python3 -m venv {venv}"),
    T("venv-create-terse", "venv_pip", "none", "new venv {venv}", "$ python3 -m venv {venv}"),
    T("venv-requests", "venv_pip", "none", "Set up a venv named {venv} and install the requests package in it",
      "$ python3 -m venv {venv}\n$ {venv}/bin/pip install requests"),
    T("venv-requests-please", "venv_pip", "none", "Could you make a virtualenv {venv} and pip install requests there?",
      "$ python3 -m venv {venv}\n$ {venv}/bin/pip install requests"),
    T("venv-requests-order", "venv_pip", "none", "Install requests into a fresh Python environment at {venv}",
      "$ python3 -m venv {venv}\n$ {venv}/bin/pip install requests"),
    T("venv-list", "venv_pip", "none", "Make a virtual environment {venv} and show which packages it has",
      "$ python3 -m venv {venv}\n$ {venv}/bin/pip list"),
    # --- chmod ------------------------------------------------------------------------------------------
    T("chmod-x", "chmod", "script", "Make {file} executable", "$ chmod +x {file}"),
    T("chmod-x-terse", "chmod", "script", "chmod {file} so I can run it", "$ chmod +x {file}"),
    T("chmod-x-q", "chmod", "script", "Can you give {file} execute permission?", "$ chmod +x {file}"),
    T("chmod-mode", "chmod", "private", "Set the permissions of {file} so that {mode_words}", "$ chmod {mode} {file}"),
    T("chmod-mode-num", "chmod", "private", "chmod {file} to {mode}", "$ chmod {mode} {file}"),
    T("chmod-private", "chmod", "private", "Make {file} private: readable and writable by me only", "$ chmod 600 {file}"),
    T("ls-perms", "chmod", "dir", "Show the permissions of the files in {dir}", "$ ls -l {dir}"),
    # --- mkdir / cp / mv --------------------------------------------------------------------------------
    T("mkdir-p", "files", "none", "Create the directory {newdir}, including any missing parents", "$ mkdir -p {newdir}"),
    T("mkdir-p-terse", "files", "none", "mkdir {newdir} (with parents)", "$ mkdir -p {newdir}"),
    T("cp-into", "files", "move", "Copy {file} into the {dir} folder", "$ cp {file} {dir}/"),
    T("cp-backup", "files", "private", "Make a backup copy of {file} called {file}.orig", "$ cp {file} {file}.orig"),
    T("cp-dir", "files", "dir", "Duplicate the {dir} directory as {dir}-copy", "$ cp -r {dir} {dir}-copy"),
    T("mv-into", "files", "move", "Move {file} into {dir}", "$ mv {file} {dir}/"),
    T("mv-into-please", "files", "move", "Please put {file} in the {dir} directory (move, not copy)", "$ mv {file} {dir}/"),
    T("mv-rename", "files", "private", "Rename {file} to {file}.old", "$ mv {file} {file}.old"),
    # --- sed / awk --------------------------------------------------------------------------------------
    T("sed-sub", "sed", "replace", "Show {file} with every {a} replaced by {b}, leaving the file as it is", "$ sed 's/{a}/{b}/g' {file}"),
    T("sed-sub-terse", "sed", "replace", "{a} -> {b} in {file} (print only)", "$ sed 's/{a}/{b}/g' {file}"),
    T("sed-sub-q", "sed", "replace", "What would {file} look like if {a} were changed to {b}?", "$ sed 's/{a}/{b}/g' {file}"),
    T("sed-sub-inplace", "sed", "replace", "Replace {a} with {b} in {file}, editing the file in place", "$ sed -i 's/{a}/{b}/g' {file}"),
    T("sed-delete", "sed", "file_word", "Print {file} without the lines containing {word}", "$ sed '/{word}/d' {file}"),
    T("sed-line", "sed", "log", "Print only line {n} of {file}", "$ sed -n '{n}p' {file}"),
    T("awk-col", "sed", "csv", "Print the {colname} column of {file}", "$ awk -F, '{{print ${col}}}' {file}"),
    T("awk-col-cut", "sed", "csv", "Extract column {col} from the comma-separated file {file}", "$ cut -d, -f{col} {file}"),
    T("awk-level", "sed", "log", "Show only the ERROR lines of {file} using the level field", "$ awk '$2 == \"ERROR\"' {file}"),
    T("awk-sum", "sed", "csv", "Add up column {col} of {file}, skipping the header", "$ awk -F, 'NR > 1 {{s += ${col}}} END {{print s}}' {file}"),
    # --- dry-run deletes --------------------------------------------------------------------------------
    T("del-pattern", "delete_preview", "backup", "Delete all {pattern} files in {dir}", PREVIEW + "$ find {dir} -type f -name '{pattern}'"),
    T("del-pattern-dry", "delete_preview", "backup", "Dry run: which {pattern} files under {dir} would be removed?",
      PREVIEW + "$ find {dir} -type f -name '{pattern}'"),
    T("del-pattern-please", "delete_preview", "backup", "Please clean up the {pattern} files in {dir}, but only show me what would go first",
      PREVIEW + "$ find {dir} -type f -name '{pattern}'"),
    T("del-pattern-terse", "delete_preview", "backup", "rm {pattern} under {dir}", PREVIEW + "$ find {dir} -type f -name '{pattern}'"),
    T("del-old", "delete_preview", "old", "Remove files in {dir} older than {days} days", PREVIEW + "$ find {dir} -type f -mtime +{days}"),
    T("del-old-preview", "delete_preview", "old", "Preview deleting everything in {dir} not touched for {days} days",
      PREVIEW + "$ find {dir} -type f -mtime +{days}"),
    T("del-dir", "delete_preview", "dir", "Delete the {dir} directory and everything in it",
      "# preview only: lists everything that would be removed\n$ find {dir}"),
    T("del-big", "delete_preview", "bigdir", "Get rid of files bigger than {mb} MB in {dir}", PREVIEW + "$ find {dir} -type f -size +{mb}M"),
    T("del-untracked", "delete_preview", "untracked", "Remove the untracked files from the {repo} repository",
      "# preview only: shows what git clean would remove\n$ git -C {repo} clean -n -d"),
)
