"""Path converters for the URL contract in DESIGN.md."""


class FourDigitYear:
    regex = "[0-9]{4}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):04d}"


class TwoDigits:
    regex = "[0-9]{2}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return f"{int(value):02d}"


class TagSlugs:
    """`iran`, `iran+russia`, at most three slugs joined by `+`."""

    regex = r"[-\w]+(?:\+[-\w]+){0,2}"

    def to_python(self, value):
        return value.split("+")

    def to_url(self, value):
        return value if isinstance(value, str) else "+".join(value)
