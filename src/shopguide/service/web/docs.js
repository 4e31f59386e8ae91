// The API docs page: Swagger UI from this server (no CDN), reading this server's OpenAPI document.
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
    docExpansion: "none", presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout" });
});
