"""`python -m index.answers.evaluate_summaries`: the benchmark's ROUGE, on reference summaries written here
for bundled articles (the CNN/DailyMail dev articles are never copied into the project)."""

from __future__ import annotations

import json

import pytest

from index.answers.evaluate_summaries import lead3, main, report, rows, summary_points
from tests.conftest import bundled_articles

pytest.importorskip("rouge_score")


def records() -> list[dict]:
    by_id = {r["id"]: r for r in bundled_articles()}
    games = by_id["art-050"]["body"]
    return [
        # A reference that is the article's first three sentences: Lead-3 scores 100 on ROUGE-1 and -2
        # (ROUGE-Lsum splits the candidate at its newlines and the reference, one line, nowhere).
        {"id": "lead", "article": games, "reference": " ".join(lead3(games))},
        {
            "id": "figures",
            "article": games,
            "reference": "More than 9,000 people in video games were laid off in 2023. Epic Games fired "
            "roughly 830 people. Unions made progress at Microsoft.",
        },
    ]


@pytest.mark.model
def test_each_article_is_scored_beside_lead3(real_embedder) -> None:
    scored = list(rows(real_embedder, records(), 3))
    assert [r["id"] for r in scored] == ["lead", "figures"]
    assert scored[0]["lead3"]["rouge1"] == scored[0]["lead3"]["rouge2"] == 100.0
    for r in scored:
        assert 0 < r["ours"]["rouge1"] <= 100 and r["ours"]["words"] > 0
    summary = report(scored)
    assert summary["articles"] == 2 and summary["lead3"]["rouge1"] == round(
        (100 + scored[1]["lead3"]["rouge1"]) / 2, 1
    )
    points = summary_points(real_embedder, records()[0], 3)
    assert len(points) == 3 and all(p in " ".join(records()[0]["article"].split()) for p in points)


def test_bad_input_is_refused_before_any_work(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        main([str(tmp_path / "x.jsonl"), "--points", "0"])
    assert "1 to 10 points" in capsys.readouterr().err
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({"id": "a", "article": "Text."}) + "\n")
    with pytest.raises(SystemExit, match=r"broken\.jsonl:1: missing reference"):
        main([str(broken)])
