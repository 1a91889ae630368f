// Swagger UI for OCP, loaded from this server only (no CDN, no inline script).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    oauth2RedirectUrl: window.location.origin + "/docs/oauth2-redirect",
  });
});
