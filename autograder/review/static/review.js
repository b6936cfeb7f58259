// The review page's keys and clicks: grade one written question across the class.
// Every change is posted to /api/review and written into DIR by the server at once.
"use strict";
(function () {
  const main = document.querySelector("main[data-question]");
  if (!main) return;
  const question = main.dataset.question;
  const cards = Array.from(document.querySelectorAll("article.answer"));
  const progress = document.getElementById("progress");
  const message = document.getElementById("message");
  let current = 0;
  let queue = Promise.resolve();

  function xsrf() {
    const m = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function itemsOf(card) {
    return Array.from(card.querySelectorAll("input[data-item]")).filter((b) => b.checked).map((b) => b.dataset.item);
  }
  function commentOf(card) {
    return card.querySelector("textarea").value;
  }
  function change(card, items) {
    // the page is the truth for the next key: tick the boxes now, the server's answer confirms them
    const given = new Set(items);
    card.querySelectorAll("input[data-item]").forEach((b) => { b.checked = given.has(b.dataset.item); });
    return { student: card.dataset.student, sha: card.dataset.sha, items: items, comment: commentOf(card) };
  }
  function show(card, review) {
    card.classList.toggle("graded", review.graded);
    card.querySelector(".state").textContent = review.graded ? "graded" : "not graded";
    card.querySelector(".points").textContent = review.graded ? String(review.points) : "–";
    const given = new Set(review.items || []);
    card.querySelectorAll("input[data-item]").forEach((b) => { b.checked = given.has(b.dataset.item); });
  }
  function send(changes) {
    queue = queue.then(() =>
      fetch("/api/review", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-XSRFToken": xsrf() },
        body: JSON.stringify({ question: question, changes: changes }),
      })
        .then((r) => r.json().then((data) => ({ ok: r.ok, data: data })))
        .then(({ ok, data }) => {
          if (!ok) throw new Error(data.error || "the server refused the change");
          const byId = new Map(cards.map((c) => [c.dataset.student, c]));
          data.reviews.forEach((rev) => show(byId.get(rev.student), rev));
          progress.textContent = "graded " + data.done + " of " + data.total;
          progress.dataset.done = data.done;
          message.textContent = "";
          document.body.dataset.saved = String(Number(document.body.dataset.saved || 0) + 1);
        })
        .catch((err) => { message.textContent = "Not saved: " + err.message; })
    );
    return queue;
  }
  function targets() {
    const chosen = cards.filter((c) => c.querySelector("input.select").checked);
    return chosen.length ? chosen : [cards[current]];
  }
  function go(index) {
    if (!cards.length) return;
    current = Math.max(0, Math.min(cards.length - 1, index));
    cards.forEach((c, i) => c.classList.toggle("current", i === current));
    cards[current].focus({ preventScroll: true });
    cards[current].scrollIntoView({ block: "nearest" });
  }
  function toggle(key) {
    const chosen = targets();
    const all = chosen.every((c) => itemsOf(c).includes(key));
    send(chosen.map((c) => {
      const items = itemsOf(c).filter((k) => k !== key);
      if (!all) items.push(key);
      return change(c, items);
    }));
  }

  document.addEventListener("keydown", (event) => {
    const t = event.target;
    if (t.tagName === "TEXTAREA") {
      if (event.key === "Escape" || (event.key === "Enter" && (event.ctrlKey || event.metaKey))) {
        event.preventDefault();
        t.blur();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const card = cards[current];
    const key = event.key;
    if (key === "j" || key === "ArrowDown") go(current + 1);
    else if (key === "k" || key === "ArrowUp") go(current - 1);
    else if (key === "n") {
      const next = cards.findIndex((c, i) => i > current && !c.classList.contains("graded"));
      const first = cards.findIndex((c) => !c.classList.contains("graded"));
      go(next !== -1 ? next : first !== -1 ? first : current);
    } else if (/^[1-9]$/.test(key)) {
      const box = card && card.querySelectorAll("input[data-item]")[Number(key) - 1];
      if (box) toggle(box.dataset.item);
    } else if (key === "0") send(targets().map((c) => change(c, [])));
    else if (key === "f") send(targets().map((c) => change(c, Array.from(c.querySelectorAll("input[data-item]")).map((b) => b.dataset.item))));
    else if (key === "u") send(targets().map((c) => ({ student: c.dataset.student, sha: c.dataset.sha, clear: true })));
    else if (key === "x" && card) { const s = card.querySelector("input.select"); s.checked = !s.checked; }
    else if (key === "a") cards.forEach((c) => { c.querySelector("input.select").checked = !c.classList.contains("graded"); });
    else if (key === "Escape") cards.forEach((c) => { c.querySelector("input.select").checked = false; });
    else if (key === "c" && card) card.querySelector("textarea").focus();
    else if (key === "?") document.querySelectorAll("aside details")[1].open = true;
    else return;
    event.preventDefault();
  });
  cards.forEach((card, i) => {
    card.addEventListener("focusin", () => { current = i; cards.forEach((c, j) => c.classList.toggle("current", j === i)); });
    card.querySelectorAll("input[data-item]").forEach((box) =>
      box.addEventListener("change", () => send([change(card, itemsOf(card))])));
    const area = card.querySelector("textarea");
    let before = area.value;
    area.addEventListener("focus", () => { before = area.value; });
    area.addEventListener("blur", () => { if (area.value !== before) send([change(card, itemsOf(card))]); });
  });
  go(0);
})();
