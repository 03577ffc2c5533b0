"""Answers and summaries built from the articles' own sentences, each cited and checked verbatim."""

from .ask import answer
from .summarize import summarize_article, summarize_period, summarize_topic

__all__ = ["answer", "summarize_article", "summarize_period", "summarize_topic"]
