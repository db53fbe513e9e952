"""Hostile "sampled" texts and a stub sampler that publishes them (issue 7, item 5).

``HostileSampler`` stands in for ``trainer.generation.sampler.Sampler``: its raw texts go through the
trainer's own ``trainer.generation.post.parse_post`` (title from the first line, as for a real sample); a few
posts are built directly with titles that hold line breaks.
"""
from __future__ import annotations

from types import SimpleNamespace

from reliability_harness import FULL

# 1 MB of one character (the figure) in the full variant; 100 KB in the fast one.
HUGE = 1_000_000 if FULL else 100_000

HOSTILE_TEXTS = [
    "<script>alert('title')</script>\n\n<script>alert(1)</script> and <SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "Images that speak\n\n<img src=x onerror=alert(1)> <svg onload=alert(2)> <body onload=alert(3)>\n\n"
    "<iframe src=\"javascript:alert(4)\"></iframe> <details open ontoggle=alert(5)>",
    "Links to nowhere\n\n[click](javascript:alert(1)) [c2](JaVaScRiPt:alert(2)) [c3](java\tscript:alert(3))\n\n"
    "![pic](javascript:alert(4)) [d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)\n\n"
    "<a href=\"javascript:alert(5)\">a</a> <a href=\"&#106;avascript:alert(6)\">b</a> "
    "[v](vbscript:msgbox(1)) <javascript:alert(7)> [e](&#x6A;avascript&colon;alert(8))",
    "Raw blocks\n\n<div markdown=\"1\">\n*inside* <script>alert(1)</script>\n</div>\n\n"
    "<!-- a comment --><style>body{background:url(javascript:alert(2))}</style>\n\n"
    "<![CDATA[<script>alert(3)</script>]]>\n\n<object data=\"data:text/html,<script>alert(4)</script>\">",
    "Attribute lists\n\nA paragraph.\n{: onclick=\"alert(1)\" }\n\n# Heading {#id onmouseover=alert(2)}\n\n"
    "[link](http://example.com){: onfocus=alert(3) autofocus }\n\n[ref]\n\n[ref]: javascript:alert(4)",
    "Status: draft\nSave_as: ../../index.html\nTemplate: ../../../etc/passwd\nSlug: ../../escape\n"
    "URL: javascript:alert(1)\nDate: 1999-01-01\nGenerated: false\n\n"
    "Status: hidden\nSave_as: ../../../pwned.html\nTitle: <script>alert(1)</script>\nLang: xx\n\nBody text.",
    "Template: {{ 7 * 7 }}\n\n{% include '/etc/passwd' %} {{ config }} ${7*7} <%= 7*7 %>",
    "Quiet title\n\n" + "A" * HUGE,
    "Angles\n\n" + "<" * (HUGE // 5) + " " + "[" * 2000 + "](javascript:alert(1))",
    "Controls \x1b[2J\x00\u202e\n\nbody with \x00 nul and \x07 bell and \u2028 separators\u2029 and \x85.",
]
# Posts built directly (not from a sampled text): titles with line breaks that try to add headers.
DIRECT_POSTS = [
    ("A title\nSave_as: ../../index.html\nStatus: draft", "Body one.\n\nStatus: draft"),
    ("Title\r\nTemplate: evil\rSlug: ../../x\u2028Category: Evil", "Body two."),
    ("\"><script>alert(1)</script><a x=\"", "' onmouseover='alert(2)' x='"),
]
class HostileSampler:
    """Gives the i-th hostile post on its i-th call (parsed by the trainer like a real sample)."""

    identity = {"path": "/stub", "name": "hostile", "weights_sha256": "f" * 64}

    def __init__(self):
        from trainer.generation.post import Post, parse_post

        self.posts = [parse_post(text) for text in HOSTILE_TEXTS]
        self.posts += [Post(title=title, body=body) for title, body in DIRECT_POSTS]
        self.calls = 0

    def best_post(self, seed, settings=None, gate=None, candidates=4, rounds=3):
        post = self.posts[self.calls % len(self.posts)]
        self.calls += 1
        post.seed, post.model = seed, dict(self.identity)
        post.settings, post.gate = {"temperature": 0.9}, {"mean_logprob": -1.5}
        return SimpleNamespace(post=post, report=["stub: accepted"])
