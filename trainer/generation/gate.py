"""The quality gate: nothing is published that is too short, degenerate, copied, or carries HTML.

Each rule gives a ``Verdict`` with the rule's name, the measured value and the limit, so every
decision can be reported. Of the candidates that pass every rule, the one with the best mean token
log-probability (under the raw model) wins; one that ended by itself beats a trimmed one.

Rules, in order:
- ``title``: the sample's first line is a usable title followed by a blank line and a body
  (``trainer.generation.post.title_problem``), and not the title of a post in the corpus (but for
  case and punctuation: two posts of one title on a blog confuse its readers); the verdict names
  what is wrong;
- ``ending``: the body ends where a sentence ends; a sample cut at the length limit (``ending``
  "trimmed") keeps at least ``min_words`` words after trimming;
- ``length``: at least ``min_words`` words in the body;
- ``repetition``: the share of repeated word ``rep_n``-grams (rep-4) at most ``max_repeated``;
- ``diversity``: distinct word bigrams / all bigrams (distinct-2) at least ``min_distinct``;
- ``memorised``: no verbatim run of ``memorised_tokens`` tokens shared with the training corpus;
- ``html``: no raw HTML tags, ``<script>``, ``on...=`` event handlers or javascript:/vbscript:/
  data: links. ``html="reject"`` rejects; ``html="escape"`` lets the candidate through as it is:
  its text stays plain and is escaped once, where it is written (the plugin's post file,
  ``trainer sample --out``, the report), as every post's text is. Escaping it here as well made
  readers see entities and backslashes on the published page;
- ``fluency``: perplexity under a pretrained reference model at most the run's calibrated limit
  (``trainer.generation.quality``; off with ``fluency=False``);
- ``topic``: TF-IDF similarity to the blog's posts at least the calibrated limit (``topic=False``).
  Both need the run's ``gate_calibration.json``; without it they are left out (one warning).
  The same file lowers ``min_words`` for a blog of short posts and lets HTML through (escaped)
  on a blog whose own posts show it (``trainer.generation.calibration``).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from common.errors import TrainerError
from trainer.generation.post import Post, ends_a_sentence

_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
_HTML_PATTERNS = [
    ("script", re.compile(r"<\s*/?\s*script\b", re.IGNORECASE)),
    ("event handler", re.compile(r"\bon[a-z]{3,}\s*=", re.IGNORECASE)),
    ("script link", re.compile(r"\b(?:java\s*script|vb\s*script)\s*:|\bdata\s*:\s*[a-z]+/[\w.+-]+[;,]",
                               re.IGNORECASE)),
    ("html tag", re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?>|<!--|<![a-zA-Z\[]|<\?")),
]


@dataclass
class GateSettings:
    """Limits of the gate. ``require_corpus`` makes a missing corpus a failure, not a skip."""

    min_words: int = 80
    rep_n: int = 4
    max_repeated: float = 0.2  # share of word rep_n-grams that repeat an earlier one
    min_distinct: float = 0.5  # distinct-2
    memorised_tokens: int = 50
    corpus: str | None = None  # overrides train.json's corpus_path
    require_corpus: bool = False
    html: str = "reject"  # or "escape"
    fluency: bool = True  # perplexity under the reference model (trainer.generation.quality)
    topic: bool = True  # TF-IDF similarity to the blog's posts (trainer.generation.quality)
    new_title: bool = True  # the title rule rejects the title of a post in the corpus

    def validate(self) -> "GateSettings":
        problems = []
        if self.html not in ("reject", "escape"):
            problems.append(f"html={self.html!r} must be 'reject' or 'escape'")
        if self.rep_n < 1 or self.memorised_tokens < 1 or self.min_words < 0:
            problems.append("rep_n, memorised_tokens must be >= 1 and min_words >= 0")
        if not 0 <= self.max_repeated <= 1 or not 0 <= self.min_distinct <= 1:
            problems.append("max_repeated and min_distinct must be between 0 and 1")
        if problems:
            raise TrainerError("invalid gate settings: " + "; ".join(problems))
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Verdict:
    """One rule's decision on one candidate: passed or not, what was measured, and the limit."""

    rule: str
    passed: bool
    value: object  # the measured value
    limit: str  # the rule's limit, in words ("<= 0.2", ">= 80 words")
    note: str = ""

    def line(self) -> str:
        state = "pass" if self.passed else "REJECT"
        text = f"{self.rule}: {state} ({self.value}; limit {self.limit})"
        return f"{text}: {self.note}" if self.note else text


@dataclass
class Assessment:
    """Every rule's verdict on one candidate, and the measured figures (recorded in post.gate)."""

    verdicts: list[Verdict] = field(default_factory=list)
    figures: dict = field(default_factory=dict)  # the measured values, for post.gate

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    @property
    def rejected_by(self) -> list[str]:
        return [v.rule for v in self.verdicts if not v.passed]

    def lines(self) -> list[str]:
        return [v.line() for v in self.verdicts]


# --------------------------------------------------------------------------------- measures
def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def repeated_ngram_share(tokens: list[str], n: int) -> float:
    """rep-n: the share of n-grams that repeat an earlier n-gram (0 = none, ~1 = a loop)."""
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def distinct_n(tokens: list[str], n: int = 2) -> float:
    """distinct-n: unique n-grams / all n-grams (1 = all different)."""
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    if not grams:
        return 1.0
    return len(set(grams)) / len(grams)


def find_html(text: str) -> list[str]:
    """The kinds of live HTML or script found in ``text`` (empty when clean)."""
    return [name for name, pattern in _HTML_PATTERNS if pattern.search(text)]


# ------------------------------------------------------------------------------------ rules
def assess(post: Post, candidate, settings: GateSettings, index, tokenizer,
           quality=None) -> Assessment:
    """Run every rule on ``post`` (which it leaves as it is, plain text, in every mode).

    ``candidate`` gives the mean log-prob; ``index`` is a ``MemorisationIndex`` or a ``Skipped``;
    ``quality`` (a ``QualityChecks``, optional) adds the calibrated ``fluency`` and ``topic`` rules.
    """
    from trainer.generation.memorisation import Skipped

    settings.validate()
    result = Assessment()
    figures = result.figures
    body_words = words(post.body)
    all_words = words(post.text or post.title + "\n" + post.body)  # the title once

    title_problem = post.title_problem
    indexed = index is not None and not isinstance(index, Skipped)
    if not title_problem and settings.new_title and indexed and index.has_title(post.title):
        title_problem = "the title of one of your posts"
    result.verdicts.append(Verdict("title", not title_problem, repr(post.title),
                                   "a first line that reads as a title, a blank line, a body",
                                   title_problem))
    min_words = quality.min_words(settings.min_words) if quality is not None else settings.min_words
    ending = post.gate.get("ending", "eos")
    figures["ending"] = ending
    if not ends_a_sentence(post.body):
        result.verdicts.append(Verdict("ending", False, f"{ending}, ends mid-sentence",
                                       "ends with . ! or ?"))
    elif ending == "trimmed":
        result.verdicts.append(Verdict("ending", len(body_words) >= min_words,
                                       f"trimmed to {len(body_words)} words",
                                       f">= {min_words} words after trimming"))
    else:
        result.verdicts.append(Verdict("ending", True, ending, "ends with . ! or ?"))

    figures["words"] = len(body_words)
    result.verdicts.append(Verdict("length", len(body_words) >= min_words,
                                   f"{len(body_words)} words", f">= {min_words} words"))

    rep = repeated_ngram_share(all_words, settings.rep_n)
    figures[f"rep{settings.rep_n}"] = round(rep, 4)
    result.verdicts.append(Verdict("repetition", rep <= settings.max_repeated,
                                   f"rep-{settings.rep_n} {rep:.3f}",
                                   f"<= {settings.max_repeated}"))

    distinct = distinct_n(all_words, 2)
    figures["distinct2"] = round(distinct, 4)
    result.verdicts.append(Verdict("diversity", distinct >= settings.min_distinct,
                                   f"distinct-2 {distinct:.3f}", f">= {settings.min_distinct}"))

    limit = f"< {settings.memorised_tokens} tokens shared"
    if isinstance(index, Skipped) or index is None:
        reason = index.reason if index is not None else "skipped: no index"
        if settings.require_corpus:
            result.verdicts.append(Verdict("memorised", False, reason.replace("skipped: ", ""),
                                           limit, "the gate requires the corpus (strict)"))
        else:
            result.verdicts.append(Verdict("memorised", True, reason, limit))
        figures["memorised"] = None
    else:
        ids = tokenizer.encode(post.text, add_special_tokens=False)
        run = index.longest_shared_run(ids)
        figures["memorised"] = run
        shown = f"longest shared run {run} tokens" if run else \
            f"no shared run of {index.window} tokens"
        result.verdicts.append(Verdict("memorised", run < settings.memorised_tokens, shown, limit,
                                       index.note))

    found = find_html(post.title + "\n" + post.body)
    figures["html"] = found
    if not found:
        result.verdicts.append(Verdict("html", True, "none", "no raw HTML or script links"))
    elif settings.html == "escape":  # the writers escape every post's text, this one's too
        result.verdicts.append(Verdict("html", True, ", ".join(found), "no raw HTML or script "
                                       "links", "escaped when written"))
    elif quality is not None and quality.html_is_the_blogs_style:
        result.verdicts.append(Verdict("html", True, ", ".join(found), "no raw HTML or script "
                                       "links", "your own posts show HTML too; escaped when written"))
    else:
        result.verdicts.append(Verdict("html", False, ", ".join(found),
                                       "no raw HTML or script links"))

    if quality is not None:  # fluency and topic: a trainer.generation.quality.QualityChecks
        result.verdicts.extend(quality.verdicts(post, figures))

    figures["mean_logprob"] = round(candidate.mean_logprob, 4)
    figures["passed"] = result.passed
    return result


def pick_best(assessed: list[tuple[Post, Assessment]]) -> Post | None:
    """The passing post that ended by itself (``ending`` "eos") over a trimmed one, then with the
    highest mean token log-prob (earliest on a tie), or None."""
    def rank(post: Post) -> tuple[bool, float]:
        return post.gate.get("ending", "eos") == "eos", post.gate["mean_logprob"]

    best = None
    for post, assessment in assessed:
        if assessment.passed and (best is None or rank(post) > rank(best)):
            best = post
    return best
