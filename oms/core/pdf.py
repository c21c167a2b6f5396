"""PDF documents (invoices, pick lists, packing slips) drawn with reportlab.

Chinese text uses reportlab's built-in CID font ``STSong-Light``: the PDF names the font and every reader
supplies it (Adobe-GB1), so no font file ships with the project or is fetched. Any text that comes from
outside (buyer names, addresses, remarks) and goes into a ``Paragraph`` passes through :func:`text` first:
paragraph markup could otherwise carry tags such as ``<img src=...>``.
"""

from __future__ import annotations

from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

FONT = "STSong-Light"


@cache
def font() -> str:
    """The registered font's name (registered once per process)."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def text(value: object) -> str:
    """``value`` as paragraph text: markup characters escaped, line breaks kept."""
    return escape(str(value)).replace("\n", "<br/>")


def style(size: float = 9, *, leading: float | None = None, name: str = "body") -> ParagraphStyle:
    """A paragraph style in the document font (CJK line breaking: a line may break between any characters)."""
    return ParagraphStyle(
        name, fontName=font(), fontSize=size, leading=leading or size * 1.35, wordWrap="CJK", splitLongWords=True
    )
