import functools
import pickle
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from generator.model.records import Body, Entry, Origin, with_origin

WHEN = datetime(2026, 11, 3, 21, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
reads: list[str] = []


def stored_texts(key: str) -> tuple[str, str]:
    """A loader that pickles, as the build cache's do."""
    reads.append(key)
    return f"<p>{key}</p>", key


def test_a_body_made_with_a_loader_reads_once_when_first_asked_and_travels_unread():
    reads.clear()
    body = Body(load=lambda: stored_texts("a"))
    assert not body.is_read and reads == []
    assert body.html == "<p>a</p>" and body.text == "a" and body.read() == ("<p>a</p>", "a")
    assert reads == ["a"] and body.is_read
    later = pickle.loads(pickle.dumps(Body(load=functools.partial(stored_texts, "b"))))
    assert not later.is_read and reads == ["a"]  # sent to another process, it is read there
    assert later == Body("<p>b</p>", "b") and reads == ["a", "b"]  # compared by its texts


def entry(**changes) -> Entry:
    return Entry(**{"section": "qa", "slug": "x", "url": "/qa/x/", "source": "content/qa/x.md", "title": "标题",
                    "date": WHEN, "body": Body("<p>正文</p>", "正文"), "summary": "", "reading_minutes": 1, **changes})


def test_an_origin_vouches_for_the_entry_made_with_it_alone():
    made = with_origin(entry(), "key")
    assert made.origin == "key" and made.made_from == Origin("key")
    assert replace(made, title="另一个").origin == ""  # a copy with other values holds the origin, which does not vouch for it
    assert replace(made).origin == ""
    sent = pickle.loads(pickle.dumps(made))
    assert sent == made and sent.origin == ""  # an entry from another process is digested by its value
    assert entry().origin == ""
