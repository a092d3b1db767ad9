"""Writing the blocks of :mod:`.report_layout` as Markdown or as one self-contained HTML page.

The HTML page embeds each figure as a base64 ``data:`` URI, so the single file can be
mailed or attached without its folder.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from urllib.parse import unquote

from .report_layout import Block

__all__ = ["to_html", "to_markdown"]

_INLINE = re.compile(r"`([^`]*)`|\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)\s]+)\)")
_ALIGN_MD = {"l": "---", "r": "---:", "c": ":-:"}
_ALIGN_CSS = {"l": "left", "r": "right", "c": "center"}
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; vertical-align: top; }
th { background: #f2f2f2; }
code, pre { background: #f6f6f6; font-size: 0.9em; }
pre { padding: 0.8em; overflow-x: auto; }
img { max-width: 100%; }
"""


def _cell(text: str) -> str:
    """Escape text for a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list[Block]) -> str:
    """The blocks as GitHub-flavoured Markdown.

    Examples
    --------
    >>> table = Block("table", header=["a"], align=["r"], rows=[["1"]])
    >>> print(to_markdown([Block("heading", "Title", level=1), table]), end="")
    # Title
    <BLANKLINE>
    | a |
    | ---: |
    | 1 |
    """
    lines: list[str] = []
    for b in blocks:
        if b.kind == "heading":
            lines += [f'<a id="{b.anchor}"></a>', ""] if b.anchor else []
            lines += ["#" * b.level + " " + b.text, ""]
        elif b.kind == "para":
            lines += [b.text, ""]
        elif b.kind == "items":
            lines += [f"- {row[0]}" for row in b.rows] + [""]
        elif b.kind == "table":
            lines.append("| " + " | ".join(_cell(h) for h in b.header) + " |")
            lines.append("| " + " | ".join(_ALIGN_MD[a] for a in b.align) + " |")
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in b.rows]
            lines.append("")
        elif b.kind == "image":
            lines += [f"![{_cell(b.text)}]({b.src})", ""]
        elif b.kind == "code":
            lines += ["```text", b.text, "```", ""]
        elif b.kind == "details":
            lines += ["<details>", f"<summary>{html.escape(b.text)}</summary>", ""]
            lines += to_markdown(b.children).splitlines() + ["</details>", ""]
        else:
            raise ValueError(f"unknown block kind {b.kind!r}")
    return "\n".join(lines).rstrip("\n") + "\n"


def _inline(text: str) -> str:
    """The inline Markdown subset (code, bold, links) as HTML; everything else escaped."""
    out, at = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[at : m.start()]))
        code, bold, label, href = m.groups()
        if code is not None:
            out.append(f"<code>{html.escape(code)}</code>")
        elif bold is not None:
            out.append(f"<strong>{_inline(bold)}</strong>")
        else:
            out.append(f'<a href="{html.escape(href)}">{html.escape(label)}</a>')
        at = m.end()
    out.append(html.escape(text[at:]))
    return "".join(out)


def _image_html(b: Block, folder: Path) -> str:
    path = folder / unquote(b.src)
    alt = html.escape(b.text)
    if not path.is_file():
        return f"<p>Figure not found: <code>{html.escape(unquote(b.src))}</code></p>"
    kind = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".svg": "svg+xml"}.get(path.suffix.lower(), "png")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{alt}" src="data:image/{kind};base64,{data}"><figcaption>{alt}</figcaption></figure>'


def _body_html(blocks: list[Block], folder: Path) -> list[str]:
    parts: list[str] = []
    for b in blocks:
        if b.kind == "heading":
            anchor = f' id="{html.escape(b.anchor)}"' if b.anchor else ""
            parts.append(f"<h{b.level}{anchor}>{_inline(b.text)}</h{b.level}>")
        elif b.kind == "para":
            parts.append(f"<p>{_inline(b.text)}</p>")
        elif b.kind == "items":
            parts.append("<ul>" + "".join(f"<li>{_inline(row[0])}</li>" for row in b.rows) + "</ul>")
        elif b.kind == "table":
            style = [f' style="text-align:{_ALIGN_CSS[a]}"' for a in b.align]
            head = "".join(f"<th>{html.escape(h)}</th>" for h in b.header)
            body = "".join(
                "<tr>" + "".join(f"<td{s}>{_inline(c)}</td>" for s, c in zip(style, row, strict=True)) + "</tr>"
                for row in b.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif b.kind == "image":
            parts.append(_image_html(b, folder))
        elif b.kind == "code":
            parts.append(f"<pre>{html.escape(b.text)}</pre>")
        elif b.kind == "details":
            inner = "\n".join(_body_html(b.children, folder))
            parts.append(f"<details><summary>{html.escape(b.text)}</summary>\n{inner}\n</details>")
        else:
            raise ValueError(f"unknown block kind {b.kind!r}")
    return parts


def to_html(blocks: list[Block], folder: str | Path, *, title: str = "deeplimits validation report") -> str:
    """The blocks as one self-contained HTML page; images (relative to ``folder``) are embedded.

    Examples
    --------
    >>> page = to_html([Block("para", "**PASSED**: see `results.json`")], ".")
    >>> "<p><strong>PASSED</strong>: see <code>results.json</code></p>" in page
    True
    """
    body = "\n".join(_body_html(blocks, Path(folder)))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
