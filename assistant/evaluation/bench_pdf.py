"""A long new report for ``assistant bench``: about N pages of text no document in the library holds, as a real
PDF made by LibreOffice from a Word file (python-docx: headings as heading styles), so that adding it to an
index has only its own passages to embed.

The text is a word-level Markov chain over the library's own text (seeded, so every run makes the same file),
under numbered chapter and section headings, with one sentence of invented names that a search can find.
"""

from __future__ import annotations

import itertools
import random
import re
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from assistant.evaluation.bench_process import BenchSkip

DOC_ID = "bench-long-report"
TITLE = "Quillbrook Long Report (benchmark)"
MARKER = "The Quillbrook Lantern Cooperative in Thistlemere counted 4,812 worker-members in its first year of trading."
MARKER_QUERY = "How many worker-members did the Quillbrook Lantern Cooperative in Thistlemere count?"
WORDS_PER_PAGE = 415  # body text in python-docx's default template (Letter, 11 pt), as LibreOffice lays it out
PARAGRAPHS_PER_SECTION = 4
SECTIONS_PER_CHAPTER = 6


@dataclass(frozen=True)
class MadePdf:
    path: Path
    pages: int
    bytes: int
    words: int
    seconds: float


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _chain(text: str) -> tuple[dict[str, list[str]], list[str]]:
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*[.,;:]?|\d+%?[.,]?", text)
    follows: dict[str, list[str]] = defaultdict(list)
    for a, b in itertools.pairwise(words):
        follows[a].append(b)
    starts = [b for a, b in itertools.pairwise(words) if a.endswith(".") and b[:1].isupper()]
    return follows, starts or words[:1]


def _sentence(follows: dict[str, list[str]], starts: list[str], rng: random.Random) -> str:
    word = rng.choice(starts)
    out = [word]
    while not word.endswith(".") and len(out) < 28:
        word = rng.choice(follows.get(word) or starts)
        out.append(word)
    text = " ".join(out).rstrip(",;:")
    return text if text.endswith(".") else text + "."


def _paragraph(follows: dict[str, list[str]], starts: list[str], rng: random.Random, words: int) -> str:
    sentences: list[str] = []
    while sum(len(s.split()) for s in sentences) < words:
        sentences.append(_sentence(follows, starts, rng))
    return " ".join(sentences)


def write_docx(path: Path, source_text: str, words: int, seed: int = 0) -> int:
    """A Word file of about ``words`` words in chapters and sections; returns the words written."""
    try:
        import docx
    except ImportError as exc:
        raise BenchSkip("python-docx is not installed, so no Word file can be made for LibreOffice.") from exc
    rng = random.Random(seed)
    follows, starts = _chain(source_text)
    document = docx.Document()
    document.core_properties.title = TITLE
    document.core_properties.author = "Assistant Bench"
    document.add_heading(TITLE, level=0)
    written, paragraph = 0, 0
    while written < words:
        if paragraph % (PARAGRAPHS_PER_SECTION * SECTIONS_PER_CHAPTER) == 0:
            document.add_heading(f"Chapter {paragraph // (PARAGRAPHS_PER_SECTION * SECTIONS_PER_CHAPTER) + 1}", level=1)
        if paragraph % PARAGRAPHS_PER_SECTION == 0:
            heading = " ".join(_sentence(follows, starts, rng).split()[:5]).rstrip(".,;:")
            document.add_heading(f"Section {paragraph // PARAGRAPHS_PER_SECTION + 1}: {heading}", level=2)
        text = _paragraph(follows, starts, rng, rng.randint(70, 130))
        if paragraph == 3:
            text = f"{MARKER} {text}"
        document.add_paragraph(text)
        written += len(text.split())
        paragraph += 1
    document.save(str(path))
    return written


def convert_to_pdf(source: Path, out_dir: Path, timeout: float = 600.0) -> Path:
    """``soffice --headless --convert-to pdf`` with a profile of its own (no clash with a running LibreOffice)."""
    program = soffice()
    if program is None:
        raise BenchSkip("LibreOffice (soffice) is not installed, so no PDF can be made.")
    with tempfile.TemporaryDirectory(prefix="bench-soffice-") as profile:
        command = [
            program,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(source),
        ]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=timeout)
        except (subprocess.SubprocessError, OSError) as exc:
            raise BenchSkip(f"LibreOffice could not convert the Word file to PDF ({exc}).") from exc
    pdf = out_dir / (source.stem + ".pdf")
    if not pdf.is_file():
        raise BenchSkip("LibreOffice made no PDF.")
    return pdf


def count_pages(pdf: Path) -> int:
    import pdfplumber

    with pdfplumber.open(str(pdf)) as handle:
        return len(handle.pages)


def make_pdf(folder: Path, pages: int, source_text: str) -> MadePdf:
    """About ``pages`` pages (one correction when the first try is more than 10% off)."""
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "quillbrook-long-report.docx"
    words = write_docx(source, source_text, pages * WORDS_PER_PAGE)
    pdf = convert_to_pdf(source, folder)
    made = count_pages(pdf)
    if made and abs(made - pages) > pages * 0.1:
        words = write_docx(source, source_text, round(words * pages / made))
        pdf = convert_to_pdf(source, folder)
        made = count_pages(pdf)
    return MadePdf(pdf, made, pdf.stat().st_size, words, round(time.perf_counter() - started, 2))
