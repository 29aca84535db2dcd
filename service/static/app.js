// Demo page: POST /v1/tag, entities highlighted per label (displaCy colours), tags on hover.
"use strict";

const COLORS = {
  PER: "#aa9cfc", PERSON: "#aa9cfc", ORG: "#7aecec", LOC: "#feca74", GPE: "#feca74",
  MISC: "#bfeeb7", NORP: "#c887fb", FAC: "#9cc9cc", EVENT: "#ffeb80", DATE: "#bfe1d9",
  PRODUCT: "#bfeeb7", WORK_OF_ART: "#f0d0ff", LAW: "#ff8197", LANGUAGE: "#ff8197",
};
const TASK_NAMES = { ner: "NER", pos: "POS", chunk: "Chunk", upos: "UPOS", xpos: "XPOS" };
const KEY_STORE = "tagger-demo-api-key";

const $ = (id) => document.getElementById(id);

function colorFor(label) {
  if (COLORS[label]) return COLORS[label];
  let h = 0;
  for (const c of label) h = (h * 31 + c.codePointAt(0)) % 360;
  return `hsl(${h}, 70%, 80%)`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "style") node.style.cssText = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h["X-API-Key"] = key;
  return h;
}

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    return body.detail.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ");
  } catch {
    return response.statusText;
  }
}

async function loadTasks() {
  const response = await fetch("/v1/models", { headers: headers() });
  const box = $("tasks");
  box.replaceChildren();
  if (!response.ok) return;
  const { models } = await response.json();
  for (const model of models) {
    for (const task of model.tasks) {
      const input = el("input", { type: "checkbox", value: task, name: "task" });
      input.checked = true;
      box.append(el("label", { title: `${model.name} ${model.version}` }, input,
        ` ${TASK_NAMES[task] || task}`));
    }
  }
}

function selectedTasks() {
  const boxes = [...document.querySelectorAll("#tasks input[name=task]")];
  if (!boxes.length) return undefined;
  return boxes.filter((b) => b.checked).map((b) => b.value);
}

function tokenTitle(token) {
  const lines = [];
  for (const [task, score] of Object.entries(token.confidence)) {
    lines.push(`${TASK_NAMES[task] || task}: ${token[task]} (${(score * 100).toFixed(0)}%)`);
  }
  return `${token.text}\n${lines.join("\n")}`;
}

function renderDocument(doc, labels) {
  const box = el("div", { class: "doc" });
  if (!doc.sentences.length) {
    box.append(el("span", { class: "empty" }, "(no text to tag)"));
    return box;
  }
  const starts = new Map(doc.entities.map((e) => [e.start, e]));
  let cursor = 0;
  let parent = box;
  let open = null;
  for (const sentence of doc.sentences) {
    for (const token of sentence.tokens) {
      if (token.start > cursor) parent.append(doc.text.slice(cursor, token.start));
      if (!open && starts.has(token.start)) {
        open = starts.get(token.start);
        labels.add(open.label);
        parent = el("mark", {
          class: "entity", "data-label": open.label, style: `--ent: ${colorFor(open.label)}`,
          title: `${open.label} (${(open.score * 100).toFixed(0)}%)`,
        });
        box.append(parent);
      }
      const span = el("span", { class: "token", title: tokenTitle(token) }, token.text);
      for (const task of Object.keys(token.confidence)) span.dataset[task] = token[task];
      parent.append(span);
      cursor = token.end;
      if (open && token.end >= open.end) {
        parent.append(el("span", { class: "entity-label" }, open.label));
        parent = box;
        open = null;
      }
    }
  }
  if (cursor < doc.text.length) box.append(doc.text.slice(cursor));
  return box;
}

function renderTable(body) {
  const tokens = body.documents.flatMap((d) => d.sentences.flatMap((s) => s.tokens));
  if (!tokens.length) return null;
  const tasks = Object.keys(tokens[0].confidence);
  const head = el("tr", {}, el("th", {}, "token"), ...tasks.map((t) => el("th", {}, TASK_NAMES[t] || t)));
  const rows = tokens.map((t) => el("tr", {}, el("td", {}, t.text), ...tasks.map((k) => el("td", {}, t[k]))));
  return el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows));
}

function renderLegend(labels) {
  const legend = $("legend");
  legend.replaceChildren(...[...labels].sort().map((label) =>
    el("span", { class: "swatch", style: `background: ${colorFor(label)}` }, label)));
}

async function tag(event) {
  event?.preventDefault();
  const button = $("tag-button");
  const payload = { text: $("text").value };
  const tasks = selectedTasks();
  if (tasks && tasks.length) payload.tasks = tasks;
  button.disabled = true;
  setStatus("Tagging…");
  const started = performance.now();
  try {
    const response = await fetch("/v1/tag", {
      method: "POST", headers: headers(), body: JSON.stringify(payload),
    });
    if (!response.ok) {
      setStatus(`Error ${response.status}: ${await errorText(response)}`, true);
      return;
    }
    const body = await response.json();
    const labels = new Set();
    $("result").replaceChildren(...body.documents.map((d) => renderDocument(d, labels)));
    renderLegend(labels);
    const table = renderTable(body);
    $("table-box").hidden = !table;
    $("table-wrap").replaceChildren(...(table ? [table] : []));
    const n = body.documents.reduce((a, d) => a + d.sentences.reduce((b, s) => b + s.tokens.length, 0), 0);
    const names = (body.models || [body.model]).map((m) => `${m.name} ${m.version}`).join(" + ");
    setStatus(`${n} tokens, ${labels.size ? [...labels].length + " entity types" : "no entities"} · ` +
      `${names} · ${(performance.now() - started).toFixed(0)} ms`);
  } catch (error) {
    setStatus(`Request failed: ${error}`, true);
  } finally {
    button.disabled = false;
  }
}

function init() {
  const keyInput = $("api-key");
  keyInput.value = localStorage.getItem(KEY_STORE) || "";
  keyInput.addEventListener("change", () => {
    localStorage.setItem(KEY_STORE, keyInput.value.trim());
    loadTasks();
  });
  $("tag-form").addEventListener("submit", tag);
  $("text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) tag(e);
  });
  loadTasks().catch(() => {});
}

init();
