// Starts Swagger UI on the spec the server serves next to this page. Kept out of
// index.html so the page works under a Content-Security-Policy without inline scripts.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "../openapi.json",
    dom_id: "#swagger-ui",
    persistAuthorization: true,
    validatorUrl: null,
    deepLinking: true,
  });
});
