/* Keeps what an editor types in a post's title, summary and body in this
   browser (localStorage), so an expired session or a crash loses nothing: the
   next visit to the same form offers it back; a successful save clears it
   (issue 7). A static file, not an inline script: the admin runs under the
   Content-Security-Policy (issue 9). Texts come translated from the server,
   in the body field's data-draft-* attributes. */
(function () {
  "use strict";
  var PREFIX = "dateline:draft:";
  var PENDING = PREFIX + "pending";
  var FIELDS = ["title", "summary", "body"];

  function storage() {
    try {
      return window.localStorage;
    } catch (error) {
      return null; // storage disabled: the form works as before
    }
  }

  function read(store, key) {
    try {
      return JSON.parse(store.getItem(key));
    } catch (error) {
      return null;
    }
  }

  // A successful save shows a success message linking to the post's change
  // form: the copy kept while it was being saved is no longer needed.
  function clearSaved(store) {
    var pending = store.getItem(PENDING);
    if (!pending) return;
    var links = document.querySelectorAll(".messagelist .success a[href]");
    for (var i = 0; i < links.length; i++) {
      var path = new URL(links[i].href, location.href).pathname;
      var adding = /\/add\/$/.test(pending) && /\/\d+\/change\/$/.test(path);
      if (path === pending || adding) {
        store.removeItem(PREFIX + pending);
        store.removeItem(PENDING);
        return;
      }
    }
  }

  function inputs(form) {
    var found = {};
    FIELDS.forEach(function (name) {
      var field = form.querySelector("[name=" + name + "]");
      if (field) found[name] = field;
    });
    return found;
  }

  function offer(store, key, fields, kept, texts) {
    var list = document.createElement("ul");
    list.className = "messagelist dateline-draft-offer";
    var item = document.createElement("li");
    item.className = "warning";
    var when = new Date(kept.savedAt).toLocaleString(document.documentElement.lang);
    item.appendChild(document.createTextNode(texts.offer.replace("%(time)s", when) + " "));
    var restore = document.createElement("button");
    restore.type = "button";
    restore.className = "button dateline-draft-restore";
    restore.textContent = texts.restore;
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button dateline-draft-discard";
    discard.textContent = texts.discard;
    item.appendChild(restore);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(discard);
    list.appendChild(item);
    var content = document.getElementById("content-main") || document.body;
    content.insertBefore(list, content.firstChild);
    restore.addEventListener("click", function () {
      Object.keys(fields).forEach(function (name) {
        if (typeof kept[name] === "string") fields[name].value = kept[name];
      });
      list.remove();
    });
    discard.addEventListener("click", function () {
      store.removeItem(PREFIX + key);
      list.remove();
    });
  }

  function keep(form, store) {
    var fields = inputs(form);
    var body = fields.body;
    if (!body || body.disabled || !body.dataset.draftOffer) return;
    var key = location.pathname;
    var kept = read(store, PREFIX + key);
    var differs =
      kept &&
      Object.keys(fields).some(function (name) {
        return typeof kept[name] === "string" && kept[name] !== fields[name].value;
      });
    if (differs) {
      offer(store, key, fields, kept, {
        offer: body.dataset.draftOffer,
        restore: body.dataset.draftRestore,
        discard: body.dataset.draftDiscard,
      });
    }
    var timer = null;
    function save() {
      var copy = { savedAt: Date.now() };
      Object.keys(fields).forEach(function (name) {
        copy[name] = fields[name].value;
      });
      try {
        store.setItem(PREFIX + key, JSON.stringify(copy));
      } catch (error) {
        // Quota exceeded: nothing more to do than the form already does.
      }
    }
    form.addEventListener("input", function (event) {
      if (!(event.target.name in fields)) return;
      clearTimeout(timer);
      timer = setTimeout(save, 400);
    });
    form.addEventListener("submit", function () {
      clearTimeout(timer);
      save();
      store.setItem(PENDING, key);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var store = storage();
    if (!store) return;
    clearSaved(store);
    var form = document.getElementById("post_form");
    if (form) keep(form, store);
  });
})();
