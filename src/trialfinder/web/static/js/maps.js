// Draws a Leaflet map for every element with a data-map attribute holding JSON:
// {sites: [{lat, lon, title, detail, href?, approximate}], tiles, attribution}, or, instead of sites, a source URL
// answering {sites: [...]} (the results map: the page does not wait for its sites).
(function () {
  "use strict";

  function text(tag, value, className) {
    var node = document.createElement(tag);
    node.textContent = value;
    if (className) { node.className = className; }
    return node;
  }

  // Popups are built from DOM nodes with textContent, so record text is never parsed as HTML.
  function popup(site) {
    var box = document.createElement("div");
    if (site.href) {
      var link = text("a", site.title);
      link.href = site.href;
      box.appendChild(link);
    } else {
      box.appendChild(text("strong", site.title));
    }
    if (site.detail) { box.appendChild(text("div", site.detail)); }
    if (site.approximate) { box.appendChild(text("div", "Approximate position (city centre)", "map-note")); }
    return box;
  }

  function render(element, data) {
    if (!data.sites || !data.sites.length) {
      var block = element.closest(".map-block");
      (block || element).hidden = true;
      return;
    }
    element.classList.add("map-ready");
    L.Icon.Default.imagePath = "/static/vendor/leaflet/images/";
    var map = L.map(element, { scrollWheelZoom: false });
    L.tileLayer(data.tiles, { maxZoom: 18, attribution: data.attribution }).addTo(map);
    var layer = typeof L.markerClusterGroup === "function" ? L.markerClusterGroup() : L.featureGroup();
    data.sites.forEach(function (site) {
      L.marker([site.lat, site.lon], { title: site.title, keyboard: true }).bindPopup(popup(site)).addTo(layer);
    });
    layer.addTo(map);
    var bounds = L.latLngBounds(data.sites.map(function (s) { return [s.lat, s.lon]; }));
    map.fitBounds(bounds.pad(0.2), { maxZoom: 11 });
  }

  function draw(element) {
    if (element.dataset.mapReady || typeof L === "undefined") { return; }
    var data;
    try { data = JSON.parse(element.dataset.map); } catch (error) { return; }
    element.dataset.mapReady = "1";
    if (!data.source) { render(element, data); return; }
    fetch(data.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { sites: [] }; })
      .then(function (answer) { data.sites = answer.sites; render(element, data); })
      .catch(function () { data.sites = []; render(element, data); });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-map]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
