#!/usr/bin/env python3
"""scikit-learn oracle for @ragrpo/reward's tfidf reward (seed 001).

For every case: a TfidfVectorizer with scikit-learn's defaults and stop_words=<NLTK's list, read
from ../shared/datasets/stopwords/nltk-<language>.txt>, fitted on [reference] + completions, and
cosine_similarity(tfidf[0:1], tfidf[1:]), exactly as the seed; plus the analyzer's tokens per
document, so the tokenizer is checked on its own. Where scikit-learn raises "empty vocabulary" the
case records error="empty_vocabulary".

Needs Debian's python3-sklearn (/usr/bin/python3; a pyenv python3 on PATH may lack it).
Run from the repository root:
    /usr/bin/python3 tools/reference/reward_tfidf_fixtures.py
writes packages/reward/test/fixtures/tfidf.json. Test-only; never a runtime dependency.
"""
import json
import os
import sys

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STOPWORDS = os.path.join(ROOT, "..", "shared", "datasets", "stopwords")
OUT = os.path.join(ROOT, "packages", "reward", "test", "fixtures", "tfidf.json")


def nltk_list(language):
    if language == "none":
        return None
    with open(os.path.join(STOPWORDS, f"nltk-{language}.txt"), encoding="utf-8") as f:
        return [w.strip() for w in f if w.strip()]


CASES = [
    ("english", "english",
     "The wine has notes of cherry, plum and a hint of oak. It costs 25 dollars.",
     ["Cherry and plum notes with oak; it costs 25 dollars.",
      "A crisp white wine with citrus and green apple.",
      "The wine has notes of cherry, plum and a hint of oak. It costs 25 dollars.",
      ""]),
    ("german umlauts and sharp s", "german",
     "Die Straße am Fluss führt zu einem schönen Café mit Blick über die Stadt. Größe ist nicht alles.",
     ["Ein schönes Café an der Straße über dem Fluss.",
      "Die Stadt hat viele Museen und Parks.",
      "Größe und Schönheit der Stadt sind beeindruckend, dass weiß jeder.",
      "FLUSS, STRASSE, Straße!"]),
    ("completion of only stop words", "english",
     "Paris is the capital of France.",
     ["It is what it is, and they are there.", "The capital of France is Paris.", "capital capital capital"]),
    ("punctuation, digits and single-character tokens", "english",
     "Rated 92 points; price: $15 (2019 vintage) - a 5-star pick!",
     ["92 points, $15, 2019 vintage.", "a b c d 1 2 3 x y z", "5-star... 92!!! points??? 15", "9 2 1 5"]),
    ("uppercase", "english",
     "SAUVIGNON BLANC from NEW ZEALAND",
     ["sauvignon blanc from new zealand", "Sauvignon Blanc From New Zealand", "MERLOT from CHILE"]),
    ("underscores, apostrophes and unicode", "english",
     "Don't miss snake_case words, naïve café crème, Ἀθῆναι, ΟΔΟΣ and 東京 in 2024.",
     ["snake_case and don't: naïve café", "cafe\u0301 creme naive", "οδος Ἀθῆναι 東京", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝒶𝒷 ab"]),
    ("no stop words (language none)", "none",
     "The wine is the best of the year.",
     ["The best wine of the year.", "It is the wine.", "the the the"]),
    ("every document empty after stop words", "english",
     "It is what it is.",
     ["", "and the", "a"]),
    ("empty reference", "english",
     "",
     ["Some answer about wine.", ""]),
    ("a single completion", "german",
     "Der Wein schmeckt nach Kirschen und Pflaumen.",
     ["Kirschen und Pflaumen prägen den Wein."]),
]


def run(name, language, reference, completions):
    stop = nltk_list(language)
    docs = [reference] + completions
    vec = TfidfVectorizer(stop_words=stop)
    analyzer = vec.build_analyzer()
    case = {
        "name": name, "language": language, "reference": reference, "completions": completions,
        "tokens": [analyzer(d) for d in docs],
    }
    try:
        m = vec.fit_transform(docs)
    except ValueError as err:
        if "empty vocabulary" not in str(err):
            raise
        case["error"] = "empty_vocabulary"
        return case
    case["similarities"] = [float(x) for x in cosine_similarity(m[0:1], m[1:])[0]]
    case["vocabulary"] = sorted(vec.vocabulary_)
    case["idf"] = {t: float(vec.idf_[i]) for t, i in vec.vocabulary_.items()}
    return case


def main():
    if not os.path.isdir(STOPWORDS):
        sys.exit(f"{STOPWORDS}: the NLTK stop-word lists are not there (the shared datasets folder beside the repository)")
    cases = [run(*c) for c in CASES]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"generator": "tools/reference/reward_tfidf_fixtures.py", "sklearn": sklearn.__version__, "cases": cases},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT, ROOT)} (scikit-learn {sklearn.__version__})")


if __name__ == "__main__":
    main()
