#!/usr/bin/env python3
"""VADER oracle for @ragrpo/reward's English sentiment lexicon (vader-sentiment on npm).

Scores sentences with the reference Python implementation, vaderSentiment (the PyPI package by
VADER's authors), and labels them with VADER's documented thresholds: compound >= 0.05 positive,
<= -0.05 negative, else neutral. vaderSentiment is not a Debian package and nothing is installed:
download the wheel and unpack it, then point this script at it:

    pip download --no-deps -d /tmp/wheels vaderSentiment==3.3.2
    python3 -m zipfile -e /tmp/wheels/vaderSentiment-3.3.2-py2.py3-none-any.whl /tmp/vader
    python3 tools/reference/reward_sentiment_fixtures.py --vader /tmp/vader

writes packages/reward/test/fixtures/sentiment.json. Test-only.
"""
import argparse
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "packages", "reward", "test", "fixtures", "sentiment.json")

SENTENCES = [
    "The wine is excellent and delicious.",
    "The wine was awful, bitter and bad.",
    "The train leaves at eight.",
    "This is not a good wine.",
    "Great value, but the finish is disappointingly short!",
    "ABSOLUTELY WONDERFUL!!! :)",
    "It's okay, I guess.",
    "Kind of meh, honestly.",
    "The tannins are firm and the fruit is ripe.",
    "",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vader", required=True, help="folder holding the unpacked vaderSentiment wheel")
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.vader))
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError as err:
        sys.exit(f"{args.vader}: no vaderSentiment package there ({err}); see this script's docstring")
    analyzer = SentimentIntensityAnalyzer()
    cases = []
    for s in SENTENCES:
        compound = analyzer.polarity_scores(s)["compound"]
        label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        cases.append({"text": s, "compound": compound, "label": label})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"generator": "tools/reference/reward_sentiment_fixtures.py", "vaderSentiment": "3.3.2", "cases": cases},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
