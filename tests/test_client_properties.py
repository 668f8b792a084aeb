"""The java.util.Properties format, as Kafka's own tools read client.properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kafka_sre_tui.client_properties import parse_properties


def test_separators_comments_and_continuations() -> None:
    text = ("# comment\n! also a comment\n\n"
            "a=1\nb = 2\nc:3\nd 4\n  e  =  spaced value  \n"
            "f=one,\\\n   two,\\\n   three\n"
            "g=back\\\\slash\nh\\=k=v\nempty=\n")
    assert parse_properties(text) == {
        "a": "1", "b": "2", "c": "3", "d": "4", "e": "spaced value  ", "f": "one,two,three",
        "g": "back\\slash", "h=k": "v", "empty": ""}


def _escape(s: str, key: bool) -> str:
    out = s.replace("\\", "\\\\")
    if key:
        for ch in "=: #!":
            out = out.replace(ch, "\\" + ch)
    elif out.startswith((" ", "\t")):
        out = "\\" + out
    return out


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@given(st.dictionaries(_text.filter(bool), _text, max_size=8))
def test_whatever_java_would_write_reads_back(props: dict[str, str]) -> None:
    text = "".join(f"{_escape(k, True)}={_escape(v, False)}\n" for k, v in props.items())
    assert parse_properties(text) == props
