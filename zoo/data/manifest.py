"""`datasets/README.md`, generated from every loader's `Source` (run `python -m zoo.data.manifest`)."""

from __future__ import annotations

import sys

from zoo.data import sources

HEADER = """\
# Datasets

Every dataset a recipe can load, generated from the loaders' declarations by
`python -m zoo.data.manifest > datasets/README.md` (a test keeps this file in sync).

## Where the files go

Each loader looks under `DATA_DIR/<folder>/`, where `DATA_DIR` is `--data-dir`, else `$ZOO_DATA_DIR`,
else `./datasets`. It accepts the extracted files (anywhere below that folder) or the original archive
(verified by sha256, then extracted in place). When neither is there it downloads the archive with
`keras.utils.get_file` and checks its sha256. A file whose checksum or format is wrong is refused with
an error naming the file; nothing is half-loaded.

**On a machine without internet**: download the file from the URL below elsewhere, check it with
`sha256sum FILE`, and copy it to `DATA_DIR/<folder>/FILE` (or copy the extracted files there).
The course's shared folder `../shared/data` uses this layout, so `--data-dir ../shared/data` works
for every dataset it holds.

| dataset | folder | files read | download (sha256) | size | licence | cite |
|---|---|---|---|---|---|---|
"""


def render() -> str:
    rows = []
    for s in sources():
        downloads = (
            "<br>".join(
                f"[{a.name}]({a.url}) `{a.sha256}`" if a.url else f"{a.name} (local copy only) `{a.sha256}`"
                for a in s.archives
            )
            or "none (place the files by hand)"
        )
        title = f"[{s.title or s.name}]({s.homepage})" if s.homepage else (s.title or s.name)
        files = ", ".join(f"`{f}`" for f in s.files)
        rows.append(
            f"| **{s.name}**: {title} | `{s.folder}/` | {files} | {downloads} | {s.size} | {s.licence} | {s.citation} |"
        )
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
    sys.exit(0)
