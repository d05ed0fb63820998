// broadsheet's one script, a progressive enhancement: every page works without it.
// - Registers the service worker (/sw.js), which keeps opened pages readable offline.
// - Keyboard shortcuts on article lists: j/k next/previous, o (or Enter) open, m mark read or unread,
//   s bookmark, ? help. m and s need a signed-in reader; they use the JSON API with the page's CSRF token.
(() => {
  "use strict";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(() => { /* offline reading is a bonus, not a need */ });
  }

  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  const cards = () => Array.from(document.querySelectorAll("article.card[data-article]"));
  let current = -1;
  let status = null;
  let help = null;

  function say(message) {
    if (!status) {
      status = document.createElement("p");
      status.className = "key-status";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      document.body.appendChild(status);
    }
    status.textContent = message;
  }

  function select(index) {
    const all = cards();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, index));
    all.forEach((card, i) => card.classList.toggle("is-selected", i === current));
    const card = all[current];
    card.scrollIntoView({ block: "nearest" });
    const link = card.querySelector("h3 a");
    if (link) link.focus({ preventScroll: true });
  }

  function selected() {
    const all = cards();
    return current >= 0 && current < all.length ? all[current] : null;
  }

  async function call(method, path) {
    const answer = await fetch(path, {
      method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
    });
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status}`);
    return answer;
  }

  async function toggle(card, className, path, onWords, offWords) {
    if (!csrf) {
      say("Sign in to keep read marks and bookmarks.");
      return;
    }
    const on = !card.classList.contains(className);
    try {
      await call(on ? "PUT" : "DELETE", path);
      card.classList.toggle(className, on);
      say(on ? onWords : offWords);
    } catch (error) {
      say("That did not work; try again in a moment.");
    }
  }

  function showHelp() {
    if (!help) {
      help = document.createElement("dialog");
      help.className = "key-help";
      help.setAttribute("aria-labelledby", "key-help-h");
      const rows = [["j", "next article"], ["k", "previous article"], ["o or Enter", "open it"],
        ["m", "mark read or unread"], ["s", "bookmark or remove the bookmark"], ["?", "this help"],
        ["Esc", "close"]];
      const heading = document.createElement("h2");
      heading.id = "key-help-h";
      heading.textContent = "Keyboard shortcuts";
      const list = document.createElement("dl");
      for (const [key, words] of rows) {
        const term = document.createElement("dt");
        const kbd = document.createElement("kbd");
        kbd.textContent = key;
        term.appendChild(kbd);
        const what = document.createElement("dd");
        what.textContent = words;
        list.append(term, what);
      }
      const close = document.createElement("button");
      close.type = "button";
      close.textContent = "Close";
      close.addEventListener("click", () => help.close());
      help.append(heading, list, close);
      document.body.appendChild(help);
    }
    if (!help.open) help.showModal();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    if (help && help.open) return;  // the dialog has the keyboard (Esc closes it)
    const card = selected();
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current < 0 ? 0 : current - 1); break;
      case "o":
      case "Enter": {
        if (!card) return;
        const link = card.querySelector("h3 a");
        if (link) window.location.assign(link.href);
        break;
      }
      case "m":
        if (!card) return;
        toggle(card, "is-read", `/api/v1/me/read/${card.dataset.article}`, "Marked read.", "Marked unread.");
        break;
      case "s":
        if (!card) return;
        toggle(card, "is-bookmarked", `/api/v1/me/bookmarks/${card.dataset.article}`, "Bookmarked.",
          "Bookmark removed.");
        break;
      case "?": showHelp(); break;
      default: return;
    }
    event.preventDefault();
  });

  // A signed-in reader's list shows what they read and kept (one request for the page's articles).
  const ids = cards().map((card) => card.dataset.article);
  if (csrf && ids.length) {
    fetch(`/api/v1/me/states?ids=${ids.slice(0, 200).join(",")}`, { credentials: "same-origin" })
      .then((answer) => (answer.ok ? answer.json() : { read: [], bookmarked: [] }))
      .then((states) => {
        const read = new Set(states.read.map(String));
        const kept = new Set(states.bookmarked.map(String));
        for (const card of cards()) {
          card.classList.toggle("is-read", read.has(card.dataset.article));
          card.classList.toggle("is-bookmarked", kept.has(card.dataset.article));
        }
      })
      .catch(() => {});
  }
})();
