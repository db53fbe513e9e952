/* "Write me a new post" (this-post-does-not-exist): the blog's own model writes a post in the
   reader's browser, with nothing sent anywhere. The model (ONNX, int8 weights), its vocabulary and
   onnxruntime-web's WebAssembly build sit beside this file on the site (`trainer export-web`, copied
   by the plugin); the box the plugin put on the page holds the sampling settings of the daily post.

   Each token is drawn the way trainer/generation/decoding.py draws it: repetition penalty,
   temperature, top-k, top-p, then a draw from a random generator seeded by the seed shown on the
   page (same seed, same browser: same post). The text is cut into title and body by post.js, with
   the rules of the daily post, and a draft its gate would turn down on its text (no title, cut off,
   too short, repetitive, HTML) is drawn again. Everything reaches the page through textContent:
   never as HTML. */
import * as ort from "./runtime/ort.wasm.min.mjs";
import { gateProblem, parsePost, trimToLastSentence } from "./post.js";

const HERE = new URL("./", import.meta.url);
const ATTEMPTS = 3; // a draft the daily post's rules turn down is drawn again, with the next seed
const MAX_SEED = 4294967295;

/* mulberry32: a small, well-known 32-bit generator; enough for drawing tokens. */
export function seeded(seed) {
  let state = seed >>> 0;
  return function () {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/* The seed of attempt `attempt` of a post with seed `seed` (attempt 0 is the seed itself). */
function attemptSeed(seed, attempt) {
  return attempt === 0 ? seed : (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + attempt * 0xc2b2ae35) >>> 0;
}

/* One token from `logits` (a Float32Array, changed in place): the rules of decoding.py. */
export function chooseToken(logits, seen, settings, random) {
  const penalty = settings.repetition_penalty;
  if (penalty !== 1) {
    for (const id of seen) {
      const value = logits[id];
      logits[id] = value > 0 ? value / penalty : value * penalty;
    }
  }
  if (settings.temperature === 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) { if (logits[i] > logits[best]) { best = i; } }
    return best;
  }
  const vocab = logits.length;
  const k = settings.top_k > 0 && settings.top_k < vocab ? settings.top_k : vocab;
  const ids = topK(logits, k);
  const values = ids.map((id) => logits[id] / settings.temperature);
  const probs = softmax(values);
  if (settings.top_p < 1) { // keep a token while the better ones hold less than top_p
    let before = 0;
    for (let i = 0; i < probs.length; i++) {
      if (before >= settings.top_p) { values[i] = -Infinity; }
      before += probs[i];
    }
  }
  const kept = softmax(values);
  let left = random();
  for (let i = 0; i < kept.length; i++) {
    left -= kept[i];
    if (left < 0) { return ids[i]; }
  }
  return ids[kept.findLastIndex((p) => p > 0)];
}

function topK(logits, k) { // the ids of the k largest logits, largest first
  if (k >= logits.length) {
    return Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  }
  const ids = [];
  for (let i = 0; i < logits.length; i++) {
    if (ids.length === k && logits[i] <= logits[ids[k - 1]]) { continue; }
    let at = ids.length === k ? k - 1 : ids.length;
    while (at > 0 && logits[ids[at - 1]] < logits[i]) { ids[at] = ids[at - 1]; at--; }
    ids[at] = i;
  }
  return ids;
}

function softmax(values) {
  const top = Math.max(...values);
  const exps = values.map((v) => (v === -Infinity ? 0 : Math.exp(v - top)));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/* The model, its vocabulary and session: loaded once per page. */
async function load(onProgress) {
  const manifest = await fetchJson(new URL("web.json", HERE));
  const vocab = await fetchJson(new URL(manifest.files.vocab, HERE));
  const model = await fetchBytes(new URL(manifest.files.model, HERE), manifest.size_bytes, onProgress);
  ort.env.wasm.wasmPaths = new URL(`${manifest.runtime.folder}/`, HERE).href;
  ort.env.wasm.numThreads = 1; // the same arithmetic in every run: the same seed gives the same post
  ort.env.logLevel = "error";
  const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
  const bytes = vocab.tokens.map((token) => Uint8Array.from(token, (ch) => ch.charCodeAt(0)));
  return { manifest, session, bytes, special: new Set(vocab.special) };
}

async function fetchJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) { throw new Error(`${url.pathname}: HTTP ${response.status}`); }
  return response.json();
}

async function fetchBytes(url, expected, onProgress) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok || !response.body) { throw new Error(`${url.pathname}: HTTP ${response.status}`); }
  const total = Number(response.headers.get("Content-Length")) || expected || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) { break; }
    chunks.push(value);
    received += value.length;
    onProgress(received, total);
  }
  const data = new Uint8Array(received);
  let at = 0;
  for (const chunk of chunks) { data.set(chunk, at); at += chunk.length; }
  return data;
}

/* One text from the model: tokens drawn until the end-of-post token, the length limit or stop. */
async function sample(machine, settings, seed, shouldStop, onText) {
  const { manifest, session, bytes, special } = machine;
  const cache = manifest.cache;
  const random = seeded(seed);
  const prompt = [manifest.eos_id, ...(settings.prefix_ids || [])];
  const budget = Math.min(settings.max_new_tokens, manifest.max_positions - prompt.length);
  const decoder = new TextDecoder("utf-8");
  const seen = new Set(prompt.filter((id) => id !== manifest.eos_id));
  let text = settings.prefix || "";
  let feed = prompt;
  let past = {};
  for (let layer = 0; layer < cache.layers; layer++) {
    for (const kv of ["key", "value"]) {
      past[`past.${layer}.${kv}`] = new ort.Tensor("float32", new Float32Array(0), [1, cache.kv_heads, 0, cache.head_dim]);
    }
  }
  let stop = budget > 0 ? "length" : "context";
  let generated = 0;
  const started = performance.now();
  for (let step = 0; step < budget; step++) {
    const ids = new ort.Tensor("int64", BigInt64Array.from(feed, (id) => BigInt(id)), [1, feed.length]);
    const out = await session.run({ input_ids: ids, ...past });
    const vocabSize = out.logits.dims[2];
    const logits = out.logits.data.slice((feed.length - 1) * vocabSize, feed.length * vocabSize);
    const token = chooseToken(logits, seen, settings, random);
    if (token === manifest.eos_id) { stop = "eos"; break; }
    generated++;
    seen.add(token);
    if (!special.has(token) && bytes[token]) { text += decoder.decode(bytes[token], { stream: true }); }
    past = {};
    for (const name of Object.keys(out)) {
      if (name.startsWith("present.")) { past[name.replace("present.", "past.")] = out[name]; }
    }
    feed = [token];
    onText(text, step + 1, (step + 1) / ((performance.now() - started) / 1000));
    if (shouldStop()) { stop = "stopped"; break; }
  }
  const seconds = (performance.now() - started) / 1000;
  return { text: text + decoder.decode(), stop, tokens: generated, seconds };
}

function setUp(box) {
  const part = (name) => box.querySelector(`.tpdne-write-${name}`);
  const fallback = part("fallback");
  const controls = part("controls");
  const seedInput = part("seed");
  const go = part("go");
  const stopButton = part("stop");
  const status = part("status");
  const post = part("post");
  const title = part("title");
  const body = part("body");
  if (typeof WebAssembly !== "object" || !window.fetch || location.protocol === "file:") {
    const why = part("why");
    if (why) {
      why.textContent = location.protocol === "file:"
        ? "It needs the site served over HTTP (this page was opened from a file)."
        : "This browser has no WebAssembly, which the model needs to run here.";
    }
    return;
  }
  let settings;
  try { settings = JSON.parse(box.getAttribute("data-settings")); } catch (error) { return; }
  fallback.hidden = true;
  controls.hidden = false;
  const say = (text) => { status.textContent = text; };
  let machine = null;
  let stopping = false;

  function show(text) { // the text as it grows: first line as the title, the rest as paragraphs
    const newline = text.indexOf("\n");
    title.textContent = newline < 0 ? text : text.slice(0, newline);
    paragraphs(newline < 0 ? "" : text.slice(newline + 1));
  }
  function paragraphs(text) {
    body.replaceChildren(...text.split(/\n{2,}/).filter((p) => p.trim()).map((p) => {
      const element = document.createElement("p");
      element.textContent = p.trim();
      return element;
    }));
  }

  stopButton.addEventListener("click", () => { stopping = true; stopButton.disabled = true; });
  go.addEventListener("click", async () => {
    let seed = Number(seedInput.value);
    if (seedInput.value.trim() === "" || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
      seed = crypto.getRandomValues(new Uint32Array(1))[0];
    }
    seedInput.value = String(seed);
    go.disabled = true;
    seedInput.disabled = true;
    stopping = false;
    box.dataset.state = "writing";
    try {
      if (!machine) {
        say("Loading the model…");
        machine = await load((received, total) => {
          say(total ? `Loading the model: ${(received / 1e6).toFixed(0)} of ${(total / 1e6).toFixed(0)} MB`
            : `Loading the model: ${(received / 1e6).toFixed(0)} MB`);
        });
      }
      post.hidden = false;
      stopButton.disabled = false;
      let result = null;
      let parsed = null;
      let problem = "";
      for (let attempt = 0; attempt < ATTEMPTS && !stopping; attempt++) {
        if (attempt > 0) { say(`The machine threw that draft away (${problem}): writing another…`); }
        result = await sample(machine, settings, attemptSeed(seed, attempt), () => stopping, (text, tokens, rate) => {
          show(text);
          say(`Writing… ${tokens} tokens, ${rate.toFixed(1)} tokens/s`);
        });
        parsed = parsePost(result.text);
        if (result.stop !== "eos") { parsed.body = trimToLastSentence(parsed.body); }
        problem = parsed.titleProblem ? `the first line is no title: ${parsed.titleProblem}` : gateProblem(parsed, settings.gate);
        if (!problem) { break; }
      }
      title.textContent = parsed.title;
      paragraphs(parsed.body);
      box.dataset.tokens = String(result.tokens); // for bench/browser_generate.py
      box.dataset.seconds = result.seconds.toFixed(3);
      const again = `Seed ${seed}: the same seed writes the same post in this browser.`;
      if (result.stop === "stopped") {
        box.dataset.state = "stopped";
        say(`Stopped after ${result.tokens} tokens. ${again}`);
      } else if (problem) {
        box.dataset.state = "rejected";
        say(`No draft passed the daily post's checks in ${ATTEMPTS} tries (the last: ${problem}); here is the last one. Try another seed.`);
      } else {
        box.dataset.state = "done";
        say(`Done. ${again}`);
      }
    } catch (error) {
      box.dataset.state = "failed";
      say(`The model could not run in this browser (${error && error.message ? error.message : error}).`);
    } finally {
      go.disabled = false;
      seedInput.disabled = false;
      stopButton.disabled = true;
    }
  });
}

for (const box of document.querySelectorAll(".tpdne-write")) { setUp(box); }
