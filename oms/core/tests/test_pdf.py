"""The PDF kernel: Chinese text drawn in the built-in CID font reads back, and paragraph markup in outside
text is drawn as text, never followed."""

from __future__ import annotations

import io

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.platypus import Paragraph, SimpleDocTemplate

from oms.core import pdf


def _render(*paragraphs: str) -> str:
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4).build([Paragraph(p, pdf.style()) for p in paragraphs])
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(out.getvalue())).pages)


def test_chinese_text_reads_back() -> None:
    assert "收件人 张三 杭州市文三路 1 号" in _render(pdf.text("收件人 张三 杭州市文三路 1 号"))


def test_markup_in_outside_text_is_drawn_as_text() -> None:
    hostile = '<img src="http://169.254.169.254/latest" width="9" height="9"/> 李四 & <b>'
    drawn = _render(pdf.text(hostile))
    assert 'img src="http://169.254.169.254/latest"' in drawn
    assert "李四 & <b>" in drawn
