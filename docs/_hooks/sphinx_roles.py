"""MkDocs hook: render the Sphinx roles of the numpydoc docstrings as links of the API reference.

The docstrings cross-reference with Sphinx roles (:func:`strong_order`, :class:`~deeplimits.sde.SDE`), which
Markdown shows verbatim.  On the pages of the API reference this hook turns each one into an optional
mkdocs-autorefs reference: a link where the target is documented, plain code otherwise.  Relative names are
looked up in the subpackage of the page (``api/sde.md`` -> ``deeplimits.sde``), then among the objects the page
documents.
"""

import re

ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|exc|obj|const):<code>(~?)([\w.]+)</code>")


def _identifier(name: str, package: str, ids: set) -> str:
    """The full name of ``name``: as written, else an object of this page whose name ends with it."""
    if name.startswith("deeplimits."):
        inner = f"{name}.{name.rsplit('.', 1)[-1]}"  # a function re-exported over its module's name
        return inner if name not in ids and inner in ids else name
    full = f"{package}{name}" if name.startswith(".") else f"{package}.{name}"
    if full in ids:
        return full
    ends = sorted((i for i in ids if i.endswith("." + name.lstrip("."))), key=len)
    return ends[0] if ends else full


def on_page_content(html, page, **kwargs):
    """Replace the roles on ``api/<area>.md`` pages (other pages hold no docstrings)."""
    src = page.file.src_uri
    if not src.startswith("api/"):
        return html
    package = "deeplimits." + src[len("api/") : -len(".md")]
    ids = set(re.findall(r'id="(deeplimits[\w.]*)"', html))

    def link(match: re.Match) -> str:
        tilde, name = match.groups()
        shown = name.rsplit(".", 1)[-1] if tilde else name.lstrip(".")
        return f'<autoref optional identifier="{_identifier(name, package, ids)}"><code>{shown}</code></autoref>'

    return ROLE.sub(link, html)
