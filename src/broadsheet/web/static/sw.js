// broadsheet's service worker, served as /sw.js (scope: the whole site). The server writes this build's
// version in place of __VERSION__, so a new build is a new worker: it installs beside the old one, takes over,
// and deletes the old one's files.
//
// - The site's own files (style, script, icons, the offline page, the home page) are kept per version.
// - Pages are asked of the network first; the home page and every article and story page the reader opened
//   are kept (the latest 100), so they open again offline. A page never opened, offline, gets the offline page.
// - Everything else (the JSON API, reader-app APIs, forms, the admin pages, images from elsewhere) goes to the
//   network untouched.
"use strict";

const VERSION = "__VERSION__";
const SHELL = `broadsheet-shell-${VERSION}`;
const PAGES = "broadsheet-pages";
const KEPT_PAGES = 100;
const OFFLINE = "/offline";
const SHELL_FILES = ["/", OFFLINE, "/static/style.css", "/static/app.js", "/static/icon-192.png",
  "/static/icon-512.png", "/manifest.webmanifest"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL)
      .then((cache) => cache.addAll(SHELL_FILES.map((path) => new Request(path, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names
        .filter((name) => name.startsWith("broadsheet-shell-") && name !== SHELL)
        .map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

function keptPage(url) {
  return url.pathname === "/" || url.pathname.startsWith("/articles/") || url.pathname.startsWith("/stories/");
}

async function remember(request, response) {
  const cache = await caches.open(PAGES);
  await cache.put(request, response);
  const keys = await cache.keys();
  for (const old of keys.slice(0, Math.max(0, keys.length - KEPT_PAGES))) {
    await cache.delete(old);
  }
}

async function page(request) {
  const url = new URL(request.url);
  try {
    const response = await fetch(request);
    if (response.ok && keptPage(url)) {
      await remember(url.pathname + url.search, response.clone());
    }
    return response;
  } catch (offline) {
    const kept = (await caches.match(url.pathname + url.search, { cacheName: PAGES }))
      || (url.pathname === "/" ? await caches.match("/", { cacheName: SHELL }) : undefined);
    return kept || (await caches.match(OFFLINE, { cacheName: SHELL })) || Response.error();
  }
}

async function shellFile(request) {
  const kept = await caches.match(request, { cacheName: SHELL });
  return kept || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  // The admin pages sign in with HTTP authentication, whose prompt belongs to the browser: left alone.
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/admin")) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(page(request));
  } else if (SHELL_FILES.includes(url.pathname) && !url.search) {
    event.respondWith(shellFile(request));
  }
});
