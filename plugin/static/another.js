/* "Show me another" (this-post-does-not-exist): opens a random other machine-written post of
   this site. No dependency, no request outside the site: it reads the posts index the build wrote
   (data-index, relative to the page) and weighs each post by its "weight" (1 + stars²). Without
   scripts, or on a page opened from a file (file://, which cannot fetch), the button stays hidden and
   the box's link remains; when the index cannot be read, the box says so. */
(function () {
  "use strict";

  function pick(posts, current, random) {
    var others = posts.filter(function (post) {
      return post && typeof post.url === "string" && post.url !== current && post.weight > 0;
    });
    var total = others.reduce(function (sum, post) { return sum + post.weight; }, 0);
    var left = random() * total;
    for (var i = 0; i < others.length; i++) {
      left -= others[i].weight;
      if (left < 0) { return others[i]; }
    }
    return others.length ? others[others.length - 1] : null;
  }

  function setUp(box) {
    var button = box.querySelector("button");
    var status = box.querySelector(".tpdne-another-status");
    var index = box.getAttribute("data-index");
    // Browsers do not let a page opened from a file read the index: keep the link only there.
    if (!button || !index || !window.fetch || !window.URL || location.protocol === "file:") { return; }
    var root = new URL(box.getAttribute("data-root") || "./", document.baseURI);
    var say = function (text) { if (status) { status.textContent = text; } };
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      say("");
      fetch(index, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error(response.status); }
          return response.json();
        })
        .then(function (data) {
          var post = pick((data && data.posts) || [], box.getAttribute("data-current"), Math.random);
          var target = post && new URL(post.url, root);
          if (!target || target.origin !== root.origin) {
            say("There is no other machine-written post yet.");
            button.disabled = false;
            return;
          }
          window.location.assign(target.href);
        })
        .catch(function () {
          say("The list of posts could not be read.");
          button.disabled = false;
        });
    });
  }

  var boxes = document.querySelectorAll(".tpdne-another");
  for (var i = 0; i < boxes.length; i++) { setUp(boxes[i]); }
})();
