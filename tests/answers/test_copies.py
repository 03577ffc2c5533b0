"""One story reprinted by several outlets: one point, citing each outlet's own verbatim copy."""

from index.answers.ask import compose
from index.answers.candidates import ArticleCache, hit_sentences
from index.models import ArticleDraft

WIRE = (
    "Engineers finished the longest rail tunnel under the northern mountains on Tuesday after nine years. "
    "The tunnel is 57 kilometres long and cuts the journey between the two valleys to forty minutes. "
    "Freight trains will use it from June and passenger services will follow in the autumn. "
    "The project cost 11 billion euros, two billion more than planned, officials said. "
    "Local residents celebrated with a concert at the southern portal on Tuesday evening."
)
REPRINT = WIRE + " Reporting by the regional desk."


def test_a_reprinted_story_gives_one_point_with_every_outlets_copy(engine) -> None:
    report = engine.ingest_items(
        [
            ArticleDraft(
                WIRE, "wire", "Rail tunnel finished", "Wire One", "https://wire.example/tunnel", "2024-03-12"
            ),
            ArticleDraft(
                REPRINT, "copy", "Mountain tunnel done", "Daily Two", "https://daily.example/t", "2024-03-12"
            ),
        ]
    )
    assert (report.added, report.duplicates) == (1, 1)
    hits = engine.search("How long is the rail tunnel under the mountains?", k=3)
    assert hits[0].also_reported_by == ("Daily Two",)
    cache = ArticleCache(engine)
    sentence = next(s for s in hit_sentences(hits, cache) if "57 kilometres" in s.text)
    result = compose(engine, "How long is the tunnel?", [[sentence]], cache)
    (point,) = result.points
    assert point.citations == (1, 2)
    assert [c.source for c in result.citations] == ["Wire One", "Daily Two"]
    for c in result.citations:
        assert engine.article(c.article_id).body[c.start : c.end] == c.excerpt == sentence.text
