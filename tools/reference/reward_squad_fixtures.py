#!/usr/bin/env python3
"""SQuAD v1.1 oracle for @ragrpo/reward's exact_match, token_f1 and contains_reference rewards.

normalize_answer, f1_score and exact_match_score are re-typed from the official SQuAD v1.1
evaluation script (evaluate-v1.1.py, public); nothing is imported but the standard library.
contains_reference is ragrpo's own rule on top of normalize_answer (the normalised reference
occurs in the normalised prediction as whole tokens; None when the reference normalises to '').

Run from the repository root (any python3):
    python3 tools/reference/reward_squad_fixtures.py
writes packages/reward/test/fixtures/squad.json. Test-only.
"""
import json
import os
import re
import string
import sys
from collections import Counter

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "packages", "reward", "test", "fixtures", "squad.json")


# --- evaluate-v1.1.py ---------------------------------------------------------------------------
def normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def exact_match_score(prediction, ground_truth):
    return (normalize_answer(prediction) == normalize_answer(ground_truth))
# -------------------------------------------------------------------------------------------------


def contains_reference(prediction, ground_truth):
    ref = normalize_answer(ground_truth)
    if ref == '':
        return None
    return 1.0 if f" {ref} " in f" {normalize_answer(prediction)} " else 0.0


def context_faithfulness(answer, context):
    tokens = normalize_answer(answer).split()
    if not tokens:
        return 0.0
    known = set(normalize_answer(context).split())
    return sum(1 for t in tokens if t in known) / len(tokens)


PAIRS = [
    ("Paris", "paris"),
    ("The Eiffel Tower", "Eiffel tower."),
    ("an apple a day", "Apple Day"),
    ("A theater", "theater"),
    ("theater", "atheater"),
    ("It costs $15.", "15"),
    ("It costs 15 dollars", "$15"),
    ("100 points", "10 points"),
    ("the the the", "The"),
    ("", ""),
    ("", "Paris"),
    ("Paris", ""),
    ("red red wine", "red wine"),
    ("Rot, rot: der Wein!", "roter Wein"),
    ("Die Straße führt zum Fluss", "straße fluss"),
    ("  spaced\tout\nanswer  ", "spaced out answer"),
    ("non\u00a0breaking\u2003spaces", "non breaking spaces"),
    ("curly \u201cquotes\u201d and \u2014 dashes", "curly quotes and dashes"),
    ("theé and aé", "é"),
    ("snake_case an_apple", "snakecase anapple"),
    ("Ǆ digraph İstanbul", "ǆ digraph i̇stanbul"),
    ("Pinot Noir from Oregon, 2015 vintage, 92 points.", "Pinot Noir"),
    ("It scored 92 points and costs $65.", "92 points, $65"),
]


def main():
    cases = []
    for prediction, truth in PAIRS:
        cases.append({
            "prediction": prediction, "truth": truth,
            "normalized_prediction": normalize_answer(prediction),
            "normalized_truth": normalize_answer(truth),
            "exact_match": 1.0 if exact_match_score(prediction, truth) else 0.0,
            "f1": float(f1_score(prediction, truth)),
            "contains_reference": contains_reference(prediction, truth),
            # The pair read as (answer, context) for context_faithfulness.
            "context_faithfulness": context_faithfulness(prediction, truth),
        })
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"generator": "tools/reference/reward_squad_fixtures.py", "python": sys.version.split()[0], "cases": cases},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
