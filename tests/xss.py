"""Checks that HTML cannot run script, for the hostile-input tests.

Parses with the stdlib HTML parser (what a browser tokenises, near enough) and
reports any element, attribute or URL that could execute.
"""

import re
from html.parser import HTMLParser

SCRIPTABLE_TAGS = {
    "script", "iframe", "object", "embed", "frame", "frameset", "applet", "base",
    "form", "input", "button", "meta", "link", "style", "svg", "math", "template",
    "textarea", "select", "isindex", "keygen", "video", "audio", "source", "xml",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc",
                  "background", "dynsrc", "lowsrc", "poster", "cite", "srcset"}  # fmt: skip
SAFE_SCHEMES = {"http", "https", "mailto", "tel"}
_SCHEME_RE = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.\-]*):")


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in SCRIPTABLE_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag}[{name}]")
            if (
                name == "style"
                and value
                and re.search(r"expression|url\(|javascript", value, re.I)
            ):
                self.problems.append(f"{tag}[style={value!r}]")
            if name in URL_ATTRIBUTES and value:
                # The parser has decoded entities once, as a browser does.
                cleaned = re.sub(r"[\x00-\x20]", "", value)
                match = _SCHEME_RE.match(cleaned)
                if match and match.group(1).lower() not in SAFE_SCHEMES:
                    self.problems.append(f"{tag}[{name}={value!r}]")

    handle_startendtag = handle_starttag


def script_vectors(fragment: str) -> list[str]:
    """Every element, attribute or URL in `fragment` that could run script."""
    finder = _Finder()
    finder.feed(fragment)
    finder.close()
    return finder.problems
