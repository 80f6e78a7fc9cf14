"""ActivityInSerializer.validate_plain_batch never disagrees with the serializer.

The quick path of the activity API may only accept what the serializer accepts
and must return what it returns; everything else goes to the serializer, whose
errors the API reports. Hypothesis throws valid, nearly valid and invalid events
at both.

"""

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.ingest_validation import ActivityInSerializer

EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

texts = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "page_view",
            " page_view ",
            "Page_View",
            "page-view",
            "a" * 50,
            "a" * 51,
            "x\x00y",
            "\ud800",
            "pricing_page_view\n",
            "\tweb\t",
            "crm-1",
            "1",
        ]
    ),
)
emails = st.one_of(
    texts,
    st.emails().map(str),
    st.sampled_from(
        [
            "A@B.COM",
            " a@b.co ",
            "a@b",
            "@b.com",
            "a@-b.com",
            "ü@exämple.com",
            "a@b.com\n",
            "x" * 300 + "@b.com",
            "a@b.com",
            "a@[127.0.0.1]",
        ]
    ),
)
urls = st.one_of(
    texts,
    st.sampled_from(
        [
            "https://x.example/a",
            " http://a.b ",
            "ftp://x.y/z",
            "javascript:alert(1)",
            "http://",
            "https://ex ample.com",
            "http://[::1]/",
            "http://localhost:8000/x",
            "https://é.example/ü",
            "https://" + "a" * 1990 + ".com",
            "www.x.com",
            "https://x.example/a?b=c#d",
        ]
    ),
)
datetimes = st.one_of(
    texts,
    st.datetimes().map(datetime.isoformat),
    st.sampled_from(
        [
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01",
            "2026-01-01 10:00",
            "2026-01-01T10:00:00+05:30",
            "2026-01-01T10:00:00.123456789Z",
            " 2026-01-01T00:00:00Z",
            "9999-12-31T23:59:59-01:00",
            "0001-01-01T00:00:00+01:00",
            "2026-13-01T00:00:00Z",
            "20260101T000000Z",
            "2026-01-01T00:00:00 UTC",
        ]
    ),
)
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**20),
    st.floats(allow_nan=False),
    texts,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers()),
)
properties = st.dictionaries(
    st.text(max_size=5), st.one_of(st.none(), st.integers(), texts), max_size=3
)


def either(strategy):
    return st.one_of(strategy, anything)


# Any subset of the fields, each valid or not.
events = st.fixed_dictionaries(
    {},
    optional={
        "lead": either(st.integers(-2, 10**6)),
        "lead_email": either(emails),
        "lead_external_id": either(texts),
        "kind": either(texts),
        "url": either(urls),
        "properties": either(properties),
        "occurred_at": either(datetimes),
        "source_system": either(texts),
        "external_id": either(texts),
        "other": anything,
    },
)
# Mostly valid events, so that the quick path is taken often.
plain_events = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["page_view", " email_open ", "x", "a" * 50]),
        "occurred_at": datetimes,
        "source_system": texts,
        "external_id": texts,
    },
    optional={"url": urls, "properties": properties},
).flatmap(
    lambda event: st.sampled_from(
        [{"lead": 3}, {"lead_email": "a@b.com"}, {"lead_external_id": "crm-1"}]
    ).map(lambda ref: {**ref, **event})
)


def assert_agrees(items):
    quick = ActivityInSerializer.validate_plain_batch(items)
    if quick is None:
        return False
    serializer = ActivityInSerializer(data=items, many=True)
    assert serializer.is_valid(), (items, serializer.errors)
    slow = [dict(row) for row in serializer.validated_data]
    assert quick == slow
    for q, s in zip(quick, slow, strict=True):
        assert list(q) == list(s)
        assert {k: type(v) for k, v in q.items()} == {k: type(v) for k, v in s.items()}
        assert q["occurred_at"].utcoffset() == s["occurred_at"].utcoffset()
    return True


@EXAMPLES
@given(st.lists(st.one_of(events, plain_events, anything), max_size=4))
def test_the_quick_path_accepts_only_what_the_serializer_accepts(items):
    assert_agrees(items)


@EXAMPLES
@given(st.lists(plain_events, min_size=1, max_size=3))
def test_the_quick_path_returns_what_the_serializer_returns(items):
    assert_agrees(items)


def test_the_quick_path_takes_ordinary_events():
    items = [
        {
            "lead_email": "a@b.com",
            "kind": "page_view",
            "occurred_at": "2026-01-01T00:00:00Z",
            "source_system": "web",
            "external_id": "1",
            "url": "https://x.example/a",
            "properties": {"a": 1},
        },
        {
            "lead": 5,
            "kind": "form_submit",
            "occurred_at": "2026-01-01T01:00:00+02:00",
            "source_system": "web",
            "external_id": "2",
        },
        {
            "lead_external_id": "crm-9",
            "kind": "email_open",
            "occurred_at": "2026-01-01",
            "source_system": "esp",
            "external_id": "3",
            "url": "http://x.example",
            "properties": {},
        },
    ]
    assert assert_agrees(items)
    assert ActivityInSerializer.validate_plain_batch(items)[1]["occurred_at"] == datetime(
        2025, 12, 31, 23, tzinfo=UTC
    )


def test_anything_doubtful_goes_to_the_serializer():
    base = {
        "lead": 1,
        "kind": "page_view",
        "occurred_at": "2026-01-01T00:00:00Z",
        "source_system": "web",
        "external_id": "1",
    }
    for change in (
        {"lead": "1"},
        {"lead": True},
        {"url": ""},
        {"url": None},
        {"properties": None},
        {"lead_email": "a@b.com"},
        {"kind": "Page"},
        {"external_id": "x" * 201},
        {"occurred_at": "soon"},
    ):
        assert ActivityInSerializer.validate_plain_batch([{**base, **change}]) is None, change
    assert ActivityInSerializer.validate_plain_batch(["not an object"]) is None
