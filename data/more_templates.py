"""More wordings of the plan forms ``data.templates`` teaches: training only, never held out.

The first adapter trained on ``data.templates`` reached 66% Answer 2 on the
held-out templates (wordings it never saw), with head/tail, sed and tar the
weakest (2/7, 2/6, 4/9 on a 100-row sample) and find, the category with the
most template rows and 4,160 NL2Bash rows besides, at 12/12.  These templates
give every category other than find many more ways to ask for the same plans:
other verbs ("turn X into Y", "tally", "peek inside", "unpack"), nouns for the
same thing ("header row", "records", "tarball", "field"), word orders, terse
notes and questions, and requests that put the replacement before the thing it
replaces ("Y instead of X", "Y in place of X"), so that the model learns which
word goes where from the meaning, not from one sentence shape.

They are appended after ``TEMPLATES`` and never held out
(:func:`data.generate.held_out` chooses among ``TEMPLATES`` only), so the
held-out split, and ``data/holdout.jsonl``, stay as they were.  No template
here copies or rewords a held-out template: ``tests/data/test_more_templates.py``
keeps every one below the contamination check's word and character
similarity to each held-out template, and the generator drops a training row
that near-duplicates a held-out row.
"""

from __future__ import annotations

from data.templates import (COUNT_EXT, CUT, DEL_PATTERN, DU_DEPTH, DU_LARGEST, EXTRACT, FIND_BIG, FIND_EXT, FIND_OLD,
                            GREP_RC, GREP_RL, GREP_RN, HEAD, PREVIEW, PREVIEW_DIRS, SED_SUB, TAIL, UNIQ_COUNT, T)

MORE: tuple[T, ...] = (
    # --- head / tail ------------------------------------------------------------------------------------
    T("m-tail-end-of", "head_tail", "log", "Let me see the tail end of {file}, {n} lines", TAIL),
    T("m-tail-from-end", "head_tail", "text", "{n} lines from the end of {file}", TAIL),
    T("m-tail-closing", "head_tail", "text", "Output the closing {n} lines of {file}", TAIL),
    T("m-tail-entries", "head_tail", "log", "Read me the {n} entries at the end of the log {file}", TAIL),
    T("m-tail-care", "head_tail", "log", "I only care about the end of {file}; print {n} lines from the bottom", TAIL),
    T("m-tail-whats-end", "head_tail", "text", "What's at the very end of {file}? Give me {n} lines", TAIL),
    T("m-tail-cmd", "head_tail", "log", "tail {file}, {n} lines", TAIL),
    T("m-tail-check", "head_tail", "log", "Check how {file} ends: the last {n} lines", TAIL),
    T("m-head-opening", "head_tail", "text", "Open {file} and show just its opening {n} lines", HEAD),
    T("m-head-from-top", "head_tail", "text", "Give me {n} lines from the top of {file}", HEAD),
    T("m-head-beginning", "head_tail", "log", "Preview the beginning of {file} ({n} lines)", HEAD),
    T("m-head-entries", "head_tail", "log", "Read the earliest {n} entries of the log {file}", HEAD),
    T("m-head-how-start", "head_tail", "text", "How does {file} start? Print {n} lines", HEAD),
    T("m-head-glance", "head_tail", "text", "Quick glance at {file}: its first {n} lines", HEAD),
    T("m-header-what", "head_tail", "csv", "What's the header of {file}?", "$ head -n 1 {file}"),
    T("m-header-names", "head_tail", "csv", "Which column names does {file} start with?", "$ head -n 1 {file}"),
    T("m-header-top-row", "head_tail", "csv", "Print the top row of {file}, the one with the field names", "$ head -n 1 {file}"),
    T("m-body-drop", "head_tail", "csv", "Drop the header of {file} and print the rest", "$ tail -n +2 {file}"),
    T("m-body-minus", "head_tail", "csv", "{file} minus its header row", "$ tail -n +2 {file}"),
    T("m-body-records", "head_tail", "csv", "Give me the records of {file} without the column names", "$ tail -n +2 {file}"),
    T("m-body-strip", "head_tail", "csv", "Strip the header from {file} and show the remaining lines", "$ tail -n +2 {file}"),
    T("m-range-between", "head_tail", "log", "Show {file} between line {n} and line {n2}", "$ sed -n '{n},{n2}p' {file}"),
    T("m-range-terse", "head_tail", "log", "lines {n}-{n2} of {file}", "$ sed -n '{n},{n2}p' {file}"),
    T("m-newest-changed", "head_tail", "dir", "Which {n} files in {dir} were changed most recently?", "$ ls -t {dir} | head -n {n}"),
    T("m-newest-touched", "head_tail", "dir", "List the {n} files of {dir} that were touched last", "$ ls -t {dir} | head -n {n}"),
    # --- sed / awk / cut --------------------------------------------------------------------------------
    T("m-sed-turn", "sed", "replace", "Turn each {a} into {b} in {file}; just show the output", SED_SUB),
    T("m-sed-becomes", "sed", "replace", "Show me {file} where {a} becomes {b} (don't touch the file)", SED_SUB),
    T("m-sed-instead", "sed", "replace", "Preview {file} with {b} instead of {a}", SED_SUB),
    T("m-sed-in-place-of", "sed", "replace", "Print {file} but with {b} in place of {a}", SED_SUB),
    T("m-sed-wherever", "sed", "replace", "Put {b} wherever {a} appears in {file}; output only, no saving", SED_SUB),
    T("m-sed-rewrite", "sed", "replace", "In {file}, rewrite {a} as {b} and just display it", SED_SUB),
    T("m-sed-dry", "sed", "replace", "dry run: {a} to {b} throughout {file}", SED_SUB),
    T("m-sed-change", "sed", "replace", "Change {a} to {b} everywhere in {file}, on screen only", SED_SUB),
    T("m-sed-want", "sed", "replace", "I want to see {file} with {a} swapped out for {b}, without editing it", SED_SUB),
    T("m-sed-inplace-edit", "sed", "replace", "Edit {file} directly so that {a} is replaced with {b}",
      "$ sed -i 's/{a}/{b}/g' {file}"),
    T("m-cut-pull", "sed", "csv", "Pull out the {colname} column from {file}", CUT),
    T("m-cut-field", "sed", "csv", "From {file}, I need the comma-separated field number {col}", CUT),
    T("m-cut-only", "sed", "csv", "Only the {colname} values from {file}, please", CUT),
    T("m-cut-terse", "sed", "csv", "cut field {col} out of {file}", CUT),
    T("m-cut-which", "sed", "csv", "Which {colname} entries are in {file}?", CUT),
    T("m-line-get", "sed", "text", "Get me line number {n} from {file}", "$ sed -n '{n}p' {file}"),
    T("m-line-which", "sed", "log", "Which text sits on line {n} of {file}?", "$ sed -n '{n}p' {file}"),
    T("m-awk-errors", "sed", "log", "Use awk to keep the lines of {file} whose level is ERROR", "$ awk '$2 == \"ERROR\"' {file}"),
    T("m-awk-sum", "sed", "csv", "Sum the numbers in column {col} of {file} (there's a header row)",
      "$ awk -F, 'NR > 1 {{s += ${col}}} END {{print s}}' {file}"),
    # --- tar / gzip / zip -------------------------------------------------------------------------------
    T("m-tar-list-peek", "tar", "archive", "Peek inside {archive} without unpacking it", "$ tar -tzf {archive}"),
    T("m-tar-list-toc", "tar", "archive", "Show the table of contents of {archive}", "$ tar -tzf {archive}"),
    T("m-tar-list-names", "tar", "archive", "Print the names of the files stored in {archive}", "$ tar -tzf {archive}"),
    T("m-tar-list-see", "tar", "archive", "I want to see the file list of {archive}", "$ tar -tzf {archive}"),
    T("m-tar-list-cmd", "tar", "archive", "tar -t on {archive}: what's in it?", "$ tar -tzf {archive}"),
    T("m-tar-list-unpack-q", "tar", "archive", "Which files would I get if I unpacked {archive}?", "$ tar -tzf {archive}"),
    T("m-tar-list-before", "tar", "archive", "Before extracting {archive}, show me the files it would unpack", "$ tar -tzf {archive}"),
    T("m-tar-list-tell", "tar", "archive", "Tell me the file names packed in {archive}", "$ tar -tzf {archive}"),
    T("m-tar-list-long", "tar", "archive", "List {archive}'s members with their sizes and dates", "$ tar -tvzf {archive}"),
    T("m-tar-x-open", "tar", "archive", "Open up {archive} and put its files in {newdir}", EXTRACT),
    T("m-tar-x-restore", "tar", "archive", "Restore the files from {archive} under {newdir}", EXTRACT),
    T("m-tar-x-terse", "tar", "archive", "{archive} -> unpack to {newdir}", EXTRACT),
    T("m-tar-x-want", "tar", "archive", "I'd like the contents of {archive} unpacked in a folder called {newdir}", EXTRACT),
    T("m-tar-x-expand", "tar", "archive", "Expand the tarball {archive} so its files end up in {newdir}", EXTRACT),
    T("m-tar-c-bundle", "tar", "dir", "Bundle {dir} up as a compressed tarball named {base}.tar.gz", "$ tar -czf {base}.tar.gz {dir}"),
    T("m-tar-c-out-of", "tar", "dir", "Make {base}.tar.gz out of the {dir} folder", "$ tar -czf {base}.tar.gz {dir}"),
    T("m-tar-c-want", "tar", "dir", "I want a .tar.gz of {dir}; call it {base}-backup.tar.gz", "$ tar -czf {base}-backup.tar.gz {dir}"),
    T("m-tar-c-save", "tar", "dir", "Save {dir} as the gzip-compressed archive {base}.tgz", "$ tar -czf {base}.tgz {dir}"),
    T("m-zip-put", "tar", "dir", "Put {dir} into a zip file called {base}.zip", "$ zip -r {base}.zip {dir}"),
    T("m-zip-list-whats", "tar", "zip", "What's in the zip {zip}?", "$ unzip -l {zip}"),
    T("m-gzip-shrink", "tar", "log", "Shrink {file} with gzip and don't delete the original", "$ gzip -k {file}"),
    T("m-gzip-both", "tar", "text", "I want both {file} and a gzipped {file}.gz", "$ gzip -k {file}"),
    # --- wc ---------------------------------------------------------------------------------------------
    T("m-wc-l-length", "wc", "text", "What's the length of {file} in lines?", "$ wc -l {file}"),
    T("m-wc-l-give", "wc", "log", "Give me the line count for {file}", "$ wc -l {file}"),
    T("m-wc-l-entries", "wc", "log", "How many entries has the log {file} got?", "$ wc -l {file}"),
    T("m-wc-l-cmd", "wc", "text", "wc -l of {file}", "$ wc -l {file}"),
    T("m-wc-w-total", "wc", "text", "Total number of words in {file}?", "$ wc -w {file}"),
    T("m-wc-c-size", "wc", "text", "Exact size of {file} in bytes?", "$ wc -c {file}"),
    T("m-wc-ext-tell", "wc", "ext_dir", "Tell me how many .{ext} files live under {dir}", COUNT_EXT),
    T("m-wc-ext-number", "wc", "ext_dir", "The number of {lang} files below {dir}, please", COUNT_EXT),
    T("m-wc-files-number", "wc", "tree", "Number of files under {dir}, subfolders included", "$ find {dir} -type f | wc -l"),
    T("m-wc-occ-total", "wc", "file_word", "Total number of times {word} shows up in {file}", "$ grep -o '{word}' {file} | wc -l"),
    T("m-wc-occ-every", "wc", "file_word", "Count every single {word} in {file}, even several on one line",
      "$ grep -o '{word}' {file} | wc -l"),
    T("m-wc-occ-often", "wc", "file_word", "Count each appearance of {word} in {file}, not just the lines",
      "$ grep -o '{word}' {file} | wc -l"),
    # --- sort / uniq ------------------------------------------------------------------------------------
    T("m-sort-give", "sort_uniq", "dups", "Give me {file} in sorted order", "$ sort {file}"),
    T("m-sort-alphabetize", "sort_uniq", "dups", "Alphabetize {file}", "$ sort {file}"),
    T("m-sort-cmd", "sort_uniq", "dups", "sort {file} (a-z)", "$ sort {file}"),
    T("m-sort-reverse-desc", "sort_uniq", "dups", "Print {file} in descending order", "$ sort -r {file}"),
    T("m-sort-unique-dedupe", "sort_uniq", "dups", "Deduplicate {file} and print it sorted", "$ sort -u {file}"),
    T("m-uniq-tally", "sort_uniq", "dups", "Tally the lines of {file}, most common at the top", UNIQ_COUNT),
    T("m-uniq-histogram", "sort_uniq", "dups", "Make a histogram of repeated lines in {file}, commonest first", UNIQ_COUNT),
    T("m-uniq-top-n", "sort_uniq", "dups", "The {n} lines that repeat most in {file}, with counts",
      UNIQ_COUNT + " | head -n {n}"),
    T("m-uniq-dups-twice", "sort_uniq", "dups", "Which lines show up twice or more in {file}?", "$ sort {file} | uniq -d"),
    T("m-sort-csv-num", "sort_uniq", "csv", "Rank the rows of {file} by column {col}, smallest number first",
      "$ sort -t, -k{col},{col}n {file}"),
    # --- du / df ----------------------------------------------------------------------------------------
    T("m-du-occupy", "du", "dir", "How many megabytes does {dir} occupy?", "$ du -sh {dir}"),
    T("m-du-space-taken", "du", "tree", "{dir}: total size on disk?", "$ du -sh {dir}"),
    T("m-du-weigh", "du", "dir", "How much does the {dir} folder weigh on disk?", "$ du -sh {dir}"),
    T("m-du-cmd", "du", "dir", "du -s {dir}, human units", "$ du -sh {dir}"),
    T("m-du-altogether", "du", "dir", "How large is {dir} altogether?", "$ du -sh {dir}"),
    T("m-du-overall", "du", "tree", "Overall size of the {dir} folder, human-readable", "$ du -sh {dir}"),
    T("m-df-disk-full", "du", "dir", "Am I running out of disk where {dir} is stored?", "$ df -h {dir}"),
    T("m-du-depth-each", "du", "dir", "Size per subdirectory of {dir} (only the first level)", DU_DEPTH),
    T("m-du-largest-hog", "du", "dir", "What eats the most space in {dir}? Top {n}", DU_LARGEST),
    # --- grep -------------------------------------------------------------------------------------------
    T("m-grep-rn-hunt", "grep", "code_word", "Hunt for {word} through the {lang} files below {dir}, with line numbers", GREP_RN),
    T("m-grep-rn-cmd", "grep", "code_word", "grep -n {word} across the .{ext} files in {dir}", GREP_RN),
    T("m-grep-rl-filenames", "grep", "code_word", "I just need the filenames of the .{ext} files in {dir} where {word} appears",
      GREP_RL),
    T("m-grep-rl-paths", "grep", "code_word", "Print the paths, not the lines, of {lang} files below {dir} containing {word}",
      GREP_RL),
    T("m-grep-rc-perfile", "grep", "code_word", "Give me a per-file count of {word} lines across the {lang} sources in {dir}",
      GREP_RC),
    T("m-grep-rc-tally", "grep", "code_word", "Tally the lines mentioning {word} in every .{ext} file below {dir}, file by file",
      GREP_RC),
    T("m-grep-file-lines", "grep", "file_word", "Grep {file} for {word}", "$ grep '{word}' {file}"),
    T("m-grep-file-i-whatever", "grep", "file_word", "Lines of {file} with {word}, whatever the case", "$ grep -i '{word}' {file}"),
    T("m-grep-file-i-cmd", "grep", "file_word", "grep -i {word} {file}", "$ grep -i '{word}' {file}"),
    T("m-grep-file-n-where", "grep", "file_word", "Where in {file} is {word}? Line numbers please", "$ grep -n '{word}' {file}"),
    T("m-grep-file-v-hide", "grep", "file_word", "Hide the {word} lines and print the remainder of {file}", "$ grep -v '{word}' {file}"),
    T("m-grep-file-c-tally", "grep", "file_word", "Number of lines mentioning {word} in {file}?", "$ grep -c '{word}' {file}"),
    # --- git --------------------------------------------------------------------------------------------
    T("m-git-log-recent-n", "git", "repo", "Show {n} commits back from HEAD in {repo}, short form", "$ git -C {repo} log --oneline -n {n}"),
    T("m-git-log-show-last", "git", "repo", "Full details of the commit at the tip of {repo}", "$ git -C {repo} log -n 1"),
    T("m-git-log-head", "git", "repo", "Show HEAD's commit in {repo} with its message and author", "$ git -C {repo} log -n 1"),
    T("m-git-branch-names", "git", "repo", "Names of the local branches in {repo}", "$ git -C {repo} branch"),
    T("m-git-status-state", "git", "untracked", "What state is the {repo} checkout in?", "$ git -C {repo} status"),
    T("m-git-diff-pending", "git", "untracked", "Pending edits in {repo}, as a diff", "$ git -C {repo} diff"),
    T("m-git-new-branch-begin", "git", "repo", "Begin work on a fresh branch {branch} in {repo}", "$ git -C {repo} checkout -b {branch}"),
    T("m-git-current-q", "git", "repo", "Current branch of {repo}?", "$ git -C {repo} branch --show-current"),
    # --- chmod ------------------------------------------------------------------------------------------
    T("m-chmod-x-runnable", "chmod", "script", "Make {file} runnable", "$ chmod +x {file}"),
    T("m-chmod-x-flag", "chmod", "script", "Set the executable flag on {file}", "$ chmod +x {file}"),
    T("m-chmod-600-lock", "chmod", "private", "Lock {file} down so nobody but me can read or write it", "$ chmod 600 {file}"),
    T("m-chmod-mode-set", "chmod", "private", "Give {file} mode {mode}", "$ chmod {mode} {file}"),
    T("m-ls-perms-check", "chmod", "private", "Check who may read {file}", "$ ls -l {file}"),
    # --- mkdir / cp / mv / ls ---------------------------------------------------------------------------
    T("m-mkdir-structure", "files", "none", "Set up the folder path {newdir}", "$ mkdir -p {newdir}"),
    T("m-mkdir-exist", "files", "none", "I'd like a directory {newdir} to exist", "$ mkdir -p {newdir}"),
    T("m-mkdir-cmd", "files", "none", "mkdir -p for {newdir}", "$ mkdir -p {newdir}"),
    T("m-cp-into-drop", "files", "move", "Drop a copy of {file} into {dir}", "$ cp -n {file} {dir}/"),
    T("m-cp-backup-orig", "files", "private", "Keep a spare copy of {file} named {file}.orig", "$ cp -n {file} {file}.orig"),
    T("m-mv-into-relocate", "files", "move", "Relocate {file} to {dir}", "$ mv -n {file} {dir}/"),
    T("m-mv-rename-old", "files", "private", "Give {file} the new name {file}.old", "$ mv -n {file} {file}.old"),
    T("m-ls-sizes-human", "files", "dir", "Show the files in {dir} with sizes in K/M/G", "$ ls -lh {dir}"),
    T("m-ls-sizes-long", "files", "dir", "Long listing of {dir}, human-readable sizes", "$ ls -lh {dir}"),
    # --- dry-run deletes --------------------------------------------------------------------------------
    T("m-del-pattern-erase", "delete_preview", "backup", "Erase the {pattern} files from {dir}", DEL_PATTERN),
    T("m-del-pattern-purge", "delete_preview", "backup", "Purge {pwords} below {dir}", DEL_PATTERN),
    T("m-del-old-stale", "delete_preview", "old", "Delete the stale files in {dir}: untouched for over {days} days",
      PREVIEW + FIND_OLD),
    T("m-del-empty-prune", "delete_preview", "empty", "Prune the empty subfolders of {dir}",
      PREVIEW_DIRS + "$ find {dir} -type d -empty"),
    T("m-del-git-clean-terse", "delete_preview", "untracked", "git clean in {repo}, but show what would go first",
      "# preview only: shows what git clean would remove\n$ git -C {repo} clean -n -d"),
    T("m-del-big-trash", "delete_preview", "bigdir", "Trash everything above {mb} MB in {dir}", PREVIEW + FIND_BIG),
    T("m-del-dir-nuke", "delete_preview", "dir", "Get rid of the whole {dir} tree",
      "# preview only: lists everything that would be removed\n$ find {dir}"),
    # --- venv / pip -------------------------------------------------------------------------------------
    T("m-venv-create-want", "venv_pip", "none", "I want an isolated Python environment at {venv}", "$ python3 -m venv {venv}"),
    # --- find (a few: find already has the most rows) ---------------------------------------------------
    T("m-find-ext-grab", "find", "ext_dir", "Gather up every {lang} file under {dir}", FIND_EXT),
    T("m-find-dname-path", "find", "dirname", "Path of every {dname} directory in this tree", "$ find . -type d -name '{dname}'"),
    T("m-find-ext-stale", "find", "ext_dir", "{lang} files under {dir} that haven't been changed in {days} days",
      "$ find {dir} -type f -name '*.{ext}' -mtime +{days}"),
    T("m-find-ext-recent", "find", "ext_dir", "Recently edited .{ext} files in {dir}: anything from the last {days} days",
      "$ find {dir} -type f -name '*.{ext}' -mtime -{days}"),
    T("m-find-big-heavy", "find", "bigdir", "Which files in {dir} weigh more than {mb} MB?", FIND_BIG),
)
"""Training-only templates, appended to ``data.templates.TEMPLATES`` by the generator."""
