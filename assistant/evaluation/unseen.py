"""Reports nobody here tuned for, added as they come, in a temporary copy of the library.

Each folder under ``eval/unseen/`` holds a report written for the purpose (``report.html``, its source), the
file a user would bring (``report.pdf`` or ``report.docx``, made from the source once with LibreOffice and a
running header and footer, then committed), ``meta.json`` (``{"id": …, "file": …}``) and its questions.
The evaluation copies the library and the current index into a temporary folder, adds the report there
through the same path as ``assistant add`` (metadata read from the file; only the id is fixed, so that the
questions can name it), and scores the questions against that library. The shipped library is not touched.

``python -m assistant.evaluation.unseen eval/unseen/<report> pdf`` re-renders a fixture from its source.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError


def meta(folder: Path) -> dict[str, str]:
    return dict(json.loads((folder / "meta.json").read_text(encoding="utf-8")))


@contextmanager
def library_with(folder: Path, base: Any) -> Iterator[Any]:
    """An Assistant over a temporary copy of ``base``'s library with the unseen report added; vectors of the
    library's own text are reused from ``base``'s index, so only the new report is embedded."""
    from assistant.api import Assistant
    from assistant.corpus.load import ParseCache
    from assistant.library import Metadata, add_files

    info = meta(folder)
    with tempfile.TemporaryDirectory(prefix="assistant-unseen-") as tmp:
        root = Path(tmp)
        shutil.copytree(base.settings.corpus_dir, root / "corpus", ignore=shutil.ignore_patterns(".*"))
        shutil.copytree(base.index.path.parent.parent, root / "index", ignore=shutil.ignore_patterns(".lock", ".tmp-*"))
        settings: Settings = replace(base.settings, corpus_dir=root / "corpus", index_dir=root / "index")
        _added, refused = add_files(
            settings.corpus_dir,
            [folder / info["file"]],
            Metadata(doc_id=info["id"]),
            cache=ParseCache(settings.index_dir / "parsed"),
        )
        if refused:
            raise AssistantError(f"The unseen report {folder.name} could not be added: {refused[0]}")
        yield Assistant.load(settings, embedder=base.embedder, notify=lambda _m: None)


def render(folder: Path, target: str) -> Path:
    """Make ``report.<target>`` (pdf or docx) from ``report.html`` with LibreOffice, adding a running header
    (the title) and a footer with the page number, as a real report has."""
    from assistant.evaluation.variants import convert

    with tempfile.TemporaryDirectory(prefix="unseen-render-") as tmp:
        out = Path(tmp)
        source = out / "report.html"
        shutil.copy(folder / "report.html", source)
        writer = convert(source, "odt", out)
        docx = convert(writer, "docx", out)
        _add_running_lines(docx)
        made = docx if target == "docx" else convert(docx, "pdf", out)
        final = folder / f"report.{target}"
        shutil.copy(made, final)
    return final


def _add_running_lines(path: Path) -> None:
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document(str(path))
    title = document.core_properties.title or "Report"
    for section in document.sections:
        section.header.paragraphs[0].text = title
        footer = section.footer.paragraphs[0]
        footer.text = "Page "
        run = footer.add_run()
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        run._r.append(field)
    document.save(str(path))


if __name__ == "__main__":
    print(render(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "pdf"))
