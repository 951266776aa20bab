"""A message built by code that may run outside a request, translated where it is shown.

    error = Message("%(field)s is required.", field=Message("Agency"))
    str(error)                  # "Agency is required." (the JSON API, a stored record, a log)
    {{ error|translate }}       # the same in the page's language, its values left to right

A Message is its English text (a `str`), so code that stores, joins or sends it as JSON
keeps working unchanged; it also remembers its msgid and values, so a page can translate
it at render time. `Message(...)` is a keyword of the extraction (`catalogues.KEYWORDS`).
"""

from __future__ import annotations

from flask_babel import gettext
from markupsafe import Markup, escape

__all__ = ["Message", "translate"]


class Message(str):
    """English text that remembers its msgid and values, for translation where it is shown."""

    msgid: str
    values: dict[str, object]
    lowered: bool

    def __new__(cls, msgid: str, /, **values: object) -> Message:
        self = super().__new__(cls, msgid % values if values else msgid)
        self.msgid, self.values, self.lowered = msgid, values, False
        return self

    def lower(self) -> Message:
        """The same message in lower case (a name inside a sentence), in every language."""
        out = str.__new__(Message, str.lower(self))
        out.msgid, out.values, out.lowered = self.msgid, self.values, True
        return out

    def translated(self) -> Markup:
        """This message in the current request's language (English outside a request), as
        HTML: its text escaped, each value that is not itself a Message in `<bdi dir=ltr>`
        (an address or a name must not reorder in a right-to-left sentence)."""
        values = {
            name: value.translated()
            if isinstance(value, Message)
            else Markup('<bdi dir="ltr">{}</bdi>').format(value)
            for name, value in self.values.items()
        }
        text = escape(gettext(self.msgid))
        if self.lowered:
            text = Markup(str(text).lower())
        return Markup(text % values) if values else text


def translate(text: object) -> object:
    """A Message in the page's language; any other text as it is (a template filter)."""
    return text.translated() if isinstance(text, Message) else text
