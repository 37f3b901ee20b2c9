/* The live preview beside a post's Markdown body (issue 7): while the editor
   types, the body is posted (debounced, a newer request aborting the older
   one) to the admin's preview endpoint (blog/preview.py), which renders it
   through the site's own pipeline and answers sanitised HTML, the table of
   contents and the reading time as JSON. Side by side with the body on wide
   screens, below it on narrow ones (css/admin.css).
   A static file, not an inline script: the admin runs under the
   Content-Security-Policy (issue 9). Texts come translated from the server,
   in the body field's data-preview-* attributes. */
(function () {
  "use strict";
  var DELAY = 400;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function csrfToken(form) {
    var field = form.querySelector("[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function build(body) {
    var texts = body.dataset;
    var layout = element("div", "dateline-live");
    body.parentNode.insertBefore(layout, body);
    layout.appendChild(body);

    var pane = element("section", "dateline-preview-pane");
    pane.id = "dateline-live-preview";
    pane.setAttribute("aria-labelledby", "dateline-live-preview-heading");
    // The pane scrolls on its own: keyboard users reach it with Tab.
    pane.tabIndex = 0;
    var heading = element("h2", "dateline-preview-heading", texts.previewTitle);
    heading.id = "dateline-live-preview-heading";
    var status = element("p", "dateline-preview-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var toc = element("nav", "dateline-preview-toc");
    toc.setAttribute("aria-label", texts.previewToc);
    toc.hidden = true;
    var article = element("div", "dateline-preview-body");
    pane.appendChild(heading);
    pane.appendChild(status);
    pane.appendChild(toc);
    pane.appendChild(article);
    layout.appendChild(pane);
    body.setAttribute("aria-controls", pane.id);
    return { pane: pane, status: status, toc: toc, article: article };
  }

  function showToc(toc, title, entries) {
    toc.textContent = "";
    toc.hidden = entries.length === 0;
    if (!entries.length) return;
    toc.appendChild(element("p", "dateline-preview-toc-title", title));
    var list = element("ul");
    entries.forEach(function (entry) {
      var item = element("li", "level-" + entry.level);
      // Text, not HTML: a heading's title is shown as written.
      item.appendChild(element("span", null, entry.title));
      list.appendChild(item);
    });
    toc.appendChild(list);
  }

  function live(form, body) {
    var texts = body.dataset;
    var view = build(body);
    var timer = null;
    var running = null;
    var shown = null;

    function fail(message) {
      view.pane.classList.add("dateline-preview-refused");
      view.status.textContent = message;
    }

    function show(result) {
      if (result.error) {
        fail(result.error);
        return;
      }
      view.pane.classList.remove("dateline-preview-refused");
      // Sanitised by the server's pipeline (blog/markup.py), as on the site.
      view.article.innerHTML = result.html;
      showToc(view.toc, texts.previewToc, result.toc || []);
      view.status.textContent = result.word_count ? result.reading_time : texts.previewEmpty;
    }

    function refresh() {
      var text = body.value;
      if (text === shown) return;
      if (running) running.abort();
      var controller = new AbortController();
      running = controller;
      view.pane.setAttribute("aria-busy", "true");
      fetch(texts.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual", // an expired session: a failure here, not the login page
        headers: {
          "X-CSRFToken": csrfToken(form),
          "X-Requested-With": "XMLHttpRequest",
          Accept: "application/json",
        },
        body: new URLSearchParams({ body: text }),
        signal: controller.signal,
      })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (!response.ok || type.indexOf("application/json") !== 0) {
            throw new Error("preview unavailable");
          }
          return response.json();
        })
        .then(function (result) {
          shown = text;
          show(result);
        })
        .catch(function (error) {
          if (error.name === "AbortError") return;
          fail(texts.previewFailed);
        })
        .finally(function () {
          if (running === controller) {
            running = null;
            view.pane.removeAttribute("aria-busy");
          }
        });
    }

    body.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, DELAY);
    });
    // Text restored by js/draft-keeper.js arrives without an input event.
    document.addEventListener("click", function (event) {
      if (event.target.closest(".dateline-draft-restore")) {
        clearTimeout(timer);
        timer = setTimeout(refresh, 0);
      }
    });
    if (body.value.trim()) refresh();
    else view.status.textContent = texts.previewEmpty;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("post_form");
    if (!form) return;
    var body = form.querySelector("textarea[name=body][data-preview-url]");
    if (body && !body.disabled && window.fetch && window.AbortController) live(form, body);
  });
})();
