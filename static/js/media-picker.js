/* Insert a picture from the media library at the cursor in a post's body
   (issue 7). A button under the body opens a dialog listing the library
   (the staff-only JSON at the body's data-media-picker URL, searched and
   paginated); choosing a picture inserts ![alt](media:ID) where the cursor
   was, on its own paragraph so the article shows it as a figure. A static
   file, not an inline script: the admin runs under the Content-Security-
   Policy. Texts come translated from the server in data-media-* attributes;
   library data is written with textContent, never as HTML. */
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text) node.textContent = text;
    return node;
  }

  // The Markdown, with blank lines around it unless already there.
  function insertAt(textarea, start, end, markdown) {
    var before = textarea.value.slice(0, start);
    var after = textarea.value.slice(end);
    var lead = "";
    if (before.length && !/\n\n$/.test(before)) lead = /\n$/.test(before) ? "\n" : "\n\n";
    var tail = "";
    if (!after.length || !/^\n\n/.test(after)) tail = /^\n/.test(after) ? "\n" : "\n\n";
    var inserted = lead + markdown + tail;
    textarea.value = before + inserted + after;
    var cursor = before.length + inserted.length;
    textarea.focus();
    textarea.setSelectionRange(cursor, cursor);
    // Others listening (draft keeper, live preview) see the change.
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function setUp(textarea) {
    var data = textarea.dataset;
    var url = data.mediaPicker;
    if (!url || typeof HTMLDialogElement === "undefined") return;
    var selection = { start: 0, end: 0 };
    var state = { page: 1, q: "" };

    var open = el("button", { type: "button", class: "button dateline-picker-open" }, data.mediaOpen);
    var dialog = el("dialog", { class: "dateline-picker", "aria-label": data.mediaTitle });
    var bar = el("div", { class: "dateline-picker-bar" });
    var heading = el("h2", {}, data.mediaTitle);
    var search = el("input", { type: "search", placeholder: data.mediaSearch, "aria-label": data.mediaSearch });
    var close = el("button", { type: "button", class: "button" }, data.mediaClose);
    bar.append(search, close);
    var grid = el("ul", { class: "dateline-picker-grid" });
    var status = el("p", { class: "dateline-picker-status", role: "status" });
    var pages = el("div", { class: "dateline-picker-pages" });
    var previous = el("button", { type: "button", class: "button" }, data.mediaPrevious);
    var next = el("button", { type: "button", class: "button" }, data.mediaNext);
    var pageLabel = el("span");
    pages.append(previous, pageLabel, next);
    dialog.append(heading, bar, status, grid, pages);
    // Below the field (the admin lays label and textarea out in a row).
    var row = el("div", { class: "dateline-picker-row" });
    row.append(open);
    (textarea.closest(".flex-container") || textarea).insertAdjacentElement("afterend", row);
    document.body.append(dialog);

    function choose(item) {
      insertAt(textarea, selection.start, selection.end, item.markdown);
      dialog.close();
    }

    function show(answer) {
      grid.replaceChildren();
      status.textContent = answer.results.length ? "" : data.mediaEmpty;
      answer.results.forEach(function (item) {
        var li = el("li");
        var button = el("button", {
          type: "button",
          class: "dateline-picker-item",
          "data-media-id": String(item.id),
        });
        if (item.thumbnail) {
          button.append(el("img", { src: item.thumbnail, alt: "", loading: "lazy" }));
        }
        button.append(el("span", {}, item.alt));
        if (item.credit) button.append(el("span", {}, item.credit));
        button.addEventListener("click", function () {
          choose(item);
        });
        li.append(button);
        grid.append(li);
      });
      pageLabel.textContent = answer.pages > 1 ? answer.page + " / " + answer.pages : "";
      previous.disabled = !answer.has_previous;
      next.disabled = !answer.has_next;
      state.page = answer.page;
    }

    function load() {
      var query = new URLSearchParams({ q: state.q, page: String(state.page) });
      fetch(url + "?" + query.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(show)
        .catch(function () {
          grid.replaceChildren();
          status.textContent = data.mediaFailed;
        });
    }

    var timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        state.q = search.value;
        state.page = 1;
        load();
      }, 250);
    });
    previous.addEventListener("click", function () {
      state.page -= 1;
      load();
    });
    next.addEventListener("click", function () {
      state.page += 1;
      load();
    });
    close.addEventListener("click", function () {
      dialog.close();
    });
    open.addEventListener("click", function () {
      // Where the cursor was when the editor asked for a picture.
      selection.start = textarea.selectionStart;
      selection.end = textarea.selectionEnd;
      dialog.showModal();
      search.focus();
      load();
    });
  }

  function start() {
    var bodies = document.querySelectorAll("textarea[data-media-picker]");
    for (var i = 0; i < bodies.length; i++) setUp(bodies[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
