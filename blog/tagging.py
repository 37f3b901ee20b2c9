"""How editors type tags: comma-separated names, nothing cleverer.

taggit's default parser splits on spaces when there is no comma, turning
"Middle East" into two tags; newsroom tags are often several words.
Settings point TAGGIT_TAGS_FROM_STRING and TAGGIT_STRING_FROM_TAGS here.
"""

MAX_TAG_LENGTH = 100


def parse_tags(text: str) -> list[str]:
    """'Iran, Middle East, "Oil, gas"' → ['Iran', 'Middle East', 'Oil', 'gas'].

    Commas separate; surrounding spaces and quotes are dropped; duplicates
    (ignoring case) keep their first spelling."""
    names: dict[str, str] = {}
    for part in (text or "").split(","):
        name = " ".join(part.strip().strip("\"'").split())
        if name:
            names.setdefault(name.casefold(), name)
    return sorted(names.values(), key=str.casefold)


def format_tags(tags) -> str:
    return ", ".join(sorted((tag.name for tag in tags), key=str.casefold))
