"""Cleaning of the PDF text extraction of one report chapter.

The extraction has a hard line break (and a blank line) after every printed line, words hyphenated
across lines, footnote numbers glued to words ("2018.38"), footnote blocks at each page foot, side
boxes dropped into paragraphs, and tables whose row labels are broken over lines.
"""

from __future__ import annotations

import re

from assistant.corpus.clean_report import format_row
from assistant.corpus.document import Block
from assistant.corpus.structure import TocEntry, is_caption, key
from assistant.corpus.text import collapse_spaces, ends_sentence, strip_markup

_FOOTNOTE_DEF = re.compile(r"^(\d{1,2})\s+(\S.*)$")
_BARE_URL = re.compile(r"^\s*https?://\S+\s*$")
_GLUED_NUMBER = re.compile(r"(?P<pre>.)(?P<num>\d{1,3})(?=[\s.,;:)”’]|$)")
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_LABEL_MAX_WORDS = 2


def vocabulary(text: str) -> set[str]:
    """Lower-cased words (hyphenated compounds kept whole) used to decide how to mend a hyphen break."""
    return {w.lower() for w in _WORD.findall(text)}


def _split_footnotes(raw: str) -> tuple[list[str], dict[int, str]]:
    """Separate page-foot footnote blocks (after a long run of spaces) from the body lines."""
    body: list[str] = []
    footnotes: dict[int, str] = {}
    in_block = False
    current: int | None = None
    for line in raw.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if len(line) >= 20:
                in_block, current = True, None
            continue
        if in_block:
            stripped = line.strip()
            match = _FOOTNOTE_DEF.match(stripped)
            if match and not line.startswith(" "):
                current = int(match.group(1))
                footnotes[current] = collapse_spaces(match.group(2))
                continue
            continues = "http" in stripped or " " not in stripped or not ends_sentence(footnotes.get(current or 0, "."))
            if current is not None and continues and not line.startswith(" ") and not stripped.startswith(("“", '"')):
                if not (_BARE_URL.match(stripped) and stripped in footnotes[current]):
                    glue = footnotes[current].endswith(("-", "/")) and not stripped.startswith("http")
                    footnotes[current] = collapse_spaces(footnotes[current] + ("" if glue else " ") + stripped)
                continue
            in_block = False
        if _BARE_URL.match(line):
            continue
        body.append(line)
    return body, footnotes


def _join_lines(lines: list[str], vocab: set[str]) -> str:
    text = ""
    for line in lines:
        piece = collapse_spaces(line)
        if not text:
            text = piece
            continue
        match = re.search(r"([A-Za-z]+)-$", text)
        if match and piece[:1].isalpha():
            first = re.match(r"[A-Za-z]+", piece)
            joined = (match.group(1) + (first.group(0) if first else "")).lower()
            hyphenated = f"{match.group(1)}-{first.group(0) if first else ''}".lower()
            text = text[:-1] + piece if joined in vocab and hyphenated not in vocab else text + piece
        else:
            text = f"{text} {piece}"
    return text


def _detach_footnotes(text: str, defined: set[int], state: list[int]) -> tuple[str, tuple[int, ...]]:
    """Remove footnote numbers glued to words, trusting only defined numbers that follow the last one."""
    refs: list[int] = []
    out: list[str] = []
    cursor = 0
    for match in _GLUED_NUMBER.finditer(text):
        pre, run = match.group("pre"), match.group("num")
        before_pre = text[match.start("pre") - 1] if match.start("pre") > 0 else " "
        if pre.isalpha() or pre in ")’”,%" or (pre == "." and (before_pre.isalnum())):
            suffixes = [run[i:] for i in range(len(run))]
        elif pre.isspace() and len(run) >= 2:
            suffixes = [run[i:] for i in range(1, len(run))]  # "Programme 245." → "Programme 2" + footnote 45
        else:
            continue
        for suffix in suffixes:
            number = int(suffix)
            if number in defined and state[0] - 1 <= number <= state[0] + 8:
                cut = match.end("num") - len(suffix)
                out.append(text[cursor:cut])
                cursor = match.end("num")
                refs.append(number)
                state[0] = number
                break
    out.append(text[cursor:])
    return "".join(out), tuple(refs)


def _is_label(line: str, following: str | None) -> tuple[bool, bool]:
    """Is this line a table row label, and does the next line continue it ("Scope of" / "services")?"""
    words = line.split()
    if not words or len(words) > _LABEL_MAX_WORDS or not words[0][0].isupper() or line[-1] in ".,;:)":
        return False, False
    continues = following is not None and len(following.split()) == 1 and following[:1].islower() and following[-1] not in ".,;:)"
    return True, continues


def parse_extract(raw: str, toc: list[TocEntry], vocab: set[str]) -> tuple[list[Block], dict[int, str]]:
    lines, footnotes = _split_footnotes(raw)
    toc_keys = {key(entry.name) for entry in toc}
    defined = set(footnotes)
    state = [min(defined) if defined else 0]

    paragraphs: list[tuple[str, list[str]]] = []  # (kind, lines)
    in_table = False
    i = 0
    while i < len(lines):
        line = lines[i]
        text = collapse_spaces(line)
        following = collapse_spaces(lines[i + 1]) if i + 1 < len(lines) else None
        if not any(ch.isalnum() for ch in text):
            i += 1
            continue
        if key(text) in toc_keys:
            paragraphs.append(("heading", [text]))
            in_table = False
        elif is_caption(text):
            paragraphs.append(("caption", [text]))
            in_table = True
        elif in_table:
            is_label, continues = _is_label(text, following)
            if is_label:
                label = f"{text} {following}" if continues else text
                paragraphs.append(("row", [label + ":"]))
                i += 2 if continues else 1
                continue
            if paragraphs and paragraphs[-1][0] == "row":
                paragraphs[-1][1].append(line)
            else:
                paragraphs.append(("para", [line]))
        elif text.startswith("•"):
            paragraphs.append(("bullet", [text.lstrip("• ").strip()]))
        elif text.startswith(("“", '"')):
            quote = [line]
            while not quote[-1].rstrip().endswith(")") and i + 1 < len(lines):
                i += 1
                quote.append(lines[i])
            paragraphs.append(("quote", quote))
        elif paragraphs and paragraphs[-1][0] in ("para", "bullet") and not _ended(paragraphs[-1][1][-1]):
            paragraphs[-1][1].append(line)
        else:
            paragraphs.append(("para", [line]))
        i += 1

    blocks: list[Block] = []
    table = 0
    for kind, para_lines in paragraphs:
        joined = _join_lines(para_lines, vocab)
        joined, refs = _detach_footnotes(collapse_spaces(strip_markup(joined)), defined, state)
        joined = collapse_spaces(joined)
        if not joined or not any(ch.isalnum() for ch in joined):
            continue
        if kind == "caption":
            table += 1
        if kind == "row":
            label, _, value = joined.partition(":")
            joined = format_row([label, value.strip()])
            if not value.strip():
                continue
        blocks.append(Block(kind=kind, text=joined, footnotes=refs, table=table if kind in ("row", "caption") else -1))
    return _mend_side_boxes(blocks), footnotes


def _ended(line: str) -> bool:
    """A printed line that closes its paragraph: the extraction leaves two trailing spaces after it."""
    return len(line) - len(line.rstrip(" ")) >= 2 and line.rstrip()[-1:] in ".!?:;”’)"


def _mend_side_boxes(blocks: list[Block]) -> list[Block]:
    """A paragraph interrupted by a side box resumes in the next block that starts lower case."""
    out: list[Block] = []
    for block in blocks:
        if (
            block.kind == "para"
            and block.text[:1].islower()
            and out
            and out[-1].kind == "quote"
            and len(out) >= 2
            and out[-2].kind in ("para", "bullet")
        ):
            target = out[-2]
            target.text = f"{target.text} {block.text}"
            target.footnotes += block.footnotes
            continue
        out.append(block)
    return out
