/* A sampled text as a post: the same rules as trainer/generation/post.py (parse_post,
   trim_to_last_sentence, title_problem) and common/text_rules.py, so a post written in the reader's
   browser is cut into title and body exactly as the daily post is; and the text rules of the daily
   post's gate (trainer/generation/gate.py: ending, length, repetition, diversity, HTML).
   tests/theme/test_write_browser.py checks that both give the same results on the same texts.
   Plain text in, plain text out. */

const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/gu;
const SENTENCE_END = /(?:[.!?]["'”’)\]]*|(?<=\s)[:;=]-?[)D])(?=\s|$)/gu;
const ENDS_A_SENTENCE = new RegExp(`(?:${SENTENCE_END.source})$`, "u");
const WORD = /[\p{L}\p{N}_]+/gu;
export const MAX_TITLE_CHARS = 100;
export const MAX_TITLE_WORDS = 16;
const DANGLING_MARKS = [",", ";", ":", "-", "(", "—", "–", "/", "&", "…", "..."];
const DANGLING_WORDS = new Set("a an the and or but nor of into onto than my your our their his her its".split(" "));
const IDIOMS = new Set(["sort of", "kind of"]);
const TITLE_QUOTES = "\"'“”‘’`*_";

function removeControls(text) {
  text = text.replace(/\r\n/g, "\n").replace(/\r/g, "\n");
  return text.replace(CONTROL, (ch) => (ch === "\x0b" || ch === "\x0c" ? " " : ""));
}

function stripChars(text, chars) {
  let start = 0;
  let end = text.length;
  while (start < end && chars.includes(text[start])) { start++; }
  while (end > start && chars.includes(text[end - 1])) { end--; }
  return text.slice(start, end);
}

export function normaliseBody(text) {
  text = removeControls(text);
  text = text.split("\n").map((line) => line.trimEnd()).join("\n");
  return stripChars(text, "\n").replace(/\n{3,}/g, "\n\n");
}

export function cleanTitle(line) {
  let title = line.trim().replace(/^#{1,6}\s*/u, "").replace(/\s*#+$/u, "");
  title = stripChars(title.trim(), TITLE_QUOTES).trim();
  return title.replace(/\s+/gu, " ");
}

const isLetter = (ch) => /\p{L}/u.test(ch);
const isLower = (ch) => ch.toLowerCase() === ch && ch.toUpperCase() !== ch;

export function titleProblem(title) {
  if (!title) { return "empty"; }
  const chars = Array.from(title);
  const letters = chars.filter(isLetter).length;
  if (letters === 0) { return "no letters"; }
  if (letters * 2 < Array.from(title.replace(/ /g, "")).length) { return "mostly punctuation"; }
  const words = title.match(/\S*[\p{L}\p{N}_]\S*/gu) || [];
  if (chars.length > MAX_TITLE_CHARS || words.length > MAX_TITLE_WORDS) {
    return `too long (over ${MAX_TITLE_CHARS} characters or ${MAX_TITLE_WORDS} words)`;
  }
  if (isLower(chars[0])) { return "starts lower-case"; }
  const parts = title.split(/\s+/u);
  const last = parts[parts.length - 1];
  let dangling = DANGLING_WORDS.has(last.toLowerCase()) && last !== "A";
  dangling = dangling && !IDIOMS.has(parts.slice(-2).join(" ").toLowerCase());
  if (DANGLING_MARKS.some((mark) => title.endsWith(mark)) || (parts.length > 1 && dangling)) {
    return "ends mid-phrase";
  }
  return "";
}

export function endsASentence(text) {
  return ENDS_A_SENTENCE.test(text.trimEnd());
}

export function trimToLastSentence(body) {
  body = normaliseBody(body);
  const at = body.lastIndexOf("\n\n");
  if (at >= 0 && endsASentence(body.slice(0, at))) { return withoutDanglingHeadings(body.slice(0, at).trimEnd()); }
  let end = 0;
  for (const match of body.matchAll(SENTENCE_END)) { end = match.index + match[0].length; }
  return withoutDanglingHeadings(body.slice(0, end).trimEnd());
}

export function isHeadingLine(paragraph) {
  const line = paragraph.trim();
  const short = !line.includes("\n") && (line.match(/\S*[\p{L}\p{N}_]\S*/gu) || []).length <= MAX_TITLE_WORDS;
  return Boolean(line) && short && (line.endsWith("?") || !endsASentence(line));
}

export function withoutDanglingHeadings(body) {
  const paragraphs = body.split("\n\n");
  while (paragraphs.length > 1 && isHeadingLine(paragraphs[paragraphs.length - 1])) { paragraphs.pop(); }
  const kept = paragraphs.join("\n\n").trimEnd();
  return endsASentence(kept) ? kept : body;
}

function sameWords(a, b) {
  const plain = (line) => (line.toLowerCase().match(WORD) || []).join(" ");
  return plain(a) !== "" && plain(a) === plain(b);
}

/* {title, body, titleProblem} of a sampled text: the first line is the title, always. */
export function parsePost(text) {
  text = normaliseBody(text);
  const newline = text.indexOf("\n");
  const first = newline < 0 ? text : text.slice(0, newline);
  let rest = newline < 0 ? "" : text.slice(newline + 1);
  const title = cleanTitle(first);
  let problem = titleProblem(title);
  const underline = rest.match(/^[=-]{3,}[ \t]*(\n|$)/);
  if (underline) {
    rest = rest.slice(underline[0].length);
  } else if (rest && !rest.startsWith("\n")) {
    problem = problem || "no blank line after it";
  }
  let body = normaliseBody(rest);
  const cut = body.indexOf("\n");
  const repeat = cut < 0 ? body : body.slice(0, cut);
  if (sameWords(cleanTitle(repeat), title)) { body = normaliseBody(cut < 0 ? "" : body.slice(cut + 1)); }
  if (!body) { problem = problem || "empty body"; }
  return { title, body, titleProblem: problem, text };
}

const GATE_WORD = /[\p{L}\p{N}_]+(?:['’][\p{L}\p{N}_]+)*/gu;
const HTML_PATTERNS = [
  ["script", /<\s*\/?\s*script\b/i],
  ["event handler", /\bon[a-z]{3,}\s*=/i],
  ["script link", /\b(?:java\s*script|vb\s*script)\s*:|\bdata\s*:\s*[a-z]+\/[\w.+-]+[;,]/i],
  ["html tag", /<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?\/?>|<!--|<![a-zA-Z[]|<\?/],
];

export function words(text) { return text.toLowerCase().match(GATE_WORD) || []; }

function grams(tokens, n) {
  const found = [];
  for (let i = 0; i + n <= tokens.length; i++) { found.push(tokens.slice(i, i + n).join("\u0000")); }
  return found;
}

/* rep-n: the share of n-grams that repeat an earlier one (gate.repeated_ngram_share). */
export function repeatedShare(tokens, n) {
  const all = grams(tokens, n);
  return all.length ? 1 - new Set(all).size / all.length : 0;
}

/* distinct-n: unique n-grams / all n-grams (gate.distinct_n). */
export function distinctShare(tokens, n = 2) {
  const all = grams(tokens, n);
  return all.length ? new Set(all).size / all.length : 1;
}

export function findHtml(text) {
  return HTML_PATTERNS.filter(([, pattern]) => pattern.test(text)).map(([name]) => name);
}

/* Why the daily post's gate would turn `post` down on its text alone ("" when it would not): its
   ending, length, repetition, diversity and HTML rules, with the limits in `gate`. */
export function gateProblem(post, gate) {
  if (!gate) { return ""; }
  const bodyWords = words(post.body);
  const allWords = words(post.text || `${post.title}\n${post.body}`);
  if (!endsASentence(post.body)) { return "it ends mid-sentence"; }
  if (bodyWords.length < gate.min_words) { return `${bodyWords.length} words, fewer than ${gate.min_words}`; }
  if (repeatedShare(allWords, gate.rep_n) > gate.max_repeated) { return "it repeats itself"; }
  if (distinctShare(allWords, 2) < gate.min_distinct) { return "too few different words"; }
  const html = findHtml(`${post.title}\n${post.body}`);
  if (html.length && gate.html !== "escape") { return `it holds HTML (${html.join(", ")})`; }
  return "";
}
